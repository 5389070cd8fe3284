//! The item machinery of [`ResponsesStreamTranslator`]: opening, filling and closing the
//! reasoning, message (text and refusal parts) and function-call items.

use serde_json::{json, Value};

use super::super::ids::item_id;
use super::super::response::{
    function_call_item, message_item, output_text, reasoning_item, refusal_part, ResponseStatus,
};
use super::{merge, OpenCall, OpenItem, PartKind, ResponsesStreamTranslator};

/// A message item's content parts as JSON.
pub(super) fn message_content(parts: &[(PartKind, String)]) -> Vec<Value> {
    parts
        .iter()
        .map(|(k, t)| match k {
            PartKind::Text => output_text(t),
            PartKind::Refusal => refusal_part(t),
        })
        .collect()
}

impl ResponsesStreamTranslator {
    pub(super) fn close_part(&mut self, out: &mut Vec<Value>) {
        let Some(OpenItem::Message {
            output_index,
            id,
            parts,
            part_open,
        }) = &mut self.open
        else {
            return;
        };
        if !*part_open {
            return;
        }
        *part_open = false;
        let (output_index, id) = (*output_index, id.clone());
        let content_index = parts.len() - 1;
        let (kind, text) = parts[content_index].clone();
        let base = json!({"item_id": id, "output_index": output_index,
            "content_index": content_index});
        let (done_kind, extra, part) = match kind {
            PartKind::Text => (
                "response.output_text.done",
                json!({"text": text, "logprobs": []}),
                output_text(&text),
            ),
            PartKind::Refusal => (
                "response.refusal.done",
                json!({"refusal": text}),
                refusal_part(&text),
            ),
        };
        self.emit(out, done_kind, merge(&base, extra));
        self.emit(
            out,
            "response.content_part.done",
            merge(&base, json!({"part": part})),
        );
    }

    /// Closes the open reasoning or message item.
    pub(super) fn close_item(&mut self, out: &mut Vec<Value>) {
        self.close_part(out);
        match self.open.take() {
            None => {}
            Some(OpenItem::Reasoning {
                output_index,
                id,
                text,
            }) => {
                let base = json!({"item_id": id, "output_index": output_index, "summary_index": 0});
                self.emit(
                    out,
                    "response.reasoning_summary_text.done",
                    merge(&base, json!({"text": text})),
                );
                self.emit(
                    out,
                    "response.reasoning_summary_part.done",
                    merge(
                        &base,
                        json!({"part": {"type": "summary_text", "text": text}}),
                    ),
                );
                self.done_item(out, output_index, reasoning_item(&id, &text));
            }
            Some(OpenItem::Message {
                output_index,
                id,
                parts,
                ..
            }) => {
                let status = ResponseStatus::from_finish_reason(self.finish_reason.as_deref());
                let item = message_item(&id, status.item_status(), message_content(&parts));
                self.done_item(out, output_index, item);
            }
        }
    }

    pub(super) fn close_calls(&mut self, out: &mut Vec<Value>) {
        for call in std::mem::take(&mut self.calls) {
            self.closed_calls.push(call.chat_index);
            self.emit(
                out,
                "response.function_call_arguments.done",
                json!({"item_id": call.id, "output_index": call.output_index,
                    "name": call.name, "arguments": call.arguments}),
            );
            let item = function_call_item(
                &call.id,
                "completed",
                &call.call_id,
                &call.name,
                &call.arguments,
            );
            self.done_item(out, call.output_index, item);
        }
    }

    pub(super) fn reasoning_delta(&mut self, out: &mut Vec<Value>, delta: &str) {
        if !matches!(self.open, Some(OpenItem::Reasoning { .. })) {
            self.close_item(out);
            let id = item_id("rs", &self.id, self.output.len());
            let output_index =
                self.add_item(out, json!({"id": id, "type": "reasoning", "summary": []}));
            self.emit(
                out,
                "response.reasoning_summary_part.added",
                json!({"item_id": id, "output_index": output_index, "summary_index": 0,
                    "part": {"type": "summary_text", "text": ""}}),
            );
            self.open = Some(OpenItem::Reasoning {
                output_index,
                id,
                text: String::new(),
            });
        }
        let Some(OpenItem::Reasoning {
            output_index,
            id,
            text,
        }) = &mut self.open
        else {
            return;
        };
        text.push_str(delta);
        let fields = json!({"item_id": id, "output_index": output_index, "summary_index": 0,
            "delta": delta});
        self.reasoning.push_str(delta);
        self.emit(out, "response.reasoning_summary_text.delta", fields);
    }

    pub(super) fn content_delta(&mut self, out: &mut Vec<Value>, kind: PartKind, delta: &str) {
        if !matches!(self.open, Some(OpenItem::Message { .. })) {
            self.close_item(out);
            let id = item_id("msg", &self.id, self.output.len());
            let output_index = self.add_item(out, message_item(&id, "in_progress", Vec::new()));
            self.open = Some(OpenItem::Message {
                output_index,
                id,
                parts: Vec::new(),
                part_open: false,
            });
        }
        let current = match &self.open {
            Some(OpenItem::Message {
                parts, part_open, ..
            }) if *part_open => parts.last().map(|p| p.0),
            _ => None,
        };
        if current != Some(kind) {
            self.close_part(out);
            if let Some(OpenItem::Message {
                output_index,
                id,
                parts,
                part_open,
            }) = &mut self.open
            {
                parts.push((kind, String::new()));
                *part_open = true;
                let part = match kind {
                    PartKind::Text => output_text(""),
                    PartKind::Refusal => refusal_part(""),
                };
                let fields = json!({"item_id": id, "output_index": output_index,
                    "content_index": parts.len() - 1, "part": part});
                self.emit(out, "response.content_part.added", fields);
            }
        }
        let Some(OpenItem::Message {
            output_index,
            id,
            parts,
            ..
        }) = &mut self.open
        else {
            return;
        };
        let content_index = parts.len() - 1;
        parts[content_index].1.push_str(delta);
        let base = json!({"item_id": id, "output_index": output_index,
            "content_index": content_index, "delta": delta});
        match kind {
            PartKind::Text => {
                self.text.push_str(delta);
                self.emit(
                    out,
                    "response.output_text.delta",
                    merge(&base, json!({"logprobs": []})),
                );
            }
            PartKind::Refusal => {
                self.refusal.push_str(delta);
                self.emit(out, "response.refusal.delta", base);
            }
        }
    }

    pub(super) fn tool_delta(&mut self, out: &mut Vec<Value>, call: &litellm_core::ToolCallDelta) {
        if self.closed_calls.contains(&call.index) {
            return;
        }
        let f = call.function.as_ref();
        let pos = match self.calls.iter().position(|c| c.chat_index == call.index) {
            Some(p) => p,
            None => {
                let id = item_id("fc", &self.id, self.output.len());
                let call_id = call
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("call_{}", &id[3..]));
                let name = f.and_then(|f| f.name.clone()).unwrap_or_default();
                let item = function_call_item(&id, "in_progress", &call_id, &name, "");
                let output_index = self.add_item(out, item);
                self.calls.push(OpenCall {
                    chat_index: call.index,
                    output_index,
                    id,
                    call_id,
                    name,
                    arguments: String::new(),
                });
                self.calls.len() - 1
            }
        };
        let open = &mut self.calls[pos];
        if let Some(name) = f.and_then(|f| f.name.as_deref()) {
            if open.name.is_empty() {
                open.name = name.to_string();
            }
        }
        if let Some(args) = f
            .and_then(|f| f.arguments.as_deref())
            .filter(|a| !a.is_empty())
        {
            open.arguments.push_str(args);
            let fields = json!({"item_id": open.id, "output_index": open.output_index,
                "delta": args});
            self.emit(out, "response.function_call_arguments.delta", fields);
        }
    }
}
