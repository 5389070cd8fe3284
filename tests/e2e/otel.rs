//! OpenTelemetry through the real binary: `callbacks: ["otel"]` with the standard
//! `OTEL_EXPORTER_OTLP_*` variables sends OTLP/HTTP (JSON) spans to a local collector; the spans
//! still queued are exported by the graceful shutdown.

use litellm_test_support::{FakeHttp, FakeOpenAi, HttpScript};
use serde_json::{json, Value};

use crate::harness::*;

/// The value of attribute `key` in an OTLP JSON attribute list, as text.
fn attr(attrs: &Value, key: &str) -> Option<String> {
    let kv = attrs.as_array()?.iter().find(|kv| kv["key"] == key)?;
    let v = kv["value"].as_object()?.values().next()?;
    Some(match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

#[tokio::test]
async fn spans_reach_an_otlp_collector_and_the_shutdown_flushes_them() {
    let upstream = FakeOpenAi::start().await;
    let collector = FakeHttp::start().await;
    for _ in 0..20 {
        collector.push(HttpScript::ok(json!({})));
    }
    let config = format!(
        "model_list:\n  - model_name: gpt\n    litellm_params:\n      model: openai/upstream-model\n      api_base: {}\n      api_key: sk-upstream-otel-e2e\n    model_info:\n      id: dep-e2e\nlitellm_settings:\n  callbacks: [\"otel\"]\n",
        upstream.base_url()
    );
    let mut p = ProxyProcess::start(
        &config,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.base_url()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_SERVICE_NAME", "e2e-gateway"),
        ],
    )
    .await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "gpt", "messages": [{"role": "user", "content": "trace me"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let call_id = r.headers()["x-litellm-call-id"]
        .to_str()
        .unwrap()
        .to_string();
    // The batch interval is 5 s: only the shutdown flush can have sent these spans by now.
    p.sigterm();
    assert!(p.wait_exit().await, "clean exit:\n{}", p.stderr());

    let mut spans = Vec::new();
    for req in collector.requests() {
        assert_eq!(req.path, "/v1/traces");
        assert_eq!(req.header("content-type"), Some("application/json"));
        for rs in req.body["resourceSpans"].as_array().unwrap() {
            let service = attr(&rs["resource"]["attributes"], "service.name");
            assert_eq!(service.as_deref(), Some("e2e-gateway"));
            for ss in rs["scopeSpans"].as_array().unwrap() {
                spans.extend(ss["spans"].as_array().unwrap().iter().cloned());
            }
        }
    }
    let request = spans
        .iter()
        .find(|s| s["name"] == "litellm_request")
        .unwrap_or_else(|| panic!("no request span in {spans:#?}"));
    assert_eq!(
        attr(&request["attributes"], "litellm.call_id"),
        Some(call_id)
    );
    assert_eq!(
        attr(&request["attributes"], "litellm.model_id").as_deref(),
        Some("dep-e2e")
    );
    assert_eq!(
        attr(&request["attributes"], "gen_ai.request.model").as_deref(),
        Some("gpt")
    );
    let attempt = spans
        .iter()
        .find(|s| s["name"] == "raw_gen_ai_request")
        .unwrap_or_else(|| panic!("no attempt span in {spans:#?}"));
    assert_eq!(attempt["parentSpanId"], request["spanId"]);
    assert_eq!(attempt["traceId"], request["traceId"]);
    assert_eq!(
        attr(&attempt["attributes"], "litellm.outcome").as_deref(),
        Some("success")
    );
    let all = serde_json::to_string(&spans).unwrap();
    assert!(
        !all.contains("sk-upstream-otel-e2e"),
        "a span leaks the key"
    );
}
