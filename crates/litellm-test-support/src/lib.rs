//! litellm-test-support: dev-only helpers shared by the workspace's tests and benchmarks: the
//! in-process fake OpenAI upstream ([`FakeOpenAi`]) and golden-file comparison ([`golden`]).

pub mod fake_openai;
pub mod golden;

pub use fake_openai::{FakeOpenAi, RecordedRequest, Scripted};
