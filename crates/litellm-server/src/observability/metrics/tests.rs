//! Unit tests of the metrics: names, labels, values.

use super::*;

#[test]
fn counters_carry_litellm_names_with_total_suffix() {
    let m = Metrics::new();
    m.record_proxy_request(&RequestLabels::default(), StatusCode::OK, "APIError");
    let text = m.encode();
    assert!(text.contains("# TYPE litellm_proxy_total_requests_metric_total counter"));
    assert!(text.contains("litellm_proxy_total_requests_metric_total{end_user=\"None\""));
    assert!(text.contains("status_code=\"200\""));
    assert!(text.contains("# TYPE litellm_in_flight_requests gauge"));
    assert!(!text.contains("litellm_proxy_failed_requests_metric_total{"));
}

#[test]
fn failures_are_counted_with_status_and_class() {
    let m = Metrics::new();
    m.record_proxy_request(
        &RequestLabels::default(),
        StatusCode::TOO_MANY_REQUESTS,
        "RateLimitError",
    );
    let text = m.encode();
    assert!(text.contains("exception_status=\"429\""), "{text}");
    assert!(
        text.contains("exception_class=\"RateLimitError\""),
        "{text}"
    );
}

#[test]
fn label_values_are_escaped() {
    let m = Metrics::new();
    let labels = RequestLabels {
        user_agent: Lv::new("evil\"agent\nx"),
        ..RequestLabels::default()
    };
    m.record_proxy_request(&labels, StatusCode::OK, "APIError");
    let text = m.encode();
    assert!(text.contains("user_agent=\"evil\\\"agent\\nx\""), "{text}");
}

#[test]
fn exception_class_is_prefixed_with_the_capitalized_provider() {
    assert_eq!(
        exception_class(Some("openai"), "RateLimitError"),
        "Openai.RateLimitError"
    );
    assert_eq!(exception_class(None, "Timeout"), "Timeout");
}

#[test]
fn llm_routes_are_recognized() {
    assert!(is_llm_route("/v1/chat/completions"));
    assert!(is_llm_route("/openai/deployments/x/embeddings"));
    assert!(is_llm_route("/v1/messages"));
    assert!(!is_llm_route("/health"));
    assert!(!is_llm_route("/key/generate"));
}
