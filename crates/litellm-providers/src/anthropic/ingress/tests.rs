//! Unit tests of the Anthropic-format ingress.

use super::*;

#[test]
fn budgets_bucket_like_litellm() {
    assert_eq!(reasoning_effort_for_budget(0), "minimal");
    assert_eq!(reasoning_effort_for_budget(1024), "low");
    assert_eq!(reasoning_effort_for_budget(2048), "medium");
    assert_eq!(reasoning_effort_for_budget(10_000), "high");
}

#[test]
fn ids_keep_msg_prefix() {
    assert_eq!(message_id("msg_01"), "msg_01");
    assert_eq!(message_id("chatcmpl-abc"), "msg_abc");
    assert!(message_id("").starts_with("msg_"));
}

#[test]
fn error_types_follow_status() {
    assert_eq!(error_type_for_status(400), "invalid_request_error");
    assert_eq!(error_type_for_status(401), "authentication_error");
    assert_eq!(error_type_for_status(529), "overloaded_error");
    assert_eq!(error_type_for_status(500), "api_error");
}
