//! The SSE body of a streamed chat completion: chunks are written as `data: {json}\n\n` the
//! moment they arrive, usage is captured from whichever chunk carries it (also one that carries
//! choices too), and the call's spend record is written exactly once — when the stream ends,
//! fails, or is dropped because the client went away (then billed for what was streamed).
//!
//! The proxy always asks the upstream for usage (`stream_options.include_usage`) so that spend
//! is exact; when the client did not ask for it, the usage is removed before forwarding.

use std::convert::Infallible;
use std::time::SystemTime;

use bytes::{BufMut, Bytes, BytesMut};
use futures::{Stream, StreamExt};

use litellm_core::{ChatChunk, ChunkStream, LlmError, Usage};
use litellm_router::RouteInfo;

use crate::error::ApiError;
use crate::spend::{self, CallFacts};
use crate::state::AppState;

/// Rough token count for text when the upstream reported no usage (about 4 characters a token).
pub fn estimate_tokens(chars: usize) -> u64 {
    chars.div_ceil(4) as u64
}

/// Watches a stream and writes its spend record once, on drop.
struct Accounting {
    state: AppState,
    route: RouteInfo,
    facts: CallFacts,
    prompt_estimate: u64,
    completion_chars: usize,
    recorded: bool,
    /// The request's metric labels, taken when the stream started.
    labels: crate::metrics::RequestLabels,
    /// The call's rate-limit reservation: finished when the stream ends, or on drop.
    limits: crate::limits::CallLimits,
    /// The request's callback scope (attempts, trace parent), for its event at the end.
    scope: Option<crate::callbacks::CallScope>,
    /// The answer being collected for the response cache (dropped on error or when too large).
    capture: Option<crate::cache::StreamCapture>,
}

impl Accounting {
    fn observe(&mut self, chunk: &ChatChunk) {
        if self.facts.first_chunk.is_none() {
            self.facts.first_chunk = Some(SystemTime::now());
        }
        if self.facts.response_model.is_none() && !chunk.model.is_empty() {
            self.facts.response_model = Some(chunk.model.clone());
        }
        if let Some(u) = &chunk.usage {
            self.facts.usage = Some(u.clone());
        }
        for c in &chunk.choices {
            self.completion_chars += c.delta.content.as_ref().map_or(0, |s| s.len());
            self.completion_chars += c.delta.reasoning_content.as_ref().map_or(0, |s| s.len());
            for t in c.delta.tool_calls.iter().flatten() {
                if let Some(f) = &t.function {
                    self.completion_chars += f.arguments.as_ref().map_or(0, |s| s.len());
                    self.completion_chars += f.name.as_ref().map_or(0, |s| s.len());
                }
            }
        }
    }
}

impl Accounting {
    /// The Prometheus metrics of a stream that finished without an error.
    fn record_metrics(&self) {
        if self.facts.status != "success" {
            return;
        }
        let now = SystemTime::now();
        let since = |t: SystemTime| now.duration_since(t).unwrap_or_default();
        let total = since(self.facts.start);
        let to_first = self
            .facts
            .first_chunk
            .and_then(|f| f.duration_since(self.facts.start).ok())
            .unwrap_or(total);
        let usage = self.facts.usage.clone().unwrap_or_else(|| {
            Usage::new(self.prompt_estimate, estimate_tokens(self.completion_chars))
        });
        let cost = spend::cost(&self.route, Some(&usage));
        self.state.metrics.record_success(
            &self.labels,
            crate::metrics::Success {
                route: &self.route,
                usage: Some(&usage),
                cost,
                total,
                overhead: to_first.saturating_sub(self.route.upstream_time),
                stream_api_latency: Some(total),
            },
        );
    }
}

impl Accounting {
    /// Tokens the call used, for tpm limits: the upstream's usage, else the estimate.
    fn tokens_used(&self) -> u64 {
        match &self.facts.usage {
            Some(u) => u.total_tokens,
            None => self.prompt_estimate + estimate_tokens(self.completion_chars),
        }
    }
}

impl Drop for Accounting {
    fn drop(&mut self) {
        // A stream cut short (client gone): charge what was used and free the parallel slot.
        let limits = std::mem::take(&mut self.limits);
        if limits.is_active() {
            let tokens = self.tokens_used();
            self.state
                .tasks
                .spawn(async move { limits.finish(tokens).await });
        }
        if self.recorded {
            return;
        }
        self.recorded = true;
        self.record_metrics();
        let mut facts = self.facts.clone();
        facts.end = SystemTime::now();
        let estimated = facts.usage.is_none();
        if estimated {
            // The upstream never sent usage (the client left early, or the upstream does not
            // report it): bill what we saw rather than nothing.
            facts.usage = Some(Usage::new(
                self.prompt_estimate,
                estimate_tokens(self.completion_chars),
            ));
        }
        let spend = spend::cost(&self.route, facts.usage.as_ref());
        let mut rec = spend::record(&self.route, facts, spend);
        if estimated {
            if let Some(m) = rec.metadata.as_object_mut() {
                m.insert("usage_estimated".into(), serde_json::Value::Bool(true));
            }
        }
        crate::callbacks::on_stream_end(&self.state, self.scope.as_ref(), &rec);
        let Some(ledger) = self.state.spend_ledger().cloned() else {
            return;
        };
        self.state
            .tasks
            .spawn(async move { ledger.record(rec).await });
    }
}

enum Phase {
    Streaming,
    Done,
    Finished,
}

struct SseState {
    inner: ChunkStream,
    acct: Accounting,
    client_wants_usage: bool,
    client_model: String,
    phase: Phase,
}

fn sse_event(json: &impl serde::Serialize) -> Bytes {
    let mut buf = BytesMut::with_capacity(256);
    buf.put_slice(b"data: ");
    let mut w = buf.writer();
    if serde_json::to_writer(&mut w, json).is_err() {
        // Our own types always serialize; keep the stream well-formed regardless.
        w.get_mut().put_slice(b"{}");
    }
    let mut buf = w.into_inner();
    buf.put_slice(b"\n\n");
    buf.freeze()
}

/// The in-band error event sent when a stream fails after it started.
pub fn error_event(err: LlmError) -> Bytes {
    sse_event(&ApiError::from(err).body())
}

/// Parameters of one streamed call's accounting.
pub struct StreamCall {
    pub state: AppState,
    pub route: RouteInfo,
    pub facts: CallFacts,
    pub prompt_estimate: u64,
    pub client_wants_usage: bool,
    /// Where to store the finished answer in the response cache, if anywhere.
    pub cache_plan: Option<crate::cache::CachePlan>,
    /// The model name the client asked for: every chunk's `model` (the upstream's stays in the
    /// spend log's `response_model`).
    pub client_model: String,
}

/// The SSE body for a routed stream.
pub fn sse_body(
    stream: ChunkStream,
    call: StreamCall,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    sse_body_limited(stream, call, crate::limits::CallLimits::default())
}

/// [`sse_body`] holding the call's rate-limit reservation until the stream ends (its tokens
/// are charged before `[DONE]` is sent) or the client goes away.
pub fn sse_body_limited(
    stream: ChunkStream,
    call: StreamCall,
    limits: crate::limits::CallLimits,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    let capture =
        crate::cache::StreamCapture::new(call.state.cache.as_ref(), call.cache_plan.as_ref());
    let st = SseState {
        inner: stream,
        acct: Accounting {
            state: call.state,
            route: call.route,
            facts: call.facts,
            prompt_estimate: call.prompt_estimate,
            completion_chars: 0,
            recorded: false,
            labels: crate::metrics::current_labels(),
            limits,
            scope: crate::callbacks::take_over_for_stream(),
            capture,
        },
        client_wants_usage: call.client_wants_usage,
        client_model: call.client_model,
        phase: Phase::Streaming,
    };
    futures::stream::unfold(st, |mut st| async move {
        loop {
            match st.phase {
                Phase::Streaming => match st.inner.next().await {
                    Some(Ok(mut chunk)) => {
                        st.acct.observe(&chunk);
                        chunk.model.clone_from(&st.client_model);
                        if let Some(c) = st.acct.capture.as_mut() {
                            if !c.observe(&chunk) {
                                st.acct.capture = None;
                            }
                        }
                        if !st.client_wants_usage && chunk.usage.is_some() {
                            chunk.usage = None;
                            if chunk.choices.is_empty() {
                                continue;
                            }
                        }
                        if st.acct.state.settings.include_cost_in_streaming_usage {
                            // LiteLLM's `usage.cost`: the call's USD cost, where usage is sent.
                            if let Some(u) = chunk.usage.as_mut() {
                                let cost = spend::cost(&st.acct.route, Some(u));
                                u.extra.insert("cost".into(), serde_json::json!(cost));
                            }
                        }
                        let bytes = sse_event(&chunk);
                        return Some((Ok(bytes), st));
                    }
                    Some(Err(e)) => {
                        st.acct.capture = None;
                        st.acct.facts.status = "failure";
                        st.phase = Phase::Done;
                        return Some((Ok(error_event(e)), st));
                    }
                    None => st.phase = Phase::Done,
                },
                Phase::Done => {
                    // A stream that ended normally fills the response cache.
                    if let Some(c) = st.acct.capture.take() {
                        let plan = c.plan.clone();
                        if let Some(resp) = c.finish() {
                            crate::routes::cache::store(&st.acct.state, &plan, &resp);
                        }
                    }
                    let limits = std::mem::take(&mut st.acct.limits);
                    limits.finish(st.acct.tokens_used()).await;
                    st.phase = Phase::Finished;
                    return Some((Ok(Bytes::from_static(b"data: [DONE]\n\n")), st));
                }
                Phase::Finished => return None,
            }
        }
    })
}
