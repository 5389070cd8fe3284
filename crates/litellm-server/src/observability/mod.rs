//! What the proxy tells about its requests, off the request path:
//!
//! - [`scope`]: one request's facts (caller labels, attempts, the spend record, the stream
//!   flag, the trace parent), one task-local shared by everything below.
//! - [`metrics`]: Prometheus metrics in LiteLLM's names, the in-flight middleware that opens the
//!   request scope, the router observer, `GET /metrics`.
//! - [`callbacks`]: the access log and LiteLLM's `generic_api` webhook, emitted from the scope
//!   when a request (or its stream) ends.
//! - [`otel`]: OpenTelemetry traces (a span per request, a child span per upstream attempt).

pub mod callbacks;
pub mod labels;
pub mod metrics;
pub mod otel;
pub mod scope;
