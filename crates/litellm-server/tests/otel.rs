//! OpenTelemetry traces against an in-process OTLP/HTTP receiver (protobuf, decoded with
//! `opentelemetry-proto`): one `litellm_request` span per request with GenAI attributes and a
//! `raw_gen_ai_request` child per upstream attempt, the caller's `traceparent` continued,
//! failures as error spans, streams traced when they end, export headers sent, no key leaked.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use prost::Message as _;
use serde_json::json;

use common::{bearer, Proxy, Recorder};
use litellm_test_support::{FakeOpenAi, Scripted};

const MASTER: &str = "sk-master-otel-1234";
const UPSTREAM_KEY: &str = "sk-upstream-otel-secret";

/// One received span, flattened.
#[derive(Debug, Clone)]
struct Span {
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    kind: i32,
    /// 2 = error, 1 = ok.
    status: i32,
    attrs: HashMap<String, String>,
    service_name: String,
}

impl Span {
    fn attr(&self, k: &str) -> &str {
        self.attrs
            .get(k)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no attribute {k} on {self:#?}"))
    }
}

#[derive(Default)]
struct Received {
    spans: Vec<Span>,
    headers: Vec<HeaderMap>,
}

/// An OTLP/HTTP receiver on 127.0.0.1: `POST /v1/traces` with a protobuf body.
type Collector = Recorder<Received>;

fn any_to_string(v: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Any::StringValue(s)) => s.clone(),
        Some(Any::IntValue(i)) => i.to_string(),
        Some(Any::DoubleValue(d)) => d.to_string(),
        Some(Any::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

async fn receive(
    State(received): State<Arc<Mutex<Received>>>,
    headers: HeaderMap,
    body: Bytes,
) -> &'static str {
    let req = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf body");
    let mut r = received.lock().unwrap();
    r.headers.push(headers);
    for rs in req.resource_spans {
        let service_name = rs
            .resource
            .iter()
            .flat_map(|r| r.attributes.iter())
            .find(|kv| kv.key == "service.name")
            .map(|kv| any_to_string(&kv.value))
            .unwrap_or_default();
        for ss in rs.scope_spans {
            for s in ss.spans {
                r.spans.push(Span {
                    name: s.name.clone(),
                    trace_id: hex(&s.trace_id),
                    span_id: hex(&s.span_id),
                    parent_span_id: hex(&s.parent_span_id),
                    kind: s.kind,
                    status: s.status.as_ref().map_or(0, |st| st.code),
                    attrs: s
                        .attributes
                        .iter()
                        .map(|kv| (kv.key.clone(), any_to_string(&kv.value)))
                        .collect(),
                    service_name: service_name.clone(),
                });
            }
        }
    }
    ""
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Collector {
    async fn listen() -> Collector {
        Recorder::start("/v1/traces", receive).await
    }

    /// Exports what the proxy has queued and returns the spans received so far, waiting (up
    /// to 10 s) until there are at least `n`.
    async fn spans(&self, p: &Proxy, n: usize) -> Vec<Span> {
        for _ in 0..200 {
            let state = p.state.clone();
            tokio::task::spawn_blocking(move || state.callbacks.flush_traces())
                .await
                .unwrap();
            let spans = self.state.lock().unwrap().spans.clone();
            if spans.len() >= n {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fewer than {n} spans were exported");
    }
}

fn config(upstream: &str, collector: &str, extra_env: &str) -> String {
    format!(
        "model_list:\n  - model_name: gpt\n    litellm_params:\n      model: openai/upstream-model\n      api_base: {upstream}\n      api_key: {UPSTREAM_KEY}\n      input_cost_per_token: 0.5\n      output_cost_per_token: 1.0\n    model_info:\n      id: dep-1\nrouter_settings:\n  num_retries: 1\nlitellm_settings:\n  callbacks: [otel]\ngeneral_settings:\n  master_key: {MASTER}\nenvironment_variables:\n  OTEL_EXPORTER: otlp_http\n  OTEL_ENDPOINT: {collector}\n  OTEL_SERVICE_NAME: gw-test\n{extra_env}"
    )
}

async fn new_key(p: &Proxy, alias: &str) -> String {
    p.new_key_as(MASTER, json!({"key_alias": alias})).await
}

fn no_secret_in(spans: &[Span], secrets: &[&str]) {
    for s in spans {
        for (k, v) in &s.attrs {
            for secret in secrets {
                assert!(!v.contains(secret), "{k}={v} leaks a key");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_one_span_with_a_child_per_attempt_in_the_callers_trace() {
    let fake = FakeOpenAi::start().await;
    fake.push(Scripted::error(500, "upstream broke", "server_error", None));
    let collector = Collector::listen().await;
    let p = Proxy::new(&config(&fake.base_url(), &collector.base_url(), "")).await;
    let key = new_key(&p, "team-bot").await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_id = "00f067aa0ba902b7";
    let body = json!({"model": "gpt", "messages": [{"role": "user", "content": "hello otel"}]});
    let r = p
        .post_raw(
            "/v1/chat/completions",
            serde_json::to_vec(&body).unwrap(),
            &[
                ("authorization", &bearer(&key)),
                ("traceparent", &format!("00-{trace_id}-{parent_id}-01")),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let call_id = r.header("x-litellm-call-id").unwrap().to_string();

    let spans = collector.spans(&p, 3).await;
    let requests: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == "litellm_request")
        .collect();
    assert_eq!(requests.len(), 1, "{spans:#?}");
    let req = requests[0];
    assert_eq!(req.trace_id, trace_id, "the caller's trace continues");
    assert_eq!(req.parent_span_id, parent_id);
    assert_eq!(req.kind, 2, "server span");
    assert_eq!(req.status, 1, "ok status");
    assert_eq!(req.service_name, "gw-test");
    assert_eq!(req.attr("litellm.call_id"), call_id);
    assert_eq!(req.attr("gen_ai.operation.name"), "chat");
    assert_eq!(req.attr("gen_ai.system"), "openai");
    assert_eq!(req.attr("gen_ai.request.model"), "gpt");
    assert!(!req.attr("gen_ai.response.model").is_empty());
    assert_eq!(req.attr("litellm.model_group"), "gpt");
    assert_eq!(req.attr("litellm.model_id"), "dep-1");
    assert_eq!(req.attr("metadata.user_api_key_alias"), "team-bot");
    assert_eq!(
        req.attr("metadata.user_api_key_hash"),
        litellm_auth::hash_token(&key)
    );
    assert_eq!(req.attr("litellm.status"), "success");
    assert_eq!(req.attr("http.response.status_code"), "200");
    let input: u64 = req.attr("gen_ai.usage.input_tokens").parse().unwrap();
    let output: u64 = req.attr("gen_ai.usage.output_tokens").parse().unwrap();
    assert!(input > 0 && output > 0, "{req:#?}");
    let cost: f64 = req.attr("gen_ai.cost.total_cost").parse().unwrap();
    assert_eq!(cost, input as f64 * 0.5 + output as f64 * 1.0);
    assert_eq!(req.attr("llm.is_streaming"), "false");
    // Message logging is on by default (LiteLLM's default).
    assert!(req.attr("gen_ai.prompt").contains("hello otel"));

    let mut attempts: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == "raw_gen_ai_request")
        .collect();
    assert_eq!(attempts.len(), 2, "{spans:#?}");
    attempts.sort_by_key(|s| s.attr("litellm.attempt").to_string());
    for a in &attempts {
        assert_eq!(a.trace_id, req.trace_id);
        assert_eq!(a.parent_span_id, req.span_id, "child of the request span");
        assert_eq!(a.kind, 3, "client span");
        assert_eq!(a.attr("litellm.model_id"), "dep-1");
        assert_eq!(a.attr("gen_ai.system"), "openai");
        assert_eq!(a.attr("litellm.api_base"), fake.base_url());
    }
    assert_eq!(attempts[0].attr("litellm.outcome"), "failure");
    assert_eq!(attempts[0].attr("error.type"), "InternalServerError");
    assert_eq!(attempts[0].attr("http.response.status_code"), "500");
    assert_eq!(attempts[0].status, 2);
    assert_eq!(attempts[1].attr("litellm.outcome"), "success");
    assert_eq!(attempts[1].status, 1);
    no_secret_in(&spans, &[&key, MASTER, UPSTREAM_KEY]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_error_spans_and_export_headers_are_sent() {
    let fake = FakeOpenAi::start().await;
    let collector = Collector::listen().await;
    let p = Proxy::new(&config(
        &fake.base_url(),
        &collector.base_url(),
        "  OTEL_HEADERS: Authorization=Bearer%20otel-token,x-tenant=t1\n",
    ))
    .await;
    let body = json!({"model": "gpt", "messages": [{"role": "user", "content": "hi"}]});
    let r = p
        .post_raw(
            "/v1/chat/completions",
            serde_json::to_vec(&body).unwrap(),
            &[("authorization", "Bearer sk-not-a-real-key-9876")],
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    // A caller without a valid key is not traced; a failed call of a real caller is.
    fake.push(litellm_test_support::Scripted::error(
        429,
        "Rate limit reached",
        "requests",
        None,
    ));
    let once = json!({"model": "gpt", "num_retries": 0,
                      "messages": [{"role": "user", "content": "hi"}]});
    let r = p
        .post_raw(
            "/v1/chat/completions",
            serde_json::to_vec(&once).unwrap(),
            &[("authorization", &format!("Bearer {MASTER}"))],
        )
        .await;
    assert_eq!(r.status, 429, "{}", r.text);
    // The request's span and its one attempt; nothing for the 401.
    let spans = collector.spans(&p, 2).await;
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let roots: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "litellm_request")
        .collect();
    assert_eq!(roots.len(), 1, "{spans:#?}");
    let s = roots[0];
    assert_eq!(s.status, 2, "error status");
    assert_eq!(s.attr("litellm.status"), "failure");
    assert_eq!(s.attr("error.type"), "RateLimitError");
    assert_eq!(s.attr("http.response.status_code"), "429");
    assert!(
        s.parent_span_id.is_empty(),
        "a root span without traceparent"
    );
    no_secret_in(&spans, &["sk-not-a-real-key-9876", MASTER, UPSTREAM_KEY]);
    let headers = collector.state.lock().unwrap().headers.clone();
    assert_eq!(headers[0]["authorization"], "Bearer otel-token");
    assert_eq!(headers[0]["x-tenant"], "t1");
    assert_eq!(headers[0]["content-type"], "application/x-protobuf");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_is_traced_when_it_ends_without_messages_when_logging_is_off() {
    let fake = FakeOpenAi::start().await;
    let collector = Collector::listen().await;
    let yaml = config(&fake.base_url(), &collector.base_url(), "").replace(
        "  callbacks: [otel]\n",
        "  callbacks: [otel]\n  turn_off_message_logging: true\n",
    );
    let p = Proxy::new(&yaml).await;
    let body = json!({"model": "gpt", "stream": true,
        "messages": [{"role": "user", "content": "private words"}]});
    let r = p
        .post_raw(
            "/v1/chat/completions",
            serde_json::to_vec(&body).unwrap(),
            &[("authorization", &bearer(MASTER))],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("[DONE]"));
    let spans = collector.spans(&p, 2).await;
    let req = spans.iter().find(|s| s.name == "litellm_request").unwrap();
    assert_eq!(req.attr("llm.is_streaming"), "true");
    assert_eq!(req.attr("litellm.status"), "success");
    assert!(req.attr("llm.usage.total_tokens").parse::<u64>().unwrap() > 0);
    assert!(!req.attrs.contains_key("gen_ai.prompt"), "{req:#?}");
    let child = spans
        .iter()
        .find(|s| s.name == "raw_gen_ai_request")
        .unwrap();
    assert_eq!(child.parent_span_id, req.span_id);
    for s in &spans {
        for v in s.attrs.values() {
            assert!(!v.contains("private words"), "{v}");
        }
    }
}
