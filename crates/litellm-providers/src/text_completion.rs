//! OpenAI's legacy Completions API (`POST /v1/completions`) served over Chat Completions, as
//! LiteLLM serves it for chat models: the `prompt` becomes one user message, the answer a
//! `text_completion` object (and a stream `text_completion` chunks). Sans-IO; the proxy's
//! `routes/completions.rs` drives it.
//!
//! Reference: <https://platform.openai.com/docs/api-reference/completions/create>.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use litellm_core::{wire_struct, ChatChunk, ChatRequest, ChatResponse, JsonMap, LlmError, Usage};

wire_struct! {
    /// `POST /v1/completions` request body; fields we do not model stay in `extra` (LiteLLM's own
    /// keys among them reach the chat request).
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    pub struct CompletionRequest {
        pub model: String,
        /// A string, or a list of one string.
        pub prompt?: Value,
        pub suffix?: String,
        pub max_tokens?: u32,
        pub stream?: bool,
        pub stream_options?: Value,
        /// Echo the prompt before the completion.
        pub echo?: bool,
        pub user?: String,
        pub best_of?: u32,
        /// `temperature`, `top_p`, `n`, `stop`, `presence_penalty`, `frequency_penalty`,
        /// `logit_bias`, `seed`, `logprobs`, and everything else.
        #[serde(flatten)]
        pub extra: JsonMap,
    }
}

/// Chat parameters a completion request shares with a chat request, forwarded as they are.
const SHARED: &[&str] = &[
    "temperature",
    "top_p",
    "n",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "seed",
    "metadata",
];

impl CompletionRequest {
    /// Whether the client asked for a stream.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether a stream should end with a usage chunk (`stream_options.include_usage`).
    pub fn wants_stream_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// The prompt's text: a string, or a list holding one string. A batch of prompts or token
    /// ids is a 400 naming `prompt`.
    pub fn prompt_text(&self) -> Result<&str, LlmError> {
        match &self.prompt {
            Some(Value::String(s)) => Ok(s),
            Some(Value::Array(items)) => match items.as_slice() {
                [Value::String(s)] => Ok(s),
                [] => Err(LlmError::bad_param("prompt", "prompt must not be empty")),
                [Value::String(_), ..] => Err(LlmError::bad_param(
                    "prompt",
                    "a list of several prompts is not supported on this model; send one prompt per request",
                )),
                _ => Err(LlmError::bad_param(
                    "prompt",
                    "token-id prompts are not supported on this model; send the prompt as text",
                )),
            },
            Some(_) => Err(LlmError::bad_param(
                "prompt",
                "prompt must be a string or a list of strings",
            )),
            None => Err(LlmError::bad_param("prompt", "prompt is a required parameter")),
        }
    }

    /// The text echoed before the completion (`echo: true`).
    pub fn echoed(&self) -> Option<String> {
        self.echo
            .unwrap_or(false)
            .then(|| self.prompt_text().unwrap_or_default().to_string())
    }
}

/// Translates a completion request into a chat request with the prompt as one user message.
pub fn to_chat_request(req: &CompletionRequest) -> Result<ChatRequest, LlmError> {
    let prompt = req.prompt_text()?;
    if req.suffix.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(LlmError::bad_param(
            "suffix",
            "suffix (insertion) is not supported when a chat model serves /v1/completions",
        ));
    }
    if req.best_of.is_some_and(|b| b > 1) {
        return Err(LlmError::bad_param(
            "best_of",
            "best_of above 1 is not supported when a chat model serves /v1/completions",
        ));
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    body.insert(
        "messages".into(),
        json!([{"role": "user", "content": prompt}]),
    );
    if let Some(m) = req.max_tokens {
        body.insert("max_tokens".into(), json!(m));
    }
    if let Some(u) = &req.user {
        body.insert("user".into(), json!(u));
    }
    if req.is_stream() {
        body.insert("stream".into(), json!(true));
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    for (k, v) in &req.extra {
        if k == "logprobs" {
            // Completions' `logprobs: n` is chat's `logprobs: true, top_logprobs: n`.
            if let Some(n) = v.as_u64() {
                body.insert("logprobs".into(), json!(true));
                body.insert("top_logprobs".into(), json!(n));
            }
        } else if SHARED.contains(&k.as_str()) || crate::is_internal_param(k) {
            body.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(Value::Object(body))
        .map_err(|e| LlmError::bad_param("prompt", format!("invalid request field: {e}")))
}

/// A completion id from a chat completion's (`chatcmpl-x` → `cmpl-x`).
fn completion_id(chat_id: &str) -> String {
    match chat_id.strip_prefix("chatcmpl-") {
        Some(rest) => format!("cmpl-{rest}"),
        None => chat_id.to_string(),
    }
}

/// Translates a chat completion into a `text_completion` object; `echoed` is prepended to the
/// first choice's text (`echo: true`).
pub fn to_text_completion(chat: &ChatResponse, echoed: Option<&str>) -> Value {
    let choices: Vec<Value> = chat
        .choices
        .iter()
        .map(|c| {
            let text = c.message.content.as_deref().unwrap_or_default();
            let text = format!("{}{text}", echoed.unwrap_or_default());
            completion_choice(text, c.index, &c.logprobs, &c.finish_reason)
        })
        .collect();
    let usage = chat.usage.as_ref();
    let mut out = completion_object(&chat.id, chat.created, &chat.model, choices, usage);
    if let Some(f) = &chat.system_fingerprint {
        out["system_fingerprint"] = json!(f);
    }
    out
}

/// One `text_completion` choice.
fn completion_choice(
    text: String,
    index: u32,
    logprobs: &Option<Value>,
    finish_reason: &Option<String>,
) -> Value {
    json!({
        "text": text,
        "index": index,
        "logprobs": logprobs,
        "finish_reason": finish_reason,
    })
}

/// A `text_completion` object (or chunk) of the chat answer `chat_id`, with the usage totals
/// when given.
fn completion_object(
    chat_id: &str,
    created: u64,
    model: &str,
    choices: Vec<Value>,
    usage: Option<&Usage>,
) -> Value {
    let mut out = json!({
        "id": completion_id(chat_id),
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": choices,
    });
    if let Some(u) = usage {
        out["usage"] = json!({
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "total_tokens": u.total_tokens,
        });
    }
    out
}

/// Turns chat chunks into `text_completion` chunks.
#[derive(Debug, Clone, Default)]
pub struct TextCompletionStream {
    /// Sent as the first text (`echo: true`); taken once.
    echoed: Option<String>,
    /// Whether the client asked for the usage chunk.
    include_usage: bool,
}

impl TextCompletionStream {
    pub fn new(echoed: Option<String>, include_usage: bool) -> Self {
        TextCompletionStream {
            echoed,
            include_usage,
        }
    }

    /// The `text_completion` chunk for a chat chunk; `None` when it carries nothing the client
    /// wants (a role-only delta, or usage the client did not ask for).
    pub fn chunk(&mut self, c: &ChatChunk) -> Option<Value> {
        let mut choices = Vec::new();
        for ch in &c.choices {
            let mut text = ch.delta.content.clone().unwrap_or_default();
            if ch.index == 0 {
                if let Some(e) = self.echoed.take() {
                    text.insert_str(0, &e);
                }
            }
            if text.is_empty() && ch.finish_reason.is_none() {
                continue;
            }
            choices.push(completion_choice(
                text,
                ch.index,
                &ch.logprobs,
                &ch.finish_reason,
            ));
        }
        let usage = c.usage.as_ref().filter(|_| self.include_usage);
        if choices.is_empty() && usage.is_none() {
            return None;
        }
        Some(completion_object(
            &c.id, c.created, &c.model, choices, usage,
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Reason: a panic is the desired failure mode in tests.
mod tests {
    use super::*;

    fn req(v: Value) -> CompletionRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_prompt_becomes_one_user_message_with_the_shared_parameters() {
        let chat = to_chat_request(&req(json!({"model": "m", "prompt": ["Say this is a test"],
            "max_tokens": 7, "temperature": 0.5, "stop": ["\n"], "logprobs": 2, "stream": true,
            "mock_response": "x", "best_of": 1})))
        .unwrap();
        let v = serde_json::to_value(&chat).unwrap();
        assert_eq!(
            v["messages"],
            json!([{"role": "user", "content": "Say this is a test"}])
        );
        assert_eq!(v["max_tokens"], 7);
        assert_eq!(v["temperature"], 0.5);
        assert_eq!(v["stop"], json!(["\n"]));
        assert_eq!(v["logprobs"], true);
        assert_eq!(v["top_logprobs"], 2);
        assert_eq!(v["stream_options"]["include_usage"], true);
        assert_eq!(v["mock_response"], "x");
        assert!(v.get("best_of").is_none());
    }

    #[test]
    fn prompts_a_chat_model_cannot_take_are_refused_by_name() {
        for (body, needle) in [
            (json!({"model": "m"}), "required"),
            (
                json!({"model": "m", "prompt": ["a", "b"]}),
                "several prompts",
            ),
            (json!({"model": "m", "prompt": [[1, 2]]}), "token-id"),
            (json!({"model": "m", "prompt": 5}), "string"),
            (
                json!({"model": "m", "prompt": "a", "suffix": "z"}),
                "suffix",
            ),
            (
                json!({"model": "m", "prompt": "a", "best_of": 3}),
                "best_of",
            ),
        ] {
            let e = to_chat_request(&req(body.clone())).unwrap_err();
            assert!(e.message.contains(needle), "{body}: {}", e.message);
        }
    }

    #[test]
    fn a_chat_answer_becomes_a_text_completion_with_the_echo() {
        let chat: ChatResponse = serde_json::from_value(json!({
            "id": "chatcmpl-9", "object": "chat.completion", "created": 5, "model": "up",
            "choices": [{"index": 0, "finish_reason": "length",
                         "message": {"role": "assistant", "content": " world"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
        }))
        .unwrap();
        assert_eq!(
            to_text_completion(&chat, Some("hello")),
            json!({"id": "cmpl-9", "object": "text_completion", "created": 5, "model": "up",
                   "choices": [{"text": "hello world", "index": 0, "logprobs": null,
                                "finish_reason": "length"}],
                   "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})
        );
    }

    #[test]
    fn chunks_become_text_completion_chunks() {
        let chunk = |delta: Value, finish: Value, usage: Value| -> ChatChunk {
            let mut c = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk",
                "created": 1, "model": "up",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
            if !usage.is_null() {
                c["choices"] = json!([]);
                c["usage"] = usage;
            }
            serde_json::from_value(c).unwrap()
        };
        let mut s = TextCompletionStream::new(Some("Q: ".into()), false);
        assert_eq!(
            s.chunk(&chunk(
                json!({"role": "assistant"}),
                Value::Null,
                Value::Null
            )),
            Some(
                json!({"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "up",
                        "choices": [{"text": "Q: ", "index": 0, "logprobs": null,
                                     "finish_reason": null}]})
            )
        );
        let c = s
            .chunk(&chunk(json!({"content": "Hi"}), Value::Null, Value::Null))
            .unwrap();
        assert_eq!(c["choices"][0]["text"], "Hi");
        let c = s
            .chunk(&chunk(json!({}), json!("stop"), Value::Null))
            .unwrap();
        assert_eq!(c["choices"][0]["finish_reason"], "stop");
        let usage = json!({"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2});
        assert_eq!(s.chunk(&chunk(json!({}), Value::Null, usage.clone())), None);
        let mut wants = TextCompletionStream::new(None, true);
        let c = wants.chunk(&chunk(json!({}), Value::Null, usage)).unwrap();
        assert_eq!(c["usage"]["total_tokens"], 2);
        assert_eq!(c["choices"], json!([]));
    }
}
