//! Helpers of the `*_http` tests, which drive a backend (adapter + transport) against one of the
//! in-process fake upstreams of `litellm-test-support`: building the backend, the requests the
//! tests send, running a call or a stream to its error or its chunks, and the assertions every
//! provider's default answer must pass.

use std::sync::Arc;

use futures::StreamExt;
use secrecy::SecretString;
use serde_json::Value;

use litellm_core::{
    CallContext, ChatChunk, ChatRequest, ChatResponse, EmbeddingInput, EmbeddingRequest,
    EmbeddingResponse, ErrorKind, JsonMap, LlmError, Message, ModelBackend, StreamOptions,
    ToolCall,
};
use litellm_providers::{build_backend, ProviderParams};

/// The backend of `model` at `api_base`, with `api_key` when given.
pub fn backend(model: &str, api_base: String, api_key: Option<&str>) -> Arc<dyn ModelBackend> {
    build_backend(&ProviderParams {
        model: model.into(),
        api_base: Some(api_base),
        api_key: api_key.map(SecretString::from),
        ..Default::default()
    })
    .unwrap()
}

/// The backend of these `litellm_params` (as JSON).
pub fn backend_of(params: Value) -> Arc<dyn ModelBackend> {
    let params: ProviderParams = serde_json::from_value(params).unwrap();
    build_backend(&params).unwrap()
}

/// A chat request from its JSON form.
pub fn request(v: Value) -> ChatRequest {
    serde_json::from_value(v).unwrap()
}

/// `be kind` as the system message, then `text` from the user.
pub fn chat(text: &str) -> ChatRequest {
    ChatRequest {
        model: "group".into(),
        messages: vec![Message::system("be kind"), Message::user(text)],
        ..Default::default()
    }
}

/// `req` streamed, asking for the usage chunk.
pub fn streaming(mut req: ChatRequest) -> ChatRequest {
    req.stream = Some(true);
    req.stream_options = Some(StreamOptions {
        include_usage: Some(true),
        extra: JsonMap::new(),
    });
    req
}

/// An embedding request of `input` for `model`, all options unset.
pub fn embedding(model: &str, input: EmbeddingInput) -> EmbeddingRequest {
    EmbeddingRequest::new(model, input)
}

/// The response of a chat call that succeeds.
pub async fn chat_ok(b: &Arc<dyn ModelBackend>, req: ChatRequest) -> ChatResponse {
    b.chat(req, &CallContext::default()).await.unwrap().response
}

/// The response of an embeddings call that succeeds.
pub async fn embed_ok(b: &Arc<dyn ModelBackend>, req: EmbeddingRequest) -> EmbeddingResponse {
    b.embed(req, &CallContext::default())
        .await
        .unwrap()
        .response
}

/// The error an embeddings call fails with.
pub async fn embed_error(b: &Arc<dyn ModelBackend>, req: EmbeddingRequest) -> LlmError {
    b.embed(req, &CallContext::default()).await.unwrap_err()
}

/// The error a chat call fails with.
pub async fn chat_error(b: &Arc<dyn ModelBackend>, req: ChatRequest) -> LlmError {
    b.chat(req, &CallContext::default()).await.unwrap_err()
}

/// The error a one-word chat call fails with, which must be of this kind.
pub async fn chat_fails_as(b: &Arc<dyn ModelBackend>, kind: ErrorKind) -> LlmError {
    let e = chat_error(b, chat("x")).await;
    assert_eq!(e.kind, kind, "{}", e.message);
    e
}

/// The error a stream fails to start with.
pub async fn stream_error(b: &Arc<dyn ModelBackend>, req: ChatRequest) -> LlmError {
    b.chat_stream(req, &CallContext::default())
        .await
        .err()
        .unwrap()
}

/// Every item of a stream that starts.
pub async fn stream_items(
    b: &Arc<dyn ModelBackend>,
    req: ChatRequest,
) -> Vec<Result<ChatChunk, LlmError>> {
    let out = b.chat_stream(req, &CallContext::default()).await.unwrap();
    out.stream.collect().await
}

/// The chunks of a stream that starts and ends without an error.
pub async fn stream_chunks(b: &Arc<dyn ModelBackend>, req: ChatRequest) -> Vec<ChatChunk> {
    let items = stream_items(b, req).await;
    items.into_iter().map(Result::unwrap).collect()
}

/// The text the chunks carry.
pub fn text_of(chunks: &[ChatChunk]) -> String {
    chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .filter_map(|c| c.delta.content.clone())
        .collect()
}

/// The finish reasons the chunks carry.
pub fn finish_reasons(chunks: &[ChatChunk]) -> Vec<String> {
    chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .filter_map(|c| c.finish_reason.clone())
        .collect()
}

/// The first tool call of the first choice.
pub fn first_call(r: &ChatResponse) -> &ToolCall {
    &r.choices[0].message.tool_calls.as_ref().unwrap()[0]
}

/// The stream opens the assistant's turn.
pub fn assert_opens_turn(chunks: &[ChatChunk]) {
    assert_eq!(
        chunks[0].choices[0].delta.role.as_deref(),
        Some("assistant")
    );
}

/// The response is `reply`, finished with `stop`.
pub fn assert_reply(r: &ChatResponse, reply: &str) {
    assert_eq!(r.choices[0].message.content.as_deref(), Some(reply));
    assert_eq!(r.choices[0].finish_reason.as_deref(), Some("stop"));
}

/// The response's usage counts both sides and adds up.
pub fn assert_usage_adds_up(r: &ChatResponse) {
    let usage = r.usage.as_ref().unwrap();
    assert!(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    assert_eq!(
        usage.total_tokens,
        usage.prompt_tokens + usage.completion_tokens
    );
}

/// A default streamed answer: `reply` as text, one `stop`, and a last chunk with no choice but
/// the usage.
pub fn assert_reply_stream(chunks: &[ChatChunk], reply: &str) {
    assert_eq!(text_of(chunks), reply);
    assert_eq!(finish_reasons(chunks), vec!["stop".to_string()]);
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    assert!(last.usage.as_ref().unwrap().completion_tokens > 0);
}
