//! OpenAI chunks → Responses SSE events ([`ResponsesStreamTranslator`]).

use bytes::Bytes;
use serde_json::{json, Value};

use litellm_core::{
    ChatChunk, ChatResponse, Choice, FunctionCall, JsonMap, ResponseMessage, ToolCall, Usage,
};

mod items;

use super::response::{
    failed_code, function_call_item, message_item, reasoning_item, response_object, response_usage,
    ResponseEcho, ResponseStatus,
};

/// The kind of the message content part being streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartKind {
    Text,
    Refusal,
}

/// The reasoning or message item being streamed (one at a time, in order).
#[derive(Debug)]
enum OpenItem {
    Reasoning {
        output_index: usize,
        id: String,
        text: String,
    },
    Message {
        output_index: usize,
        id: String,
        /// Finished parts, then the open one (last).
        parts: Vec<(PartKind, String)>,
        part_open: bool,
    },
}

/// A function call being streamed (open until the stream finishes).
#[derive(Debug)]
struct OpenCall {
    chat_index: u32,
    output_index: usize,
    id: String,
    call_id: String,
    name: String,
    arguments: String,
}

/// Turns OpenAI chunks into the Responses event stream, incrementally. Feed every chunk with
/// [`push`](Self::push), then call [`finish`](Self::finish) (the upstream stream ended) or
/// [`fail`](Self::fail) (it failed). Every event carries `type` and an increasing
/// `sequence_number` (from 0). Reasoning and message items are sequential; function calls stay
/// open until the model finishes. After `finish`, [`final_response`](Self::final_response) is
/// the `response` object (as `to_response` would build it) and
/// [`chat_response`](Self::chat_response) the accumulated chat completion (for
/// [`next_history`](super::next_history) and spend).
#[derive(Debug)]
pub struct ResponsesStreamTranslator {
    echo: ResponseEcho,
    id: String,
    created_at: u64,
    model: String,
    chat_id: String,
    input_estimate: u64,
    seq: u64,
    started: bool,
    done: bool,
    /// Output items by `output_index` (open ones as last sent).
    output: Vec<Value>,
    open: Option<OpenItem>,
    calls: Vec<OpenCall>,
    closed_calls: Vec<u32>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    text: String,
    reasoning: String,
    refusal: String,
    final_response: Option<Value>,
}

/// One event as written on the wire: `event: <type>\ndata: <json>\n\n`.
pub(super) fn sse(event: &Value) -> Bytes {
    let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
    Bytes::from(format!("event: {kind}\ndata: {event}\n\n"))
}

impl ResponsesStreamTranslator {
    /// A translator for response `id` (see [`encode_response_id`](super::encode_response_id));
    /// `input_estimate` is the input count reported when the upstream sends no usage.
    pub fn new(
        echo: ResponseEcho,
        id: impl Into<String>,
        created_at: u64,
        input_estimate: u64,
    ) -> Self {
        ResponsesStreamTranslator {
            model: echo.model.clone(),
            echo,
            id: id.into(),
            created_at,
            chat_id: String::new(),
            input_estimate,
            seq: 0,
            started: false,
            done: false,
            output: Vec::new(),
            open: None,
            calls: Vec::new(),
            closed_calls: Vec::new(),
            finish_reason: None,
            usage: None,
            text: String::new(),
            reasoning: String::new(),
            refusal: String::new(),
            final_response: None,
        }
    }

    /// Whether the stream has ended (a terminal event was written).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The final `response` object, once [`finish`](Self::finish) or [`fail`](Self::fail) ran.
    pub fn final_response(&self) -> Option<&Value> {
        self.final_response.as_ref()
    }

    fn emit(&mut self, out: &mut Vec<Value>, kind: &str, fields: Value) {
        let mut event = JsonMap::new();
        event.insert("type".into(), json!(kind));
        if let Value::Object(m) = fields {
            event.extend(m);
        }
        event.insert("sequence_number".into(), json!(self.seq));
        self.seq += 1;
        out.push(Value::Object(event));
    }

    fn snapshot(&self, status: &ResponseStatus, usage: Value) -> Value {
        response_object(
            &self.echo,
            &self.id,
            self.created_at,
            &self.model,
            status,
            self.output.clone(),
            usage,
        )
    }

    fn start(&mut self, out: &mut Vec<Value>) {
        if self.started {
            return;
        }
        self.started = true;
        let response = self.snapshot(&ResponseStatus::InProgress, Value::Null);
        self.emit(out, "response.created", json!({"response": response}));
        self.emit(out, "response.in_progress", json!({"response": response}));
    }

    fn add_item(&mut self, out: &mut Vec<Value>, item: Value) -> usize {
        let output_index = self.output.len();
        self.output.push(item.clone());
        self.emit(
            out,
            "response.output_item.added",
            json!({"output_index": output_index, "item": item}),
        );
        output_index
    }

    fn done_item(&mut self, out: &mut Vec<Value>, output_index: usize, item: Value) {
        if let Some(slot) = self.output.get_mut(output_index) {
            *slot = item.clone();
        }
        self.emit(
            out,
            "response.output_item.done",
            json!({"output_index": output_index, "item": item}),
        );
    }
}

impl ResponsesStreamTranslator {
    /// Translates one chunk into its events (as JSON), in order.
    pub fn push_events(&mut self, chunk: &ChatChunk) -> Vec<Value> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        if self.chat_id.is_empty() {
            self.chat_id.clone_from(&chunk.id);
        }
        if !chunk.model.is_empty() && !self.started {
            self.model.clone_from(&chunk.model);
        }
        self.start(&mut out);
        if let Some(u) = &chunk.usage {
            self.usage = Some(u.clone());
        }
        let Some(choice) = chunk.choices.iter().find(|c| c.index == 0) else {
            return out;
        };
        let d = &choice.delta;
        if let Some(r) = d.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
            self.reasoning_delta(&mut out, r);
        }
        if let Some(t) = d.content.as_deref().filter(|t| !t.is_empty()) {
            self.content_delta(&mut out, PartKind::Text, t);
        }
        if let Some(r) = d.refusal.as_deref().filter(|r| !r.is_empty()) {
            self.content_delta(&mut out, PartKind::Refusal, r);
        }
        for call in d.tool_calls.iter().flatten() {
            self.tool_delta(&mut out, call);
        }
        if let Some(reason) = &choice.finish_reason {
            self.finish_reason = Some(reason.clone());
            self.close_item(&mut out);
            self.close_calls(&mut out);
        }
        out
    }

    /// Translates one chunk into SSE frames.
    pub fn push(&mut self, chunk: &ChatChunk) -> Vec<Bytes> {
        self.push_events(chunk).iter().map(sse).collect()
    }

    /// The stream ended: closes open items and writes `response.completed` (or
    /// `response.incomplete` when the model stopped at `length` or `content_filter`) with the
    /// full response and its usage (estimated from the streamed text when the upstream sent
    /// none).
    pub fn finish_events(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        self.start(&mut out);
        self.close_item(&mut out);
        self.close_calls(&mut out);
        self.done = true;
        let status = ResponseStatus::from_finish_reason(self.finish_reason.as_deref());
        let usage = match &self.usage {
            Some(u) => response_usage(Some(u)),
            None => {
                let chars = self.text.len() + self.reasoning.len() + self.refusal.len();
                let args: usize = self
                    .output
                    .iter()
                    .map(|i| {
                        i.get("arguments")
                            .and_then(Value::as_str)
                            .map_or(0, str::len)
                    })
                    .sum();
                let output_tokens = ((chars + args) as u64).div_ceil(4);
                response_usage(Some(&Usage::new(self.input_estimate, output_tokens)))
            }
        };
        let response = self.snapshot(&status, usage);
        self.final_response = Some(response.clone());
        let kind = match status {
            ResponseStatus::Incomplete(_) => "response.incomplete",
            _ => "response.completed",
        };
        self.emit(&mut out, kind, json!({"response": response}));
        out
    }

    /// [`finish_events`](Self::finish_events) as SSE frames.
    pub fn finish(&mut self) -> Vec<Bytes> {
        self.finish_events().iter().map(sse).collect()
    }

    /// The stream failed: one `response.failed` event whose response has status `failed` and
    /// `error: {"code", "message"}` (`code` from `status`: `rate_limit_exceeded` for 429,
    /// `invalid_prompt` for 400, else `server_error`); items still open are reported
    /// `incomplete`.
    pub fn fail_events(&mut self, status: u16, message: &str) -> Vec<Value> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        self.start(&mut out);
        self.done = true;
        if let Some(open) = self.open.take() {
            let (index, item) = match open {
                OpenItem::Reasoning {
                    output_index,
                    id,
                    text,
                } => (output_index, reasoning_item(&id, &text)),
                OpenItem::Message {
                    output_index,
                    id,
                    parts,
                    ..
                } => {
                    let content = items::message_content(&parts);
                    (output_index, message_item(&id, "incomplete", content))
                }
            };
            self.output[index] = item;
        }
        for c in std::mem::take(&mut self.calls) {
            self.output[c.output_index] =
                function_call_item(&c.id, "incomplete", &c.call_id, &c.name, &c.arguments);
        }
        let failed = ResponseStatus::Failed {
            code: failed_code(status),
            message: message.to_string(),
        };
        let usage = response_usage(self.usage.as_ref());
        let response = self.snapshot(&failed, usage);
        self.final_response = Some(response.clone());
        self.emit(&mut out, "response.failed", json!({"response": response}));
        out
    }

    /// [`fail_events`](Self::fail_events) as SSE frames.
    pub fn fail(&mut self, status: u16, message: &str) -> Vec<Bytes> {
        self.fail_events(status, message).iter().map(sse).collect()
    }

    /// The streamed completion as one chat response (text, reasoning, refusal, tool calls in
    /// output order, finish reason, usage).
    pub fn chat_response(&self) -> ChatResponse {
        let tool_calls: Vec<ToolCall> = self
            .output
            .iter()
            .filter(|i| i.get("type").and_then(Value::as_str) == Some("function_call"))
            .map(|i| {
                let s = |k: &str| i.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                ToolCall {
                    id: s("call_id"),
                    kind: "function".into(),
                    function: FunctionCall {
                        name: s("name"),
                        arguments: s("arguments"),
                    },
                }
            })
            .collect();
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        ChatResponse {
            id: self.chat_id.clone(),
            object: "chat.completion".into(),
            created: self.created_at,
            model: self.model.clone(),
            choices: vec![Choice {
                index: 0,
                message: ResponseMessage {
                    role: "assistant".into(),
                    content: non_empty(&self.text),
                    tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                    function_call: None,
                    refusal: non_empty(&self.refusal),
                    reasoning_content: non_empty(&self.reasoning),
                    extra: JsonMap::new(),
                },
                finish_reason: self.finish_reason.clone(),
                logprobs: None,
                extra: JsonMap::new(),
            }],
            usage: self.usage.clone(),
            system_fingerprint: None,
            service_tier: None,
            extra: JsonMap::new(),
        }
    }
}

/// `base` with the fields of `extra` added.
fn merge(base: &Value, extra: Value) -> Value {
    let mut m = base.as_object().cloned().unwrap_or_default();
    if let Value::Object(e) = extra {
        m.extend(e);
    }
    Value::Object(m)
}
