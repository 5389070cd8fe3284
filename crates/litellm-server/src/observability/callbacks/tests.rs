//! Unit tests of the callbacks: records, payloads, the access log, the webhook queue.
#![allow(clippy::unwrap_used)]

use super::*;

fn settings(yaml: &str) -> LitellmSettings {
    serde_yaml::from_str(yaml).unwrap_or_default()
}

#[test]
fn unknown_callbacks_warn_and_generic_needs_an_endpoint() {
    let s = settings("callbacks: [otel, generic_api]\nsuccess_callback: [langfuse, prometheus]");
    let w = config_warnings(&s, &BTreeMap::new(), &|_| None);
    assert_eq!(
        w,
        vec![
            "callback_settings.generic_api.endpoint: not set, and neither is \
             GENERIC_LOGGER_ENDPOINT; the `generic_api` webhook is off"
                .to_string(),
            "litellm_settings.success_callback: callback `langfuse` not supported yet; ignored"
                .to_string(),
        ]
    );
    let w = config_warnings(&s, &BTreeMap::new(), &|n| {
        (n == "GENERIC_LOGGER_ENDPOINT").then(|| "http://x".to_string())
    });
    assert_eq!(w.len(), 1, "{w:?}");
}

#[test]
fn a_named_callback_with_generic_api_type_is_a_webhook() {
    let s = settings("callbacks: [my_hook]");
    let mut cs = BTreeMap::new();
    cs.insert(
        "my_hook".to_string(),
        CallbackSettings {
            callback_type: Some("generic_api".into()),
            endpoint: Some("http://x".into()),
            log_format: Some("xml".into()),
            ..Default::default()
        },
    );
    let w = config_warnings(&s, &cs, &|_| None);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("log_format"), "{w:?}");
}

#[test]
fn payload_has_litellm_fields_and_messages_only_when_allowed() {
    let call = CallRecord {
        request_id: "id-1".into(),
        call_type: "acompletion".into(),
        key_hash: Some("abc".into()),
        key_alias: Some("alias".into()),
        prompt_tokens: 3,
        completion_tokens: 4,
        total_tokens: 7,
        messages: Some(json!([{"role": "user", "content": "secret prompt"}])),
        start: UNIX_EPOCH + Duration::from_secs(10),
        end: UNIX_EPOCH + Duration::from_secs(12),
        ..CallRecord::default()
    };
    let p = standard_logging_payload(&call, true);
    assert_eq!(p["id"], "id-1");
    assert_eq!(p["status"], "success");
    assert_eq!(p["startTime"], 10.0);
    assert_eq!(p["response_time"], 2.0);
    assert_eq!(p["metadata"]["user_api_key_alias"], "alias");
    assert_eq!(p["messages"][0]["content"], "secret prompt");
    let p = standard_logging_payload(&call, false);
    assert!(p["messages"].is_null());
    assert!(!p.to_string().contains("secret prompt"));
}

#[test]
fn errors_come_from_the_openai_body_or_the_status() {
    let e = error_from_body(
        StatusCode::UNAUTHORIZED,
        "AuthenticationError",
        br#"{"error":{"message":"bad key","type":"auth"}}"#,
    );
    assert_eq!(e.message, "bad key");
    assert_eq!(e.class, "AuthenticationError");
    let e = error_from_body(StatusCode::BAD_GATEWAY, "APIError", b"");
    assert_eq!(e.message, "Bad Gateway");
    assert_eq!(e.code.as_deref(), Some("502"));
}
