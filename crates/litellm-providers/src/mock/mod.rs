//! The built-in `mock` provider (LiteLLM's `mock_response`): answers without any network call.
//!
//! Used by `mock/<model>` deployments and by any deployment (or request) that sets
//! `mock_response`. Behaviour, chosen to be deterministic and cheap (the benchmark quickstart
//! runs through it):
//! - Chat answers `mock_response` when set; otherwise it echoes the last user message as
//!   `This is a mock response to: <text>` (`This is a mock response.` without one).
//! - `mock_response` equal to `litellm.RateLimitError`, `litellm.AuthenticationError`,
//!   `litellm.PermissionDeniedError`, `litellm.NotFoundError`, `litellm.BadRequestError`,
//!   `litellm.ContextWindowExceededError`, `litellm.ContentPolicyViolationError`,
//!   `litellm.Timeout`, `litellm.APIConnectionError`, `litellm.InternalServerError` or
//!   `litellm.ServiceUnavailableError` fails with that kind, as an upstream error with the
//!   matching HTTP status.
//! - Usage is an estimate: prompt tokens `3 + Σ over messages (4 + ⌈chars/4⌉)`, completion
//!   tokens `max(1, ⌈chars/4⌉)` of the answer, where chars counts Unicode scalar values.
//! - Streams split the answer into words (each keeping its leading space); the first chunk
//!   carries `delta.role = "assistant"`, the last content chunk `finish_reason: "stop"`, and with
//!   `stream_options.include_usage` a final chunk has `choices: []` and the usage.
//! - Embeddings are deterministic unit vectors seeded by a hash of each input text: 16
//!   dimensions unless the request sets `dimensions`; `encoding_format` `base64` is honoured.
//! - Rerank, moderations and image generation answer locally (`families.rs`).
//! - `provider()` reports the provider named by the model prefix (`openai` for
//!   `openai/gpt-4o` with `mock_response`, as LiteLLM does), `mock` for `mock/...`.

use litellm_core::{
    unix_now, ChatChunk, ChatOutput, ChatRequest, ChatResponse, ChatStreamOutput, Choice,
    ChunkChoice, Delta, Embedding, EmbeddingOutput, EmbeddingRequest, EmbeddingResponse,
    EmbeddingVector, ErrorKind, Family, FamilyOutput, FamilyRequest, JsonMap, LlmError, Message,
    ModelBackend, ResponseMessage, Usage,
};

use crate::backend_calls::boxed_backend_calls;

mod families;
use crate::response_common::embedding_list;

/// Embedding size when the request does not set `dimensions`.
pub const DEFAULT_EMBEDDING_DIMENSIONS: u32 = 16;

/// Largest `dimensions` the mock accepts.
const MAX_EMBEDDING_DIMENSIONS: u32 = 8192;

/// A backend that answers locally.
#[derive(Debug, Clone)]
pub struct MockBackend {
    provider: String,
    model: String,
    api_base: Option<String>,
    response: Option<String>,
}

impl MockBackend {
    /// A mock for `model` (prefix stripped) reporting `provider`, answering `response` (or
    /// echoing when `None`).
    pub fn new(
        provider: impl Into<String>,
        model: impl Into<String>,
        api_base: Option<String>,
        response: Option<String>,
    ) -> Self {
        MockBackend {
            provider: provider.into(),
            model: model.into(),
            api_base,
            response,
        }
    }

    fn answer_for(&self, req: &ChatRequest) -> Result<String, LlmError> {
        let configured = request_mock_response(req).or(self.response.as_deref());
        match configured {
            Some(text) => match mock_error(text, &self.provider) {
                Some(err) => Err(err),
                None => Ok(text.to_string()),
            },
            None => Ok(echo(req)),
        }
    }
}

/// A `mock_response` the client put in the request body (LiteLLM accepts it per call).
pub fn request_mock_response(req: &ChatRequest) -> Option<&str> {
    req.extra.get("mock_response").and_then(|v| v.as_str())
}

fn echo(req: &ChatRequest) -> String {
    let last_user = req.messages.iter().rev().find_map(|m| match m {
        Message::User(_) => Some(m.text()),
        _ => None,
    });
    match last_user {
        Some(text) => format!("This is a mock response to: {text}"),
        None => "This is a mock response.".to_string(),
    }
}

/// The error a `mock_response` names (`litellm.RateLimitError`, ...), if it names one.
pub fn mock_error(mock_response: &str, provider: &str) -> Option<LlmError> {
    let (kind, status) = match mock_response.trim() {
        "litellm.RateLimitError" => (ErrorKind::RateLimited, 429),
        "litellm.AuthenticationError" => (ErrorKind::Authentication, 401),
        "litellm.PermissionDeniedError" => (ErrorKind::PermissionDenied, 403),
        "litellm.NotFoundError" => (ErrorKind::NotFound, 404),
        "litellm.BadRequestError" => (ErrorKind::BadRequest, 400),
        "litellm.ContextWindowExceededError" => (ErrorKind::ContextWindowExceeded, 400),
        "litellm.ContentPolicyViolationError" => (ErrorKind::ContentPolicyViolation, 400),
        "litellm.Timeout" => (ErrorKind::Timeout, 408),
        "litellm.APIConnectionError" => (ErrorKind::ApiConnection, 500),
        "litellm.InternalServerError" => (ErrorKind::InternalServer, 500),
        "litellm.ServiceUnavailableError" => (ErrorKind::ServiceUnavailable, 503),
        _ => return None,
    };
    Some(
        LlmError::upstream(
            kind,
            format!("This is a mock {} (mock_response)", kind.litellm_class()),
        )
        .with_status(status)
        .with_provider(provider),
    )
}

fn tokens_for(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

/// The mock's prompt-token estimate: `3 + Σ (4 + ⌈chars/4⌉)` over the messages.
pub fn estimate_prompt_tokens(messages: &[Message]) -> u64 {
    3 + messages
        .iter()
        .map(|m| 4 + tokens_for(&m.text()))
        .sum::<u64>()
}

/// The mock's completion-token estimate: `max(1, ⌈chars/4⌉)`.
pub fn estimate_completion_tokens(text: &str) -> u64 {
    tokens_for(text).max(1)
}

fn chat_id() -> String {
    format!("chatcmpl-{}", uuid::Uuid::new_v4().simple())
}

/// A complete mock chat response.
pub fn mock_chat_response(text: String, model: &str, req: &ChatRequest) -> ChatResponse {
    let usage = Usage::new(
        estimate_prompt_tokens(&req.messages),
        estimate_completion_tokens(&text),
    );
    ChatResponse {
        id: chat_id(),
        object: "chat.completion".into(),
        created: unix_now(),
        model: model.to_string(),
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage::text(text),
            finish_reason: Some("stop".into()),
            logprobs: None,
            extra: JsonMap::new(),
        }],
        usage: Some(usage),
        system_fingerprint: None,
        service_tier: None,
        extra: JsonMap::new(),
    }
}

/// The chunks of a mock stream (see the module doc for their shape).
pub fn mock_chat_chunks(text: &str, model: &str, req: &ChatRequest) -> Vec<ChatChunk> {
    let id = chat_id();
    let created = unix_now();
    let words = split_words(text);
    let last = words.len().saturating_sub(1);
    let mut chunks: Vec<ChatChunk> = words
        .iter()
        .enumerate()
        .map(|(i, word)| {
            let mut chunk = ChatChunk::new(id.clone(), created, model);
            chunk.choices.push(ChunkChoice {
                index: 0,
                delta: Delta {
                    role: (i == 0).then(|| "assistant".to_string()),
                    content: Some((*word).to_string()),
                    ..Default::default()
                },
                finish_reason: (i == last).then(|| "stop".to_string()),
                logprobs: None,
                extra: JsonMap::new(),
            });
            chunk
        })
        .collect();
    if req.wants_stream_usage() {
        let mut chunk = ChatChunk::new(id, created, model);
        chunk.usage = Some(Usage::new(
            estimate_prompt_tokens(&req.messages),
            estimate_completion_tokens(text),
        ));
        chunks.push(chunk);
    }
    chunks
}

/// Splits text into words, each keeping the whitespace before it; never empty (an empty text
/// gives one empty piece).
fn split_words(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if in_word {
                pieces.push(&text[start..i]);
                start = i;
                in_word = false;
            }
        } else {
            in_word = true;
        }
    }
    if start < text.len() || pieces.is_empty() {
        pieces.push(&text[start..]);
    }
    pieces
}

/// A deterministic unit vector for `text` (FNV-1a seed, SplitMix64 stream).
pub fn mock_embedding(text: &str, dimensions: u32) -> Vec<f32> {
    let mut seed: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        seed ^= u64::from(*b);
        seed = seed.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut v: Vec<f32> = (0..dimensions)
        .map(|_| {
            seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            // The top 24 bits as a float in [-1, 1).
            ((z >> 40) as f32 / (1u64 << 23) as f32) - 1.0
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// A mock embeddings response for `req`.
pub fn mock_embedding_response(
    req: &EmbeddingRequest,
    model: &str,
) -> Result<EmbeddingResponse, LlmError> {
    let base64 = match req.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(LlmError::bad_param(
                "encoding_format",
                format!("encoding_format must be 'float' or 'base64', got {other:?}"),
            ))
        }
    };
    let dimensions = req.dimensions.unwrap_or(DEFAULT_EMBEDDING_DIMENSIONS);
    if dimensions == 0 || dimensions > MAX_EMBEDDING_DIMENSIONS {
        return Err(LlmError::bad_param(
            "dimensions",
            format!("dimensions must be between 1 and {MAX_EMBEDDING_DIMENSIONS}"),
        ));
    }
    let texts = req.input.texts();
    let prompt_tokens = texts.iter().map(|t| tokens_for(t).max(1)).sum();
    let data = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let v = EmbeddingVector::Float(mock_embedding(t, dimensions));
            Embedding {
                object: "embedding".into(),
                index: i as u32,
                embedding: if base64 { v.into_base64() } else { v },
            }
        })
        .collect();
    Ok(embedding_list(data, model, prompt_tokens))
}

impl ModelBackend for MockBackend {
    fn provider(&self) -> &str {
        &self.provider
    }

    fn api_base(&self) -> Option<&str> {
        self.api_base.as_deref()
    }

    fn serves(&self, _family: Family) -> bool {
        true
    }

    boxed_backend_calls! {
        ready chat(ChatRequest) -> ChatOutput = chat_now;
        ready chat_stream(ChatRequest) -> ChatStreamOutput = chat_stream_now;
        ready embed(EmbeddingRequest) -> EmbeddingOutput = embed_now;
        ready family(FamilyRequest) -> FamilyOutput = family_now;
    }
}

/// The answers, given at once.
impl MockBackend {
    fn chat_now(&self, req: ChatRequest) -> Result<ChatOutput, LlmError> {
        self.answer_for(&req).map(|text| ChatOutput {
            response: mock_chat_response(text, &self.model, &req),
            upstream_headers: Vec::new(),
        })
    }

    fn chat_stream_now(&self, req: ChatRequest) -> Result<ChatStreamOutput, LlmError> {
        self.answer_for(&req).map(|text| {
            let chunks = mock_chat_chunks(&text, &self.model, &req);
            ChatStreamOutput {
                stream: Box::pin(futures::stream::iter(chunks.into_iter().map(Ok))),
                upstream_headers: Vec::new(),
            }
        })
    }

    /// The deployment's `mock_response` when it names an error.
    fn configured_error(&self) -> Option<LlmError> {
        self.response
            .as_deref()
            .and_then(|r| mock_error(r, &self.provider))
    }

    fn embed_now(&self, req: EmbeddingRequest) -> Result<EmbeddingOutput, LlmError> {
        match self.configured_error() {
            Some(err) => Err(err),
            None => mock_embedding_response(&req, &self.model).map(|response| EmbeddingOutput {
                response,
                upstream_headers: Vec::new(),
            }),
        }
    }

    fn family_now(&self, req: FamilyRequest) -> Result<FamilyOutput, LlmError> {
        match self.configured_error() {
            Some(err) => Err(err),
            None => families::answer(&req, &self.model),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_leading_space_and_rejoin_exactly() {
        for text in ["Hello from the mock", "  two  spaces ", "", "one", "a\nb"] {
            let words = split_words(text);
            assert_eq!(words.concat(), text, "{text:?}");
            assert!(!words.is_empty());
        }
        assert_eq!(
            split_words("Hello from  the"),
            vec!["Hello", " from", "  the"]
        );
    }

    #[test]
    fn embeddings_are_deterministic_unit_vectors() {
        let a = mock_embedding("hello", 16);
        assert_eq!(a, mock_embedding("hello", 16));
        assert_ne!(a, mock_embedding("hellp", 16));
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
        assert_eq!(mock_embedding("x", 3).len(), 3);
    }

    #[test]
    fn token_estimates_follow_the_documented_formula() {
        // "hi" is 1 token, "hello world" (11 chars) is 3.
        let msgs = vec![Message::system("hi"), Message::user("hello world")];
        assert_eq!(estimate_prompt_tokens(&msgs), 3 + (4 + 1) + (4 + 3));
        assert_eq!(estimate_completion_tokens(""), 1);
        assert_eq!(estimate_completion_tokens("abcde"), 2);
    }

    #[test]
    fn only_named_litellm_errors_are_errors() {
        assert_eq!(
            mock_error("litellm.RateLimitError", "mock").map(|e| (e.kind, e.status)),
            Some((ErrorKind::RateLimited, Some(429)))
        );
        assert!(mock_error("RateLimitError", "mock").is_none());
        assert!(mock_error("Hello", "mock").is_none());
    }
}
