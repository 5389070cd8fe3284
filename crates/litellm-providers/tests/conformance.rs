//! The provider conformance suite: for every provider of the capability matrix
//! (`litellm_providers::docs::capabilities`, also rendered into `docs/providers.md`), every
//! capability declared `Supported` is exercised through `build_backend` against that provider's
//! fake upstream (which speaks its wire format), and every one declared `Refused` must fail with a
//! clear 400 before anything is sent. Capabilities: chat, stream, tools, tool result, image
//! input, JSON mode, embeddings, usage, the mapping of upstream 401 / 429 / 500 /
//! context-window errors, and the JSON families (rerank, moderations, image generation).
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::{json, Value};

use litellm_core::{
    CallContext, ChatChunk, ChatRequest, EmbeddingInput, EmbeddingRequest, ErrorKind, Family,
    FamilyRequest, LlmError, ModelBackend,
};
use litellm_providers::docs::{capabilities, Support, CAPABILITIES, MATRIX_PROVIDERS};
use litellm_providers::{build_backend, ProviderParams};
use litellm_test_support::{
    AnthropicScript, BedrockScript, CohereScript, FakeAnthropic, FakeBedrock, FakeCohere,
    FakeGemini, FakeHttp, FakeOllama, FakeOpenAi, GeminiScript, HttpScript, OllamaScript,
    RecordedRequest, Scripted,
};

/// The upstream errors every provider maps.
#[derive(Debug, Clone, Copy)]
enum Failure {
    Auth,
    RateLimit,
    Server,
    ContextWindow,
}

impl Failure {
    fn kind(self) -> ErrorKind {
        match self {
            Failure::Auth => ErrorKind::Authentication,
            Failure::RateLimit => ErrorKind::RateLimited,
            Failure::Server => ErrorKind::InternalServer,
            Failure::ContextWindow => ErrorKind::ContextWindowExceeded,
        }
    }
}

/// A provider's fake upstream.
enum Fake {
    OpenAi(FakeOpenAi),
    Azure(FakeHttp),
    Anthropic(FakeAnthropic),
    Gemini(FakeGemini),
    Bedrock(FakeBedrock),
    Cohere(FakeCohere),
    Ollama(FakeOllama),
    None,
}

struct Fixture {
    provider: &'static str,
    fake: Fake,
}

fn params(v: Value) -> ProviderParams {
    serde_json::from_value(v).unwrap()
}

fn openai_completion(message: Value, finish: &str) -> Value {
    json!({"id": "chatcmpl-conf", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}})
}

fn openai_tool_message() -> Value {
    json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_1",
        "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":\"rust\"}"}}]})
}

fn openai_error(status: u16, message: &str, kind: &str, code: Option<&str>) -> Value {
    let _ = status;
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

fn openai_failure(f: Failure) -> (u16, Value) {
    match f {
        Failure::Auth => (
            401,
            openai_error(
                401,
                "Incorrect API key",
                "invalid_request_error",
                Some("invalid_api_key"),
            ),
        ),
        Failure::RateLimit => (
            429,
            openai_error(429, "Rate limit", "requests", Some("rate_limit_exceeded")),
        ),
        Failure::Server => (
            500,
            openai_error(500, "The server had an error", "server_error", None),
        ),
        Failure::ContextWindow => (
            400,
            openai_error(
                400,
                "This model's maximum context length is 128000 tokens.",
                "invalid_request_error",
                Some("context_length_exceeded"),
            ),
        ),
    }
}

impl Fixture {
    async fn start(provider: &'static str) -> Fixture {
        let fake = match provider {
            "openai" | "openai-compatible" => Fake::OpenAi(FakeOpenAi::start().await),
            "azure" => Fake::Azure(FakeHttp::start().await),
            "anthropic" => Fake::Anthropic(FakeAnthropic::start().await),
            "gemini" | "vertex_ai" => Fake::Gemini(FakeGemini::start().await),
            "bedrock" => Fake::Bedrock(FakeBedrock::start().await),
            "cohere" => Fake::Cohere(FakeCohere::start().await),
            "ollama" | "ollama_chat" => Fake::Ollama(FakeOllama::start().await),
            _ => Fake::None,
        };
        Fixture { provider, fake }
    }

    fn base(&self) -> String {
        match &self.fake {
            Fake::OpenAi(f) => f.base_url(),
            Fake::Azure(f) => f.base_url(),
            Fake::Anthropic(f) => f.base_url(),
            Fake::Gemini(f) => f.base_url(),
            Fake::Bedrock(f) => f.base_url(),
            Fake::Cohere(f) => f.base_url(),
            Fake::Ollama(f) => f.base_url(),
            Fake::None => String::new(),
        }
    }

    /// The backend for chat (`embeddings`: for embeddings).
    fn backend(&self, embeddings: bool) -> Arc<dyn ModelBackend> {
        let base = self.base();
        let p = match (self.provider, embeddings) {
            ("openai", _) => {
                params(json!({"model": "openai/gpt-4o", "api_base": base, "api_key": "sk-conf"}))
            }
            ("openai-compatible", _) => params(
                json!({"model": "together_ai/meta-llama/Llama-3-8b", "api_base": base, "api_key": "tg-conf"}),
            ),
            ("azure", _) => params(
                json!({"model": "azure/my-deployment", "api_base": base, "api_key": "az-conf", "api_version": "2024-10-21"}),
            ),
            ("anthropic", _) => params(
                json!({"model": "anthropic/claude-sonnet-4-5", "api_base": base, "api_key": "sk-ant-conf"}),
            ),
            ("gemini", _) => params(
                json!({"model": "gemini/gemini-2.0-flash", "api_base": base, "api_key": "AIza-conf"}),
            ),
            ("vertex_ai", _) => {
                let Fake::Gemini(f) = &self.fake else {
                    unreachable!()
                };
                params(
                    json!({"model": "vertex_ai/gemini-2.0-flash", "api_base": base,
                    "vertex_location": "us-central1", "vertex_credentials": f.service_account_json()}),
                )
            }
            ("bedrock", e) => params(json!({
                "model": if e { "bedrock/amazon.titan-embed-text-v2:0" } else { "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0" },
                "api_base": base, "aws_access_key_id": "AKIDCONF", "aws_secret_access_key": "conf-secret",
                "aws_region_name": "us-east-1"})),
            ("cohere", e) => params(
                json!({"model": if e { "cohere/embed-english-v3.0" } else { "cohere/command-r" }, "api_base": base, "api_key": "co-conf"}),
            ),
            ("ollama", _) => params(json!({"model": "ollama/llama3", "api_base": base})),
            ("ollama_chat", _) => {
                params(json!({"model": "ollama_chat/llama3.1", "api_base": base}))
            }
            _ => params(json!({"model": "mock/anything"})),
        };
        build_backend(&p).unwrap()
    }

    fn requests(&self) -> Vec<RecordedRequest> {
        match &self.fake {
            Fake::OpenAi(f) => f.requests(),
            Fake::Azure(f) => f.requests(),
            Fake::Anthropic(f) => f.requests(),
            Fake::Gemini(f) => f
                .requests()
                .into_iter()
                .filter(|r| !r.path.starts_with("/token"))
                .collect(),
            Fake::Bedrock(f) => f.requests(),
            Fake::Cohere(f) => f.requests(),
            Fake::Ollama(f) => f.requests(),
            Fake::None => Vec::new(),
        }
    }

    /// The body the upstream last received, as text.
    fn last_body(&self) -> String {
        self.requests()
            .last()
            .map(|r| r.body.to_string())
            .unwrap_or_default()
    }

    /// Azure's fake answers only what is queued: the default answers of the next call.
    fn prepare(&self, stream: bool, embeddings: bool) {
        let Fake::Azure(f) = &self.fake else { return };
        if embeddings {
            f.push(HttpScript::ok(json!({"object": "list", "model": "e",
                "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]},
                    {"object": "embedding", "index": 1, "embedding": [0.3, 0.4]}],
                "usage": {"prompt_tokens": 2, "total_tokens": 2}})));
        } else if stream {
            let chunk = |delta: Value, finish: Value, usage: Value| {
                format!(
                    "data: {}\n\n",
                    json!({"id": "c", "object": "chat.completion.chunk",
                    "created": 1, "model": "m", "choices": if usage.is_null() {
                        json!([{"index": 0, "delta": delta, "finish_reason": finish}]) } else { json!([]) },
                    "usage": usage})
                )
            };
            f.push(HttpScript::Sse(vec![
                chunk(
                    json!({"role": "assistant", "content": "Hi"}),
                    Value::Null,
                    Value::Null,
                ),
                chunk(json!({"content": " there"}), Value::Null, Value::Null),
                chunk(json!({}), json!("stop"), Value::Null),
                chunk(
                    Value::Null,
                    Value::Null,
                    json!({"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}),
                ),
                "data: [DONE]\n\n".to_string(),
            ]));
        } else {
            f.push(HttpScript::ok(openai_completion(
                json!({"role": "assistant", "content": "Hi there"}),
                "stop",
            )));
        }
    }

    /// The next chat answer calls `lookup` with `{"q": "rust"}`.
    fn script_tool_call(&self) {
        match &self.fake {
            Fake::OpenAi(f) => f.push(Scripted::Json(openai_completion(openai_tool_message(), "tool_calls"))),
            Fake::Azure(f) => f.push(HttpScript::ok(openai_completion(openai_tool_message(), "tool_calls"))),
            Fake::Anthropic(f) => f.push(AnthropicScript::Json(json!({"id": "msg_1", "type": "message",
                "role": "assistant", "model": "claude", "content": [{"type": "tool_use", "id": "toolu_1",
                "name": "lookup", "input": {"q": "rust"}}], "stop_reason": "tool_use", "stop_sequence": null,
                "usage": {"input_tokens": 5, "output_tokens": 3}}))),
            Fake::Gemini(f) => f.push(GeminiScript::Json(json!({"candidates": [{"content": {"role": "model",
                "parts": [{"functionCall": {"name": "lookup", "args": {"q": "rust"}}}]},
                "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 3, "totalTokenCount": 8}}))),
            Fake::Bedrock(f) => f.push(BedrockScript::Json(json!({"output": {"message": {"role": "assistant",
                "content": [{"toolUse": {"toolUseId": "tooluse_1", "name": "lookup", "input": {"q": "rust"}}}]}},
                "stopReason": "tool_use", "usage": {"inputTokens": 5, "outputTokens": 3, "totalTokens": 8}}))),
            Fake::Cohere(f) => f.push(CohereScript::Json(json!({"id": "c1", "finish_reason": "TOOL_CALL",
                "message": {"role": "assistant", "tool_calls": [{"id": "lookup_1", "type": "function",
                "function": {"name": "lookup", "arguments": "{\"q\":\"rust\"}"}}]},
                "usage": {"tokens": {"input_tokens": 5, "output_tokens": 3}}}))),
            Fake::Ollama(f) => f.push(OllamaScript::Json(json!({"model": "llama3.1", "created_at": "2025-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "lookup",
                "arguments": {"q": "rust"}}}]}, "done": true, "done_reason": "stop",
                "prompt_eval_count": 5, "eval_count": 3}))),
            Fake::None => {}
        }
    }

    /// The next answer is this failure, in the provider's error format.
    fn script_failure(&self, failure: Failure) {
        match &self.fake {
            Fake::OpenAi(f) => {
                let (s, b) = openai_failure(failure);
                f.push(Scripted::status(s, b));
            }
            Fake::Azure(f) => {
                let (s, b) = openai_failure(failure);
                f.push(HttpScript::status(s, b));
            }
            Fake::Anthropic(f) => f.push(match failure {
                Failure::Auth => AnthropicScript::error(401, "authentication_error", "invalid x-api-key"),
                Failure::RateLimit => AnthropicScript::error(429, "rate_limit_error", "Number of requests has exceeded your rate limit"),
                Failure::Server => AnthropicScript::error(500, "api_error", "Internal server error"),
                Failure::ContextWindow => AnthropicScript::error(400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"),
            }),
            Fake::Gemini(f) => f.push(match failure {
                Failure::Auth => GeminiScript::error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."),
                Failure::RateLimit => GeminiScript::error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
                Failure::Server => GeminiScript::error(500, "INTERNAL", "An internal error has occurred."),
                Failure::ContextWindow => GeminiScript::error(400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."),
            }),
            Fake::Bedrock(f) => f.push(match failure {
                Failure::Auth => BedrockScript::error(403, "UnrecognizedClientException", "The security token included in the request is invalid."),
                Failure::RateLimit => BedrockScript::error(429, "ThrottlingException", "Too many requests, please wait before trying again."),
                Failure::Server => BedrockScript::error(500, "InternalServerException", "The server encountered an internal error."),
                Failure::ContextWindow => BedrockScript::error(400, "ValidationException", "Input is too long for requested model."),
            }),
            Fake::Cohere(f) => f.push(match failure {
                Failure::Auth => CohereScript::error(401, "invalid api token"),
                Failure::RateLimit => CohereScript::error(429, "You are using a Trial key, which is limited to 10 API calls / minute."),
                Failure::Server => CohereScript::error(500, "internal server error"),
                Failure::ContextWindow => CohereScript::error(400, "too many tokens: total number of tokens in the prompt cannot exceed 128000"),
            }),
            Fake::Ollama(f) => f.push(match failure {
                Failure::Auth => OllamaScript::error(401, "unauthorized"),
                Failure::RateLimit => OllamaScript::error(429, "too many requests"),
                Failure::Server => OllamaScript::error(500, "llama runner process has terminated"),
                Failure::ContextWindow => OllamaScript::error(400, "the input length exceeds the context length"),
            }),
            Fake::None => {}
        }
    }
}

/// The family of a family capability, with a request of it and what its answer must hold.
fn family_case(cap: &str) -> Option<(Family, Value, &'static str)> {
    Some(match cap {
        "rerank" => (
            Family::Rerank,
            json!({"model": "r", "query": "red apple", "documents": ["a pear", "one red apple"],
                   "top_n": 1}),
            "results",
        ),
        "moderations" => (
            Family::Moderation,
            json!({"model": "m", "input": "hi"}),
            "results",
        ),
        "images" => (
            Family::ImageGeneration,
            json!({"model": "i", "prompt": "a cat"}),
            "data",
        ),
        _ => return None,
    })
}

/// A family call of `family` with `body` on the provider's chat deployment.
async fn family_call(
    fx: &Fixture,
    family: Family,
    body: &Value,
) -> Result<litellm_core::FamilyOutput, LlmError> {
    let req = FamilyRequest {
        family,
        body: body.as_object().cloned().unwrap_or_default(),
    };
    fx.backend(false).family(req, &CallContext::default()).await
}

fn request(v: Value) -> ChatRequest {
    serde_json::from_value(v).unwrap()
}

fn hello() -> ChatRequest {
    request(json!({"model": "g", "messages": [{"role": "user", "content": "Say hello"}]}))
}

fn tools_request() -> ChatRequest {
    request(
        json!({"model": "g", "messages": [{"role": "user", "content": "Look up rust"}],
        "tools": [{"type": "function", "function": {"name": "lookup", "description": "Search",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}]}),
    )
}

fn embedding_request() -> EmbeddingRequest {
    EmbeddingRequest::new("e", EmbeddingInput::Texts(vec!["one".into(), "two".into()]))
}

async fn chat(fx: &Fixture, req: ChatRequest) -> Result<litellm_core::ChatResponse, LlmError> {
    fx.prepare(false, false);
    fx.backend(false)
        .chat(req, &CallContext::default())
        .await
        .map(|o| o.response)
}

async fn stream(fx: &Fixture, mut req: ChatRequest) -> Result<Vec<ChatChunk>, LlmError> {
    fx.prepare(true, false);
    req.stream = Some(true);
    req.stream_options = serde_json::from_value(json!({"include_usage": true})).unwrap();
    let out = fx
        .backend(false)
        .chat_stream(req, &CallContext::default())
        .await?;
    out.stream.collect::<Vec<_>>().await.into_iter().collect()
}

/// Runs one capability check; `Err` is the failure report.
async fn check(fx: &Fixture, cap: &str) -> Result<(), String> {
    let ctx = |what: &str| format!("{} {cap}: {what}", fx.provider);
    match cap {
        "chat" => {
            let r = chat(fx, hello()).await.map_err(|e| ctx(&e.to_string()))?;
            let text = r.choices[0].message.content.clone().unwrap_or_default();
            (!text.is_empty() && r.choices[0].finish_reason.as_deref() == Some("stop"))
                .then_some(())
                .ok_or_else(|| ctx(&format!("unexpected answer {r:?}")))
        }
        "stream" => {
            let chunks = stream(fx, hello()).await.map_err(|e| ctx(&e.to_string()))?;
            let text: String = chunks
                .iter()
                .filter_map(|c| c.choices.first()?.delta.content.clone())
                .collect();
            let finished = chunks.iter().any(|c| {
                c.choices.first().and_then(|c| c.finish_reason.as_deref()) == Some("stop")
            });
            (!text.is_empty() && finished)
                .then_some(())
                .ok_or_else(|| ctx(&format!("text {text:?}, finished {finished}")))
        }
        "tools" => {
            fx.script_tool_call();
            let r = chat(fx, tools_request())
                .await
                .map_err(|e| ctx(&e.to_string()))?;
            let calls = r.choices[0].message.tool_calls.clone().unwrap_or_default();
            let ok = calls.len() == 1
                && calls[0].function.name == "lookup"
                && serde_json::from_str::<Value>(&calls[0].function.arguments).ok()
                    == Some(json!({"q": "rust"}))
                && r.choices[0].finish_reason.as_deref() == Some("tool_calls");
            ok.then_some(()).ok_or_else(|| ctx(&format!("{r:?}")))
        }
        "tool result" => {
            let mut req = tools_request();
            let more: Vec<litellm_core::Message> = serde_json::from_value(json!([
                {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "lookup", "arguments": "{\"q\":\"rust\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "Rust is a systems language"}
            ]))
            .unwrap();
            req.messages.extend(more);
            if let Some(Support::Refused(_)) = capabilities(fx.provider).map(|c| c[2]) {
                // Without tools the history is still sent (as text, for `ollama/`).
                req.tools = None;
            }
            chat(fx, req).await.map_err(|e| ctx(&e.to_string()))?;
            let body = fx.last_body();
            body.contains("Rust is a systems language")
                .then_some(())
                .ok_or_else(|| ctx(&format!("tool result not sent: {body}")))
        }
        "image input" => {
            let req = request(
                json!({"model": "g", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}]}),
            );
            chat(fx, req).await.map_err(|e| ctx(&e.to_string()))?;
            let body = fx.last_body();
            // Bedrock sends the decoded bytes re-encoded: the same base64.
            body.contains("iVBORw0KGgo")
                .then_some(())
                .ok_or_else(|| ctx(&format!("image not sent: {body}")))
        }
        "JSON mode" => {
            let mut req = hello();
            req.response_format = serde_json::from_value(json!({"type": "json_object"})).unwrap();
            chat(fx, req).await.map_err(|e| ctx(&e.to_string()))?;
            let body = fx.last_body().to_ascii_lowercase();
            body.contains("json")
                .then_some(())
                .ok_or_else(|| ctx(&format!("JSON mode not sent: {body}")))
        }
        "embeddings" => {
            fx.prepare(false, true);
            let out = fx
                .backend(true)
                .embed(embedding_request(), &CallContext::default())
                .await
                .map_err(|e| ctx(&e.to_string()))?;
            (out.response.data.len() == 2)
                .then_some(())
                .ok_or_else(|| ctx(&format!("{:?}", out.response)))
        }
        "usage" => {
            let r = chat(fx, hello()).await.map_err(|e| ctx(&e.to_string()))?;
            let u = r.usage.ok_or_else(|| ctx("no usage"))?;
            let chunks = stream(fx, hello()).await.map_err(|e| ctx(&e.to_string()))?;
            let su = chunks
                .last()
                .and_then(|c| c.usage.clone())
                .ok_or_else(|| ctx("no usage chunk"))?;
            let ok = u.prompt_tokens > 0
                && u.completion_tokens > 0
                && u.total_tokens == u.prompt_tokens + u.completion_tokens
                && su.completion_tokens > 0;
            ok.then_some(())
                .ok_or_else(|| ctx(&format!("{u:?} / {su:?}")))
        }
        "401" | "429" | "500" | "context window" => {
            let failure = match cap {
                "401" => Failure::Auth,
                "429" => Failure::RateLimit,
                "500" => Failure::Server,
                _ => Failure::ContextWindow,
            };
            fx.script_failure(failure);
            let e = match fx
                .backend(false)
                .chat(hello(), &CallContext::default())
                .await
            {
                Ok(r) => return Err(ctx(&format!("succeeded: {:?}", r.response))),
                Err(e) => e,
            };
            (e.kind == failure.kind() && e.provider.is_some())
                .then_some(())
                .ok_or_else(|| {
                    ctx(&format!(
                        "{:?} (expected {:?}): {}",
                        e.kind,
                        failure.kind(),
                        e.message
                    ))
                })
        }
        "rerank" | "moderations" | "images" => {
            let Some((family, body, holds)) = family_case(cap) else {
                return Err(ctx("no case"));
            };
            if let Fake::Azure(f) = &fx.fake {
                f.push(HttpScript::ok(match family {
                    Family::ImageGeneration => json!({"created": 1, "data": [{"url": "u"}]}),
                    _ => json!({"id": "modr-1", "model": "m", "results": [{"flagged": false}]}),
                }));
            }
            let out = family_call(fx, family, &body)
                .await
                .map_err(|e| ctx(&e.to_string()))?;
            let path = fx.requests().last().map(|r| r.path.clone());
            let sent_to = path.unwrap_or_default();
            let answered = out.body.get(holds).and_then(Value::as_array);
            let ok = answered.is_some_and(|a| !a.is_empty())
                && (fx.provider == "mock" || sent_to.contains(family.openai_path()));
            ok.then_some(())
                .ok_or_else(|| ctx(&format!("sent to {sent_to:?}, answered {:?}", out.body)))
        }
        other => Err(format!("unknown capability {other}")),
    }
}

/// A refused capability fails with a 400 before anything is sent.
async fn check_refused(fx: &Fixture, cap: &str) -> Result<(), String> {
    let before = fx.requests().len();
    let result = match cap {
        "embeddings" => fx
            .backend(true)
            .embed(embedding_request(), &CallContext::default())
            .await
            .map(|_| ()),
        "tools" => fx
            .backend(false)
            .chat(tools_request(), &CallContext::default())
            .await
            .map(|_| ()),
        "rerank" | "moderations" | "images" => {
            let Some((family, body, _)) = family_case(cap) else {
                return Err(format!("{}: no case for {cap}", fx.provider));
            };
            if fx.backend(false).serves(family) {
                return Err(format!(
                    "{} {cap}: declared refused, but served",
                    fx.provider
                ));
            }
            family_call(fx, family, &body).await.map(|_| ())
        }
        other => return Err(format!("{}: no refusal check for {other}", fx.provider)),
    };
    match result {
        Err(e) if e.kind == ErrorKind::BadRequest && fx.requests().len() == before => Ok(()),
        other => Err(format!(
            "{} {cap}: expected a 400 before sending, got {other:?}",
            fx.provider
        )),
    }
}

#[tokio::test]
async fn every_provider_does_what_it_declares() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for provider in MATRIX_PROVIDERS {
        let caps = capabilities(provider).unwrap();
        for (cap, support) in CAPABILITIES.iter().zip(caps) {
            // A fresh fake per check: scripted answers never leak between checks.
            let fx = Fixture::start(provider).await;
            let result = match support {
                Support::Supported => check(&fx, cap).await,
                Support::Refused(_) => check_refused(&fx, cap).await,
                Support::Unsupported(_) => continue,
            };
            checked += 1;
            if let Err(e) = result {
                failures.push(e);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "conformance failures:\n{}",
        failures.join("\n")
    );
    assert!(checked >= 100, "only {checked} checks ran");
}

#[test]
fn every_native_provider_is_in_the_matrix() {
    for kind in litellm_providers::ProviderKind::ALL {
        assert!(
            capabilities(kind.name()).is_some(),
            "{} has no row in the capability matrix",
            kind.name()
        );
    }
    assert!(capabilities("openai-compatible").is_some());
}
