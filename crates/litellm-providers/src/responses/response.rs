//! OpenAI `ChatResponse` → Responses `response` object ([`to_response`]), the echoed request
//! settings ([`ResponseEcho`]), usage, and OpenAI-shaped error bodies.

use serde_json::{json, Value};

use litellm_core::{ChatResponse, JsonMap, Usage};

use super::ids::item_id;
use super::{ResponsesInput, ResponsesRequest};

/// The request settings a `response` object repeats (the SDK types require several of them:
/// `parallel_tool_calls`, `tool_choice`, `tools`). Build it with
/// [`ResponseEcho::from_request`] before the request is consumed by
/// [`to_chat_request`](super::to_chat_request).
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseEcho {
    /// The requested model, reported when the upstream names none.
    pub model: String,
    pub instructions: Option<String>,
    pub max_output_tokens: Option<u32>,
    pub parallel_tool_calls: bool,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    /// `"auto"` unless the request set one.
    pub tool_choice: Value,
    pub tools: Vec<Value>,
    /// `{"format": {"type": "text"}}` unless the request set one.
    pub text: Value,
    /// `{"effort": null, "summary": null}` unless the request set one.
    pub reasoning: Value,
    pub metadata: JsonMap,
    pub previous_response_id: Option<String>,
    pub store: bool,
    /// `"disabled"` unless the request set one.
    pub truncation: String,
    pub user: Option<String>,
}

impl ResponseEcho {
    /// The settings of `req`, with OpenAI's defaults for those it leaves out.
    pub fn from_request(req: &ResponsesRequest) -> Self {
        let to_value = |v: Option<Value>, default: Value| v.unwrap_or(default);
        ResponseEcho {
            model: req.model.clone(),
            instructions: req.instructions.clone(),
            max_output_tokens: req.max_output_tokens,
            parallel_tool_calls: req.parallel_tool_calls.unwrap_or(true),
            temperature: req.temperature,
            top_p: req.top_p,
            tool_choice: to_value(
                req.tool_choice
                    .as_ref()
                    .and_then(|c| serde_json::to_value(c).ok()),
                json!("auto"),
            ),
            tools: req
                .tools
                .iter()
                .flatten()
                .filter_map(|t| serde_json::to_value(t).ok())
                .collect(),
            text: to_value(
                req.text.as_ref().and_then(|t| serde_json::to_value(t).ok()),
                json!({"format": {"type": "text"}}),
            ),
            reasoning: json!({
                "effort": req.reasoning.as_ref().and_then(|r| r.effort.clone()),
                "summary": req.reasoning.as_ref().and_then(|r| r.summary.clone()),
            }),
            metadata: req.metadata.clone().unwrap_or_default(),
            previous_response_id: req.previous_response_id.clone(),
            store: req.wants_store(),
            truncation: req.truncation.clone().unwrap_or_else(|| "disabled".into()),
            user: req.user.clone(),
        }
    }
}

impl ResponsesRequest {
    /// Whether `input` holds anything (a non-empty string or at least one item).
    pub fn has_input(&self) -> bool {
        match &self.input {
            None => false,
            Some(ResponsesInput::Text(t)) => !t.is_empty(),
            Some(ResponsesInput::Items(items)) => !items.is_empty(),
        }
    }
}

/// A response's `status` (and `incomplete_details`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseStatus {
    InProgress,
    Completed,
    /// `incomplete`, with the reason (`max_output_tokens` or `content_filter`).
    Incomplete(&'static str),
    /// `failed`, with the `error` object's `code` and `message`.
    Failed {
        code: &'static str,
        message: String,
    },
}

impl ResponseStatus {
    /// The status of a finished chat completion with this `finish_reason`.
    pub fn from_finish_reason(reason: Option<&str>) -> Self {
        match reason {
            Some("length") => ResponseStatus::Incomplete("max_output_tokens"),
            Some("content_filter") => ResponseStatus::Incomplete("content_filter"),
            _ => ResponseStatus::Completed,
        }
    }

    /// The `status` string.
    pub fn as_str(&self) -> &'static str {
        match self {
            ResponseStatus::InProgress => "in_progress",
            ResponseStatus::Completed => "completed",
            ResponseStatus::Incomplete(_) => "incomplete",
            ResponseStatus::Failed { .. } => "failed",
        }
    }

    /// The status of a finished message item: `incomplete` when the response is.
    pub(super) fn item_status(&self) -> &'static str {
        match self {
            ResponseStatus::Incomplete(_) | ResponseStatus::Failed { .. } => "incomplete",
            _ => "completed",
        }
    }
}

/// The Responses usage object: `input_tokens` (cached tokens included, as OpenAI counts),
/// `output_tokens` (reasoning included) and their details; `null` when unknown.
pub fn response_usage(usage: Option<&Usage>) -> Value {
    let Some(u) = usage else {
        return Value::Null;
    };
    let total = if u.total_tokens > 0 {
        u.total_tokens
    } else {
        u.prompt_tokens.saturating_add(u.completion_tokens)
    };
    json!({
        "input_tokens": u.prompt_tokens,
        "input_tokens_details": {"cached_tokens": u.cached_tokens()},
        "output_tokens": u.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens()},
        "total_tokens": total,
    })
}

/// The `response` object around `output`, with the echoed settings; `model` is the echoed
/// model when empty, and a failed status sets `error`.
pub fn response_object(
    echo: &ResponseEcho,
    id: &str,
    created_at: u64,
    model: &str,
    status: &ResponseStatus,
    output: Vec<Value>,
    usage: Value,
) -> Value {
    let model = if model.is_empty() { &echo.model } else { model };
    let incomplete = match status {
        ResponseStatus::Incomplete(reason) => json!({"reason": reason}),
        _ => Value::Null,
    };
    let error = match status {
        ResponseStatus::Failed { code, message } => json!({"code": code, "message": message}),
        _ => Value::Null,
    };
    json!({
        "id": id,
        "object": "response",
        "created_at": created_at,
        "status": status.as_str(),
        "error": error,
        "incomplete_details": incomplete,
        "instructions": echo.instructions,
        "max_output_tokens": echo.max_output_tokens,
        "model": model,
        "output": output,
        "parallel_tool_calls": echo.parallel_tool_calls,
        "previous_response_id": echo.previous_response_id,
        "reasoning": echo.reasoning,
        "store": echo.store,
        "temperature": echo.temperature,
        "text": echo.text,
        "tool_choice": echo.tool_choice,
        "tools": echo.tools,
        "top_p": echo.top_p,
        "truncation": echo.truncation,
        "usage": usage,
        "user": echo.user,
        "metadata": echo.metadata,
    })
}

/// A `reasoning` output item with one summary part.
pub(super) fn reasoning_item(id: &str, text: &str) -> Value {
    json!({"id": id, "type": "reasoning", "summary": [{"type": "summary_text", "text": text}]})
}

/// An `output_text` content part.
pub(super) fn output_text(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": []})
}

/// A `refusal` content part.
pub(super) fn refusal_part(text: &str) -> Value {
    json!({"type": "refusal", "refusal": text})
}

/// A `message` output item.
pub(super) fn message_item(id: &str, status: &str, content: Vec<Value>) -> Value {
    json!({"type": "message", "id": id, "status": status, "role": "assistant", "content": content})
}

/// A `function_call` output item.
pub(super) fn function_call_item(
    id: &str,
    status: &str,
    call_id: &str,
    name: &str,
    arguments: &str,
) -> Value {
    json!({"type": "function_call", "id": id, "call_id": call_id, "name": name,
        "arguments": arguments, "status": status})
}

/// Translates a chat completion into a Responses `response` object with id `id`: a
/// `reasoning` item (when the message has reasoning content), a `message` item (text or
/// refusal), then one `function_call` item per tool call.
pub fn to_response(chat: &ChatResponse, echo: &ResponseEcho, id: &str, created_at: u64) -> Value {
    let choice = chat.choices.first();
    let status =
        ResponseStatus::from_finish_reason(choice.and_then(|c| c.finish_reason.as_deref()));
    let mut output = Vec::new();
    if let Some(m) = choice.map(|c| &c.message) {
        if let Some(r) = m.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
            output.push(reasoning_item(&item_id("rs", id, output.len()), r));
        }
        let mut content = Vec::new();
        if let Some(t) = m.content.as_deref().filter(|t| !t.is_empty()) {
            content.push(output_text(t));
        }
        if let Some(r) = m.refusal.as_deref().filter(|r| !r.is_empty()) {
            content.push(refusal_part(r));
        }
        if !content.is_empty() {
            let item_id = item_id("msg", id, output.len());
            output.push(message_item(&item_id, status.item_status(), content));
        }
        let legacy = m.function_call.as_ref().map(|f| (None, f));
        let calls = m
            .tool_calls
            .iter()
            .flatten()
            .map(|c| (Some(&c.id), &c.function));
        for (call_id, f) in calls.chain(legacy) {
            let fc_id = item_id("fc", id, output.len());
            let call_id = call_id
                .cloned()
                .unwrap_or_else(|| format!("call_{}", &fc_id[3..]));
            output.push(function_call_item(
                &fc_id,
                "completed",
                &call_id,
                &f.name,
                &f.arguments,
            ));
        }
    }
    response_object(
        echo,
        id,
        created_at,
        &chat.model,
        &status,
        output,
        response_usage(chat.usage.as_ref()),
    )
}

/// OpenAI's error `type` for an HTTP status (as the proxy's own errors name them).
pub fn error_type_for_status(status: u16) -> &'static str {
    match status {
        401 => "auth_error",
        403 => "permission_error",
        404 => "not_found_error",
        408 => "timeout",
        429 => "rate_limit_error",
        503 => "service_unavailable_error",
        s if s >= 500 => "internal_server_error",
        _ => "invalid_request_error",
    }
}

/// OpenAI's error body `{"error": {"message", "type", "param", "code"}}`, `code` the status as
/// a string (as LiteLLM and the proxy's other routes send it).
pub fn error_body(status: u16, message: &str) -> Value {
    json!({"error": {
        "message": message,
        "type": error_type_for_status(status),
        "param": null,
        "code": status.to_string(),
    }})
}

/// The `code` of a failed response's `error` (one of the values OpenAI's `ResponseError`
/// allows).
pub(super) fn failed_code(status: u16) -> &'static str {
    match status {
        429 => "rate_limit_exceeded",
        400 | 413 | 422 => "invalid_prompt",
        _ => "server_error",
    }
}
