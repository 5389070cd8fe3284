//! Unit tests of the Vertex AI module.

use secrecy::ExposeSecret;
use serde_json::{json, Value};

use litellm_core::ErrorKind;

use super::auth::*;
use super::*;
use crate::params::ProviderParams;

fn params(v: Value) -> ProviderParams {
    serde_json::from_value(v).expect("params")
}

#[test]
fn urls_follow_project_location_and_api_base() {
    let none = |_: &str| None;
    let p = params(json!({"model": "vertex_ai/gemini-2.0-flash", "vertex_project": "p1"}));
    let t = target(&p, "gemini-2.0-flash", "google", None, &none).expect("target");
    assert_eq!(
        t.model_url,
        "https://us-central1-aiplatform.googleapis.com/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.0-flash"
    );
    let p = params(json!({"model": "vertex_ai/m", "vertex_project": "p1",
        "vertex_location": "global"}));
    let t = target(&p, "m", "anthropic", None, &none).expect("target");
    assert_eq!(
        t.model_url,
        "https://aiplatform.googleapis.com/v1/projects/p1/locations/global/publishers/anthropic/models/m"
    );
    let env = |k: &str| match k {
        "VERTEXAI_PROJECT" => Some("envp".to_string()),
        "VERTEXAI_LOCATION" => Some("europe-west4".to_string()),
        _ => None,
    };
    let p = params(json!({"model": "vertex_ai/m", "api_base": "http://127.0.0.1:9/"}));
    let t = target(&p, "m", "google", None, &env).expect("target");
    assert_eq!(
        t.model_url,
        "http://127.0.0.1:9/v1/projects/envp/locations/europe-west4/publishers/google/models/m"
    );
    let p = params(json!({"model": "vertex_ai/m"}));
    let e = target(&p, "m", "google", None, &none).expect_err("no project");
    assert_eq!(e.param.as_deref(), Some("vertex_project"));
}

#[test]
fn bad_credentials_are_named_without_quoting_the_key() {
    let e = ServiceAccount::from_param(&json!(
        "{\"type\": \"service_account\", \"client_email\": \"a@b\", \"private_key\": \"not-a-key-secret\"}"
    ))
    .expect_err("bad key");
    assert!(!e.message.contains("not-a-key-secret"), "{}", e.message);
    assert_eq!(e.param.as_deref(), Some("vertex_credentials"));
    let e = ServiceAccount::from_param(&json!("/nonexistent/sa.json")).expect_err("no file");
    assert!(e.message.contains("/nonexistent/sa.json"), "{}", e.message);
    let e =
        ServiceAccount::from_value(&json!({"type": "authorized_user"})).expect_err("wrong type");
    assert!(e.message.contains("authorized_user"), "{}", e.message);
}

#[test]
fn token_responses_parse_and_failures_are_auth_errors() {
    let (t, exp) =
        parse_token_response(200, br#"{"access_token":"ya29.x","expires_in":120}"#).expect("token");
    assert_eq!((t.expose_secret(), exp), ("ya29.x", 120));
    let e = parse_token_response(
        400,
        br#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
    )
    .expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Authentication);
    assert!(
        e.message.contains("Invalid JWT Signature."),
        "{}",
        e.message
    );
    assert_eq!(
        parse_token_response(503, b"").expect_err("down").kind,
        ErrorKind::ServiceUnavailable
    );
}

#[test]
fn claude_models_are_recognised() {
    assert!(is_claude("claude-sonnet-4-5@20250929"));
    assert!(!is_claude("gemini-2.0-flash"));
}
