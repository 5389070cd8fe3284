//! OpenAI `ChatResponse` → Anthropic `message` ([`to_messages_response`]), stop reasons, usage and
//! error bodies.

use serde_json::{json, Value};

use litellm_core::{ChatResponse, Usage};

use super::request::{block_type, str_of};

/// A message id in Anthropic's style: the upstream's `msg_...` id, else `msg_` + the OpenAI
/// id without its `chatcmpl-` prefix.
pub fn message_id(openai_id: &str) -> String {
    if openai_id.starts_with("msg_") {
        return openai_id.to_string();
    }
    let core = openai_id.strip_prefix("chatcmpl-").unwrap_or(openai_id);
    if core.is_empty() {
        return format!("msg_{}", uuid::Uuid::new_v4().simple());
    }
    format!("msg_{core}")
}

/// An OpenAI `finish_reason` as an Anthropic `stop_reason`.
pub fn stop_reason(finish_reason: Option<&str>, has_tool_calls: bool) -> &'static str {
    match finish_reason {
        Some("length") => "max_tokens",
        Some("tool_calls") | Some("function_call") => "tool_use",
        Some("content_filter") => "refusal",
        _ if has_tool_calls => "tool_use",
        _ => "end_turn",
    }
}

/// Anthropic's usage object for our usage: `input_tokens` excludes cache reads and writes.
pub fn anthropic_usage(usage: Option<&Usage>) -> Value {
    let Some(u) = usage else {
        return json!({"input_tokens": 0, "output_tokens": 0,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0});
    };
    let raw = |k: &str| u.extra.get(k).and_then(Value::as_u64);
    let cache_read = raw("cache_read_input_tokens").unwrap_or_else(|| u.cached_tokens());
    let cache_creation =
        raw("cache_creation_input_tokens").unwrap_or_else(|| u.cache_creation_tokens());
    json!({
        "input_tokens": u.prompt_tokens.saturating_sub(cache_read.saturating_add(cache_creation)),
        "output_tokens": u.completion_tokens,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
    })
}

/// Parses tool-call arguments into an `input` object (`{}` when empty or not JSON).
pub(super) fn tool_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return json!({});
    }
    serde_json::from_str::<Value>(arguments).unwrap_or_else(|_| json!({}))
}

/// A `thinking_blocks` entry as an Anthropic content block.
pub(super) fn thinking_block(b: &Value) -> Option<Value> {
    match block_type(b) {
        "thinking" => Some(json!({
            "type": "thinking",
            "thinking": str_of(b, "thinking").unwrap_or(""),
            "signature": str_of(b, "signature").unwrap_or(""),
        })),
        "redacted_thinking" => Some(json!({
            "type": "redacted_thinking",
            "data": str_of(b, "data").unwrap_or(""),
        })),
        _ => None,
    }
}

/// Translates an OpenAI chat completion into an Anthropic `message`.
pub fn to_messages_response(resp: &ChatResponse) -> Value {
    let mut content: Vec<Value> = Vec::new();
    let mut has_tools = false;
    let choice = resp.choices.first();
    if let Some(m) = choice.map(|c| &c.message) {
        match m.extra.get("thinking_blocks") {
            Some(Value::Array(blocks)) if !blocks.is_empty() => {
                content.extend(blocks.iter().filter_map(thinking_block));
            }
            _ => {
                if let Some(r) = m.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
                    content.push(json!({"type": "thinking", "thinking": r, "signature": ""}));
                }
            }
        }
        if let Some(text) = m
            .content
            .as_deref()
            .or(m.refusal.as_deref())
            .filter(|t| !t.is_empty())
        {
            content.push(json!({"type": "text", "text": text}));
        }
        for call in m.tool_calls.iter().flatten() {
            has_tools = true;
            content.push(json!({
                "type": "tool_use",
                "id": call.id,
                "name": call.function.name,
                "input": tool_input(&call.function.arguments),
            }));
        }
    }
    json!({
        "id": message_id(&resp.id),
        "type": "message",
        "role": "assistant",
        "model": resp.model,
        "content": content,
        "stop_reason": stop_reason(choice.and_then(|c| c.finish_reason.as_deref()), has_tools),
        "stop_sequence": null,
        "usage": anthropic_usage(resp.usage.as_ref()),
    })
}

/// Anthropic's error `type` for an HTTP status.
pub fn error_type_for_status(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 | 408 => "timeout_error",
        503 | 529 => "overloaded_error",
        s if s >= 500 => "api_error",
        _ => "invalid_request_error",
    }
}

/// Anthropic's error body.
pub fn error_body(status: u16, message: &str) -> Value {
    json!({
        "type": "error",
        "error": {"type": error_type_for_status(status), "message": message},
    })
}
