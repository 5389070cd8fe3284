//! Request tags (LiteLLM's spend tags): what an inference call is tagged with, gathered once
//! per call by the handlers (`chat.rs`, `embeddings.rs`, `messages.rs`) into its
//! [`CallFacts`](crate::spend::CallFacts), so the spend log's `request_tags`, the
//! `daily_tag_spend` aggregates and the webhook payload all carry them.
//!
//! A call's tags are, in this order and without duplicates: the body's `metadata.tags` and
//! top-level `tags` (LiteLLM accepts both), the `x-litellm-tags` header (comma-separated,
//! trimmed), the key's `tags` and `metadata.tags`, and its team's `metadata.tags` (set with
//! `/team/new` or `/team/update` `tags`). Client-sent tags must be strings (`400` otherwise),
//! at most [`MAX_TAGS`] of at most [`MAX_TAG_LEN`] bytes, since every distinct tag becomes
//! aggregate rows. Tags never reach an upstream: `metadata` and `tags` are LiteLLM's own
//! parameters, which every provider adapter drops (`litellm_providers::is_internal_param`).

use axum::http::HeaderMap;
use serde_json::{Map, Value};

use crate::auth::Caller;
use crate::error::ApiError;

/// The request header carrying comma-separated tags.
pub const TAGS_HEADER: &str = "x-litellm-tags";

/// At most this many tags per request from the client (body and header together).
pub const MAX_TAGS: usize = 64;

/// At most this many bytes per client tag.
pub const MAX_TAG_LEN: usize = 256;

/// The tags of one call: `metadata_tags` (the body's `metadata.tags`) and `body_tags` (its
/// top-level `tags`), the header, then the caller's key and team tags.
pub fn of_request(
    headers: &HeaderMap,
    metadata_tags: Option<&Value>,
    body_tags: Option<&Value>,
    caller: &Caller,
) -> Result<Vec<String>, ApiError> {
    let mut tags: Vec<String> = Vec::new();
    for (param, value) in [("metadata.tags", metadata_tags), ("tags", body_tags)] {
        for tag in client_list(param, value)? {
            push(&mut tags, tag);
        }
    }
    for value in headers.get_all(TAGS_HEADER) {
        let value = value.to_str().map_err(|_| {
            ApiError::bad_request(
                Some(TAGS_HEADER),
                format!("{TAGS_HEADER} must be comma-separated text"),
            )
        })?;
        for tag in value.split(',') {
            check_len(TAGS_HEADER, tag.trim())?;
            push(&mut tags, tag.trim());
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(ApiError::bad_request(
            Some("tags"),
            format!(
                "A request may carry at most {MAX_TAGS} tags (metadata.tags, tags and \
                 {TAGS_HEADER} together); got {}",
                tags.len()
            ),
        ));
    }
    if let Some(key) = &caller.key {
        for tag in &key.tags {
            push(&mut tags, tag);
        }
        for tag in metadata_list(&key.metadata) {
            push(&mut tags, tag);
        }
    }
    if let Some(team) = &caller.team {
        for tag in metadata_list(&team.metadata) {
            push(&mut tags, tag);
        }
    }
    Ok(tags)
}

/// Adds a non-empty tag not seen yet.
fn push(tags: &mut Vec<String>, tag: &str) {
    if !tag.is_empty() && !tags.iter().any(|t| t == tag) {
        tags.push(tag.to_string());
    }
}

fn check_len(param: &str, tag: &str) -> Result<(), ApiError> {
    if tag.len() > MAX_TAG_LEN {
        return Err(ApiError::bad_request(
            Some(param),
            format!("{param}: a tag may be at most {MAX_TAG_LEN} bytes long"),
        ));
    }
    Ok(())
}

/// A client's tag list: absent or `null` is none; anything but a list of strings is a 400.
fn client_list<'v>(param: &str, value: Option<&'v Value>) -> Result<Vec<&'v str>, ApiError> {
    let bad = || {
        ApiError::bad_request(
            Some(param),
            format!("{param} must be a list of strings, e.g. [\"team:search\", \"prod\"]"),
        )
    };
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                let tag = v.as_str().ok_or_else(bad)?;
                check_len(param, tag)?;
                Ok(tag)
            })
            .collect(),
        Some(_) => Err(bad()),
    }
}

/// The string entries of a stored `metadata.tags` (an admin wrote it; anything else is skipped).
fn metadata_list(metadata: &Map<String, Value>) -> impl Iterator<Item = &str> {
    metadata
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::http::HeaderValue;
    use chrono::Utc;
    use serde_json::json;

    use litellm_auth::{KeyRecord, TeamRecord};

    use super::*;

    fn caller() -> Caller {
        let now = Utc::now();
        let mut key = KeyRecord::new("hash".into(), "sk-...abcd".into(), now);
        key.tags = vec!["key-tag".into(), "shared".into()];
        key.metadata.insert("tags".into(), json!(["key-meta", 7]));
        let mut team = TeamRecord::new("t".into(), now);
        team.metadata
            .insert("tags".into(), json!(["team-tag", "shared"]));
        Caller {
            key: Some(Arc::new(key)),
            team: Some(Arc::new(team)),
            ..Caller::default()
        }
    }

    #[test]
    fn tags_come_from_body_header_key_and_team_in_order_without_duplicates() {
        let mut headers = HeaderMap::new();
        headers.insert(TAGS_HEADER, HeaderValue::from_static(" h1, ,shared ,b1"));
        let tags = of_request(
            &headers,
            Some(&json!(["m1", "b1"])),
            Some(&json!(["b1", "b2"])),
            &caller(),
        )
        .expect("valid tags");
        assert_eq!(
            tags,
            ["m1", "b1", "b2", "h1", "shared", "key-tag", "key-meta", "team-tag"]
        );
        let none = of_request(
            &HeaderMap::new(),
            None,
            Some(&Value::Null),
            &Caller::default(),
        )
        .expect("no tags");
        assert!(none.is_empty());
    }

    #[test]
    fn bad_client_tags_are_a_400_naming_the_field() {
        let h = HeaderMap::new();
        let c = Caller::default();
        for (meta, body, param) in [
            (Some(json!("prod")), None, "metadata.tags"),
            (None, Some(json!([1, 2])), "tags"),
            (None, Some(json!({"a": 1})), "tags"),
            (None, Some(json!(["x".repeat(MAX_TAG_LEN + 1)])), "tags"),
        ] {
            let e = of_request(&h, meta.as_ref(), body.as_ref(), &c).expect_err("refused");
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
            assert_eq!(e.param.as_deref(), Some(param));
        }
        let many: Vec<String> = (0..=MAX_TAGS).map(|i| format!("t{i}")).collect();
        let e = of_request(&h, Some(&json!(many)), None, &c).expect_err("too many");
        assert_eq!(e.param.as_deref(), Some("tags"));
    }
}
