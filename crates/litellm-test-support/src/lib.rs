//! litellm-test-support: dev-only helpers shared by the workspace's tests and benchmarks: the
//! in-process fake OpenAI upstream ([`FakeOpenAi`]), the fake Anthropic upstream
//! ([`FakeAnthropic`]), a generic scripted upstream for other URL layouts ([`FakeHttp`]) and
//! golden-file comparison ([`golden`]).

pub mod fake_anthropic;
pub mod fake_http;
pub mod fake_openai;
pub mod golden;

pub use fake_anthropic::{AnthropicScript, FakeAnthropic};
pub use fake_http::{FakeHttp, HttpScript};
pub use fake_openai::{FakeOpenAi, RecordedRequest, Scripted};
