//! Cohere v2 chat request translation: OpenAI messages, tools and parameters to a `/v2/chat` body.

use http::header::ACCEPT;
use http::HeaderValue;
use serde_json::{json, Value};

use litellm_core::{
    ChatRequest, Content, ContentPart, JsonMap, KnownContentPart, KnownResponseFormat, LlmError,
    Message, ResponseFormat, ToolChoice,
};

use super::wire::{CalledFunction, ChatMessage, ToolCall};
use super::{CohereAdapter, PROVIDER};
use crate::adapter_common::{
    forward_unmodelled, function_tools, put_sampling, serialize_body, unsupported_params,
    wire_value, Prepared, OPENAI_ONLY_FIELDS,
};
use crate::request_common::{unknown_tool_choice, unsupported_response_format};
use crate::upstream::UpstreamRequest;

/// Typed OpenAI parameters Cohere has no equivalent for: a 400 unless dropped.
pub(super) const UNSUPPORTED_TYPED: &[&str] = &[
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "n",
    "parallel_tool_calls",
    "reasoning_effort",
];

/// OpenAI request fields Cohere has no equivalent for: a 400 unless dropped.
pub(super) const UNSUPPORTED_EXTRA: &[&str] = OPENAI_ONLY_FIELDS;

/// Body fields the adapter builds itself; client extras and deployment defaults never set them.
pub(super) const STRUCTURAL_KEYS: &[&str] = &[
    "model",
    "messages",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "response_format",
    "texts",
    "input",
];

impl CohereAdapter {
    /// `POST {api_base}/v2/chat` for `req` (streaming when `stream`).
    pub fn build_chat_request(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        let mut headers = self.request_headers(extra_headers)?;
        if stream {
            headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        let mut body = self.translate_request(req)?;
        if stream {
            body.insert("stream".into(), Value::Bool(true));
        }
        Ok(UpstreamRequest::post(
            format!("{}/v2/chat", self.deployment.api_base),
            headers,
            serialize_body(&Value::Object(body))?,
        ))
    }

    /// The v2 chat body for `req` (without `stream`).
    pub fn translate_request(&self, req: ChatRequest) -> Result<JsonMap, LlmError> {
        let Prepared(mut req, extra_body, drop) = self.deployment.prepare(req, &[])?.refusing(
            PROVIDER,
            UNSUPPORTED_TYPED,
            UNSUPPORTED_EXTRA,
        )?;
        // Cohere has no `user` nor `metadata`: they are dropped silently.
        req.user = None;
        req.metadata = None;

        let mut body = JsonMap::new();
        body.insert("model".into(), Value::String(self.deployment.model.clone()));
        body.insert(
            "messages".into(),
            wire_value(&translate_messages(std::mem::take(&mut req.messages))?)?,
        );

        let (tools, strict) = function_tools(&mut req, PROVIDER)?;
        if !tools.is_empty() {
            body.insert("tools".into(), wire_value(&tools)?);
            if strict {
                body.insert("strict_tools".into(), Value::Bool(true));
            }
        }
        if let Some(choice) = req.tool_choice.take() {
            if let Some(mode) = tool_choice(choice, drop)? {
                body.insert("tool_choice".into(), Value::String(mode.into()));
            }
        }

        if let Some(t) = req.temperature {
            body.insert("temperature".into(), json!(t));
        }
        if let Some(p) = req.top_p {
            body.insert("p".into(), json!(p));
        }
        if let Some(k) = req.extra.remove("top_k").filter(|v| !v.is_null()) {
            body.insert("k".into(), k);
        }
        put_sampling(&req, &mut body, "max_tokens", "stop_sequences");
        if let Some(format) = req.response_format.take() {
            match format {
                ResponseFormat::Known(KnownResponseFormat::Text) => {}
                ResponseFormat::Known(KnownResponseFormat::JsonObject) => {
                    body.insert("response_format".into(), json!({"type": "json_object"}));
                }
                ResponseFormat::Known(KnownResponseFormat::JsonSchema { json_schema }) => {
                    let mut f = json!({"type": "json_object"});
                    if let Some(schema) = json_schema.schema {
                        f["json_schema"] = schema;
                    }
                    body.insert("response_format".into(), f);
                }
                ResponseFormat::Other(v) => {
                    return Err(unsupported_response_format(&v, PROVIDER));
                }
            }
        }
        forward_unmodelled(&mut body, req.extra, extra_body, STRUCTURAL_KEYS, true, &[]);
        Ok(body)
    }
}

/// `tool_choice` as Cohere's `REQUIRED`/`NONE` (`auto` is the default and sent as nothing).
pub(super) fn tool_choice(
    choice: ToolChoice,
    drop: bool,
) -> Result<Option<&'static str>, LlmError> {
    match choice {
        ToolChoice::Mode(mode) => match mode.as_str() {
            "auto" => Ok(None),
            "required" | "any" => Ok(Some("REQUIRED")),
            "none" => Ok(Some("NONE")),
            other => Err(unknown_tool_choice(other)),
        },
        ToolChoice::Named(_) | ToolChoice::Other(_) if drop => Ok(None),
        ToolChoice::Named(_) | ToolChoice::Other(_) => {
            let mut e = unsupported_params(PROVIDER, &["tool_choice"]);
            e.message = format!(
                "{} (cohere takes tool_choice none, auto or required, not a named function)",
                e.message
            );
            Err(e)
        }
    }
}

pub(super) fn user_content(content: Content, param: &str) -> Result<Value, LlmError> {
    match content {
        Content::Text(t) => Ok(Value::String(t)),
        Content::Parts(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for part in parts {
                match part {
                    ContentPart::Known(KnownContentPart::Text(t)) => {
                        out.push(json!({"type": "text", "text": t.text}));
                    }
                    ContentPart::Known(KnownContentPart::ImageUrl(img)) => {
                        let mut image = json!({ "url": img.image_url.url });
                        if let Some(d) = img.image_url.detail {
                            image["detail"] = Value::String(d);
                        }
                        out.push(json!({"type": "image_url", "image_url": image}));
                    }
                    ContentPart::Known(KnownContentPart::InputAudio(_)) => {
                        return Err(LlmError::bad_param(
                            param,
                            "cohere does not take audio input (input_audio parts)",
                        )
                        .with_provider(PROVIDER));
                    }
                    ContentPart::Known(KnownContentPart::File(_)) => {
                        return Err(LlmError::bad_param(
                            param,
                            "cohere does not take file parts; send documents with `documents`",
                        )
                        .with_provider(PROVIDER));
                    }
                    ContentPart::Other(v) => out.push(v),
                }
            }
            Ok(Value::Array(out))
        }
    }
}

/// The OpenAI messages as v2 chat messages.
pub(super) fn translate_messages(messages: Vec<Message>) -> Result<Vec<ChatMessage>, LlmError> {
    let mut out = Vec::with_capacity(messages.len());
    for (i, message) in messages.into_iter().enumerate() {
        let param = format!("messages[{i}]");
        match message {
            Message::System(m) | Message::Developer(m) => {
                out.push(ChatMessage::new("system", Value::String(m.content.text())));
            }
            Message::User(m) => {
                out.push(ChatMessage::new("user", user_content(m.content, &param)?));
            }
            Message::Assistant(m) => {
                let text = m.content.as_ref().map(Content::text).unwrap_or_default();
                let calls: Vec<ToolCall> = m
                    .tool_calls
                    .into_iter()
                    .flatten()
                    .map(|c| ToolCall {
                        id: c.id,
                        kind: "function",
                        function: CalledFunction {
                            name: c.function.name,
                            arguments: if c.function.arguments.trim().is_empty() {
                                "{}".to_string()
                            } else {
                                c.function.arguments
                            },
                        },
                    })
                    .collect();
                if calls.is_empty() && text.is_empty() {
                    continue;
                }
                out.push(ChatMessage {
                    role: "assistant",
                    tool_call_id: None,
                    content: (!text.is_empty()).then(|| Value::String(text)),
                    tool_calls: calls,
                });
            }
            Message::Tool(m) => {
                out.push(ChatMessage {
                    tool_call_id: Some(m.tool_call_id),
                    ..ChatMessage::new("tool", Value::String(m.content.text()))
                });
            }
            Message::Function(_) => {
                return Err(LlmError::bad_param(
                    param,
                    "legacy function messages are not supported by cohere; send tool messages \
                     with tool_call_id",
                )
                .with_provider(PROVIDER));
            }
        }
    }
    Ok(out)
}
