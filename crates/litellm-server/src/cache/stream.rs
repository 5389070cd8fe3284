//! The response cache and streams: a cached chat completion replayed as SSE chunks, and
//! [`StreamCapture`], which rebuilds a streamed answer so it can fill the cache.

use std::collections::BTreeMap;

use bytes::Bytes;

use litellm_core::JsonMap;

use super::{CachePlan, ResponseCache};

/// A cached chat completion replayed as an SSE stream: one chunk with the role and the whole
/// message, one with the finish reason, a usage chunk when the client asked for one, `[DONE]`.
pub fn chat_response_as_sse(resp: &litellm_core::ChatResponse, include_usage: bool) -> Vec<Bytes> {
    use litellm_core::{ChatChunk, ChunkChoice, Delta, FunctionCallDelta, ToolCallDelta};
    let chunk = |choices: Vec<ChunkChoice>, usage: Option<litellm_core::Usage>| ChatChunk {
        id: resp.id.clone(),
        object: "chat.completion.chunk".to_string(),
        created: resp.created,
        model: resp.model.clone(),
        choices,
        usage,
        system_fingerprint: resp.system_fingerprint.clone(),
        extra: JsonMap::new(),
    };
    let mut chunks = Vec::new();
    let content: Vec<ChunkChoice> = resp
        .choices
        .iter()
        .map(|c| ChunkChoice {
            index: c.index,
            delta: Delta {
                role: Some(c.message.role.clone()),
                content: c.message.content.clone(),
                reasoning_content: c.message.reasoning_content.clone(),
                tool_calls: c.message.tool_calls.as_ref().map(|calls| {
                    calls
                        .iter()
                        .enumerate()
                        .map(|(i, t)| ToolCallDelta {
                            index: i as u32,
                            id: Some(t.id.clone()),
                            kind: Some(t.kind.clone()),
                            function: Some(FunctionCallDelta {
                                name: Some(t.function.name.clone()),
                                arguments: Some(t.function.arguments.clone()),
                            }),
                        })
                        .collect()
                }),
                function_call: None,
                refusal: c.message.refusal.clone(),
                extra: JsonMap::new(),
            },
            finish_reason: None,
            logprobs: None,
            extra: JsonMap::new(),
        })
        .collect();
    chunks.push(chunk(content, None));
    let finish: Vec<ChunkChoice> = resp
        .choices
        .iter()
        .map(|c| ChunkChoice {
            index: c.index,
            delta: Delta::default(),
            finish_reason: c.finish_reason.clone(),
            logprobs: None,
            extra: JsonMap::new(),
        })
        .collect();
    chunks.push(chunk(finish, None));
    if include_usage {
        if let Some(u) = &resp.usage {
            chunks.push(chunk(Vec::new(), Some(u.clone())));
        }
    }
    let mut out: Vec<Bytes> = chunks
        .iter()
        .filter_map(|c| serde_json::to_string(c).ok())
        .map(|j| Bytes::from(format!("data: {j}\n\n")))
        .collect();
    out.push(Bytes::from_static(b"data: [DONE]\n\n"));
    out
}

/// Rebuilds a `chat.completion` from a stream's chunks so a streamed answer can fill the cache:
/// content, reasoning and tool-call fragments are joined per choice, with the finish reason and
/// usage. A stream that ends in an error is never stored.
#[derive(Debug)]
pub struct StreamCapture {
    pub plan: CachePlan,
    id: String,
    created: u64,
    model: String,
    system_fingerprint: Option<String>,
    choices: BTreeMap<u32, CapturedChoice>,
    usage: Option<litellm_core::Usage>,
    bytes: usize,
    max_bytes: usize,
}

#[derive(Debug, Default)]
struct CapturedChoice {
    role: Option<String>,
    content: Option<String>,
    reasoning: Option<String>,
    refusal: Option<String>,
    finish_reason: Option<String>,
    tool_calls: BTreeMap<u32, (String, String, String, String)>,
}

fn append(into: &mut Option<String>, piece: &Option<String>) -> usize {
    match piece {
        Some(p) => {
            into.get_or_insert_with(String::new).push_str(p);
            p.len()
        }
        None => 0,
    }
}

impl StreamCapture {
    /// A capture for a stream whose answer is to be stored under `plan` (`None` when the plan
    /// does not write). Answers larger than the cache's per-item bound are not kept.
    pub fn new(cache: Option<&ResponseCache>, plan: Option<&CachePlan>) -> Option<StreamCapture> {
        let (cache, plan) = (cache?, plan?);
        if !plan.write {
            return None;
        }
        Some(StreamCapture {
            plan: plan.clone(),
            id: String::new(),
            created: 0,
            model: String::new(),
            system_fingerprint: None,
            choices: BTreeMap::new(),
            usage: None,
            bytes: 0,
            max_bytes: cache.settings.max_item_bytes,
        })
    }

    /// Takes in one chunk; returns false once the answer is too large to keep.
    pub fn observe(&mut self, chunk: &litellm_core::ChatChunk) -> bool {
        if self.id.is_empty() {
            self.id = chunk.id.clone();
            self.created = chunk.created;
        }
        if self.model.is_empty() && !chunk.model.is_empty() {
            self.model = chunk.model.clone();
        }
        if chunk.system_fingerprint.is_some() {
            self.system_fingerprint = chunk.system_fingerprint.clone();
        }
        if let Some(u) = &chunk.usage {
            self.usage = Some(u.clone());
        }
        for c in &chunk.choices {
            let acc = self.choices.entry(c.index).or_default();
            if acc.role.is_none() {
                acc.role = c.delta.role.clone();
            }
            self.bytes += append(&mut acc.content, &c.delta.content);
            self.bytes += append(&mut acc.reasoning, &c.delta.reasoning_content);
            self.bytes += append(&mut acc.refusal, &c.delta.refusal);
            if c.finish_reason.is_some() {
                acc.finish_reason = c.finish_reason.clone();
            }
            for t in c.delta.tool_calls.iter().flatten() {
                let e = acc.tool_calls.entry(t.index).or_default();
                if let Some(id) = &t.id {
                    e.0.push_str(id);
                }
                if let Some(kind) = &t.kind {
                    if e.1.is_empty() {
                        e.1.push_str(kind);
                    }
                }
                if let Some(f) = &t.function {
                    if let Some(n) = &f.name {
                        e.2.push_str(n);
                    }
                    if let Some(a) = &f.arguments {
                        e.3.push_str(a);
                        self.bytes += a.len();
                    }
                }
            }
        }
        self.bytes <= self.max_bytes
    }

    /// The whole answer, if the stream produced one.
    pub fn finish(self) -> Option<litellm_core::ChatResponse> {
        if self.choices.is_empty() {
            return None;
        }
        let choices = self
            .choices
            .into_iter()
            .map(|(index, c)| {
                let tool_calls: Vec<litellm_core::ToolCall> = c
                    .tool_calls
                    .into_values()
                    .map(|(id, kind, name, arguments)| litellm_core::ToolCall {
                        id,
                        kind: if kind.is_empty() {
                            "function".into()
                        } else {
                            kind
                        },
                        function: litellm_core::FunctionCall { name, arguments },
                    })
                    .collect();
                litellm_core::Choice {
                    index,
                    message: litellm_core::ResponseMessage {
                        role: c.role.unwrap_or_else(|| "assistant".into()),
                        content: c.content,
                        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                        function_call: None,
                        refusal: c.refusal,
                        reasoning_content: c.reasoning,
                        extra: JsonMap::new(),
                    },
                    finish_reason: c.finish_reason,
                    logprobs: None,
                    extra: JsonMap::new(),
                }
            })
            .collect();
        Some(litellm_core::ChatResponse {
            id: self.id,
            object: "chat.completion".into(),
            created: self.created,
            model: self.model,
            choices,
            usage: self.usage,
            system_fingerprint: self.system_fingerprint,
            service_tier: None,
            extra: JsonMap::new(),
        })
    }
}
