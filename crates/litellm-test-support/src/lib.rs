//! litellm-test-support: dev-only helpers shared by the workspace's tests and benchmarks: the
//! in-process fake OpenAI upstream ([`FakeOpenAi`]), the fake Anthropic upstream
//! ([`FakeAnthropic`]), the fake Amazon Bedrock upstream with its binary event stream
//! ([`FakeBedrock`]), the fake Gemini / Vertex AI upstream with its token endpoint
//! ([`FakeGemini`]), the fake Cohere v2 upstream ([`FakeCohere`]), the fake Ollama server with
//! its NDJSON streams ([`FakeOllama`]), a generic scripted upstream for other URL layouts
//! ([`FakeHttp`]) and golden-file comparison ([`golden`]). The chat fakes refuse a conversation
//! history the real provider would refuse, with its status and error body ([`history`]).

pub mod fake_anthropic;
pub mod fake_bedrock;
pub mod fake_cohere;
mod fake_families;
pub mod fake_gemini;
pub mod fake_http;
pub mod fake_ollama;
pub mod fake_openai;
mod fake_script;
mod fake_server;
pub mod golden;
pub mod history;

pub use fake_anthropic::{AnthropicScript, FakeAnthropic};
pub use fake_bedrock::{BedrockFrame, BedrockScript, FakeBedrock};
pub use fake_cohere::{CohereScript, FakeCohere};
pub use fake_gemini::{FakeGemini, GeminiScript};
pub use fake_http::{FakeHttp, HttpScript};
pub use fake_ollama::{FakeOllama, OllamaScript};
pub use fake_openai::{FakeOpenAi, RecordedRequest, Scripted};
