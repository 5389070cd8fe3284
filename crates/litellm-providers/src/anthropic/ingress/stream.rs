//! OpenAI chunks → Anthropic SSE events ([`StreamTranslator`]).

use serde_json::{json, Value};

use litellm_core::{ChatChunk, Usage};

use super::request::{block_type, str_of};
use super::response::{anthropic_usage, error_body, message_id, stop_reason};

/// One Anthropic SSE event.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvent {
    /// The `event:` name, equal to `data.type`.
    pub event: &'static str,
    pub data: Value,
}

impl StreamEvent {
    pub(super) fn new(event: &'static str, data: Value) -> Self {
        StreamEvent { event, data }
    }

    /// The event as written on the wire: `event: <name>\ndata: <json>\n\n`.
    pub fn to_sse(&self) -> String {
        format!("event: {}\ndata: {}\n\n", self.event, self.data)
    }
}

/// The block open in a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Open {
    Text,
    Thinking,
    /// A tool call, by its OpenAI tool-call index.
    Tool(u32),
}

/// Turns OpenAI chunks into Anthropic's event stream, incrementally. Feed every chunk with
/// [`StreamTranslator::push`], then call [`StreamTranslator::finish`] (the stream ended) or
/// [`StreamTranslator::fail`] (it failed). Blocks are sequential, as Anthropic's are: a new kind
/// of delta closes the open block.
#[derive(Debug)]
pub struct StreamTranslator {
    pub(super) model: String,
    pub(super) input_estimate: u64,
    pub(super) started: bool,
    pub(super) done: bool,
    pub(super) next_index: u64,
    pub(super) open: Option<Open>,
    pub(super) finish_reason: Option<String>,
    pub(super) saw_tool: bool,
    pub(super) usage: Option<Usage>,
    pub(super) output_chars: usize,
}

impl StreamTranslator {
    /// A translator; `model` is reported until a chunk names the upstream's model, and
    /// `input_estimate` is the `message_start` input count (the exact count comes in
    /// `message_delta`).
    pub fn new(model: &str, input_estimate: u64) -> Self {
        StreamTranslator {
            model: model.to_string(),
            input_estimate,
            started: false,
            done: false,
            next_index: 0,
            open: None,
            finish_reason: None,
            saw_tool: false,
            usage: None,
            output_chars: 0,
        }
    }

    /// Whether the stream has ended (`message_stop` or `error` written).
    pub fn is_done(&self) -> bool {
        self.done
    }

    pub(super) fn start(&mut self, id: &str, model: &str, out: &mut Vec<StreamEvent>) {
        if self.started {
            return;
        }
        self.started = true;
        if !model.is_empty() {
            self.model = model.to_string();
        }
        out.push(StreamEvent::new(
            "message_start",
            json!({"type": "message_start", "message": {
                "id": message_id(id),
                "type": "message",
                "role": "assistant",
                "model": self.model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": {"input_tokens": self.input_estimate, "output_tokens": 0,
                    "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
            }}),
        ));
    }

    pub(super) fn close(&mut self, out: &mut Vec<StreamEvent>) {
        if self.open.take().is_some() {
            out.push(StreamEvent::new(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": self.next_index - 1}),
            ));
        }
    }

    pub(super) fn open_block(&mut self, kind: Open, block: Value, out: &mut Vec<StreamEvent>) {
        self.close(out);
        out.push(StreamEvent::new(
            "content_block_start",
            json!({"type": "content_block_start", "index": self.next_index, "content_block": block}),
        ));
        self.next_index += 1;
        self.open = Some(kind);
    }

    pub(super) fn delta(&self, delta: Value, out: &mut Vec<StreamEvent>) {
        out.push(StreamEvent::new(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": self.next_index - 1, "delta": delta}),
        ));
    }

    /// Translates one chunk; the events it completes are appended to `out`.
    pub fn push(&mut self, chunk: &ChatChunk, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        self.start(&chunk.id, &chunk.model, out);
        if let Some(u) = &chunk.usage {
            self.usage = Some(u.clone());
        }
        let Some(choice) = chunk.choices.iter().find(|c| c.index == 0) else {
            return;
        };
        let d = &choice.delta;
        // Thinking: text, then signed and redacted blocks from `thinking_blocks`.
        if let Some(r) = d.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
            if self.open != Some(Open::Thinking) {
                self.open_block(
                    Open::Thinking,
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                    out,
                );
            }
            self.output_chars += r.len();
            self.delta(json!({"type": "thinking_delta", "thinking": r}), out);
        }
        if let Some(Value::Array(blocks)) = d.extra.get("thinking_blocks") {
            for b in blocks {
                match block_type(b) {
                    "thinking" => {
                        let Some(sig) = str_of(b, "signature").filter(|s| !s.is_empty()) else {
                            continue;
                        };
                        if self.open != Some(Open::Thinking) {
                            self.open_block(
                                Open::Thinking,
                                json!({"type": "thinking", "thinking": "", "signature": ""}),
                                out,
                            );
                        }
                        self.delta(json!({"type": "signature_delta", "signature": sig}), out);
                    }
                    "redacted_thinking" => {
                        let block = json!({"type": "redacted_thinking",
                            "data": str_of(b, "data").unwrap_or("")});
                        self.open_block(Open::Thinking, block, out);
                        self.close(out);
                    }
                    _ => {}
                }
            }
        }
        if let Some(text) = d
            .content
            .as_deref()
            .or(d.refusal.as_deref())
            .filter(|t| !t.is_empty())
        {
            if self.open != Some(Open::Text) {
                self.open_block(Open::Text, json!({"type": "text", "text": ""}), out);
            }
            self.output_chars += text.len();
            self.delta(json!({"type": "text_delta", "text": text}), out);
        }
        for call in d.tool_calls.iter().flatten() {
            let f = call.function.as_ref();
            let starts = call.id.is_some() || f.and_then(|f| f.name.as_ref()).is_some();
            if self.open != Some(Open::Tool(call.index)) {
                if !starts && self.saw_tool {
                    // A fragment of a tool call whose block was already closed (an upstream
                    // interleaving parallel calls): Anthropic's blocks cannot reopen.
                    continue;
                }
                self.saw_tool = true;
                let id = call
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("toolu_{}", uuid::Uuid::new_v4().simple()));
                let name = f.and_then(|f| f.name.clone()).unwrap_or_default();
                self.output_chars += name.len();
                self.open_block(
                    Open::Tool(call.index),
                    json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                    out,
                );
            }
            if let Some(args) = f
                .and_then(|f| f.arguments.as_deref())
                .filter(|a| !a.is_empty())
            {
                self.output_chars += args.len();
                self.delta(
                    json!({"type": "input_json_delta", "partial_json": args}),
                    out,
                );
            }
        }
        if let Some(reason) = &choice.finish_reason {
            self.finish_reason = Some(reason.clone());
            self.close(out);
        }
    }

    /// The stream ended: closes the open block and writes `message_delta` (stop reason, exact
    /// usage, or an estimate from the streamed text when the upstream reported none) and
    /// `message_stop`.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        self.start("", "", out);
        self.close(out);
        self.done = true;
        let usage = match &self.usage {
            Some(u) => anthropic_usage(Some(u)),
            None => json!({"input_tokens": self.input_estimate,
                "output_tokens": (self.output_chars as u64).div_ceil(4),
                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}),
        };
        out.push(StreamEvent::new(
            "message_delta",
            json!({"type": "message_delta",
                "delta": {"stop_reason": stop_reason(self.finish_reason.as_deref(), self.saw_tool),
                    "stop_sequence": null},
                "usage": usage}),
        ));
        out.push(StreamEvent::new(
            "message_stop",
            json!({"type": "message_stop"}),
        ));
    }

    /// The stream failed after it started: one `error` event (with the status the error would
    /// have answered with, for its type) ends it.
    pub fn fail(&mut self, status: u16, message: &str, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        self.done = true;
        out.push(StreamEvent::new("error", error_body(status, message)));
    }
}
