//! Anthropic's Messages API history rules: the roles a message may have, non-empty content,
//! every `tool_result` answering a `tool_use` of the message just before, every `tool_use`
//! answered in the message just after, and signed `thinking` blocks. The messages are worded as
//! Anthropic words them. Consecutive messages of one role are allowed (Anthropic merges them).

use axum::http::HeaderMap;
use serde_json::Value;

use super::{blocks, list, role};

/// Betas under which Claude Code sends `{"role": "system"}` messages inside `messages`.
const SYSTEM_MESSAGE_BETAS: &[&str] = &["mid-conversation-system", "per-turn-control"];

/// Whether the request enables a beta allowing `system` messages: in an `anthropic-beta` header
/// (comma-separated, possibly repeated) or in the body's `anthropic_beta` list.
fn system_messages_allowed(body: &Value, headers: &HeaderMap) -> bool {
    let from_headers = headers
        .get_all("anthropic-beta")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::to_string);
    let from_body = list(body, "anthropic_beta")
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string);
    from_headers
        .chain(from_body)
        .any(|b| SYSTEM_MESSAGE_BETAS.iter().any(|p| b.trim().starts_with(p)))
}

/// Whether a message's content is non-empty (a non-empty string or a non-empty list).
fn has_content(message: &Value) -> bool {
    match message.get("content") {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        _ => false,
    }
}

/// The ids of a message's blocks of this type, read from `key`, with the block index.
fn ids<'a>(message: &'a Value, kind: &str, key: &str) -> Vec<(usize, &'a str)> {
    blocks(message)
        .iter()
        .enumerate()
        .filter(|(_, b)| b.get("type").and_then(Value::as_str) == Some(kind))
        .map(|(j, b)| (j, b.get(key).and_then(Value::as_str).unwrap_or("")))
        .collect()
}

/// Checks `messages` as Anthropic does: first the shape of every message (role, content
/// present, thinking signatures), then the conversation (non-empty content, tool pairing).
pub(super) fn check(body: &Value, headers: &HeaderMap) -> Result<(), String> {
    let messages = list(body, "messages");
    let system_ok = system_messages_allowed(body, headers);
    for (i, m) in messages.iter().enumerate() {
        match role(m) {
            Some("user" | "assistant") => {}
            Some("system") if system_ok => {}
            _ => {
                return Err(format!(
                    "messages.{i}.role: Input should be 'user' or 'assistant'"
                ))
            }
        }
        if m.get("content").is_none_or(Value::is_null) {
            return Err(format!("messages.{i}.content: Field required"));
        }
        if role(m) == Some("assistant") {
            for (j, b) in blocks(m).iter().enumerate() {
                if b.get("type").and_then(Value::as_str) == Some("thinking")
                    && !b.get("signature").is_some_and(Value::is_string)
                {
                    return Err(format!(
                        "messages.{i}.content.{j}.thinking.signature: Field required"
                    ));
                }
            }
        }
    }
    // Indexes of the non-system messages: tool pairing skips `system` messages.
    let turns: Vec<usize> = (0..messages.len())
        .filter(|&i| role(&messages[i]) != Some("system"))
        .collect();
    let last = messages.len().saturating_sub(1);
    for (i, m) in messages.iter().enumerate() {
        let optional = i == last && role(m) == Some("assistant");
        if !has_content(m) && !optional {
            return Err(format!(
                "messages.{i}: all messages must have non-empty content except for the optional \
                 final assistant message"
            ));
        }
        if role(m) == Some("system") {
            continue;
        }
        let pos = turns.iter().position(|&t| t == i).unwrap_or(0);
        let previous = pos
            .checked_sub(1)
            .map(|p| &messages[turns[p]])
            .filter(|p| role(p) == Some("assistant"));
        let offered: Vec<&str> = previous
            .map(|p| {
                ids(p, "tool_use", "id")
                    .into_iter()
                    .map(|(_, id)| id)
                    .collect()
            })
            .unwrap_or_default();
        for (j, id) in ids(m, "tool_result", "tool_use_id") {
            if !offered.contains(&id) {
                return Err(format!(
                    "messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` \
                     blocks: {id}. Each `tool_result` block must have a corresponding \
                     `tool_use` block in the previous message."
                ));
            }
        }
        if role(m) != Some("assistant") {
            continue;
        }
        let Some(&next) = turns.get(pos + 1) else {
            continue;
        };
        let answered = ids(&messages[next], "tool_result", "tool_use_id");
        let missing: Vec<&str> = ids(m, "tool_use", "id")
            .into_iter()
            .map(|(_, id)| id)
            .filter(|id| !answered.iter().any(|(_, a)| a == id))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "messages.{i}: `tool_use` ids were found without `tool_result` blocks \
                 immediately after: {}. Each `tool_use` block must have a corresponding \
                 `tool_result` block in the next message.",
                missing.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(messages: Value) -> Result<(), String> {
        check(&json!({ "messages": messages }), &HeaderMap::new())
    }

    fn tool_use(id: &str) -> Value {
        json!({"type": "tool_use", "id": id, "name": "lookup", "input": {}})
    }

    fn tool_result(id: &str) -> Value {
        json!({"type": "tool_result", "tool_use_id": id, "content": "ok"})
    }

    #[test]
    fn a_tool_loop_with_thinking_passes() {
        let thinking = json!({"type": "thinking", "thinking": "hm", "signature": "sig"});
        let ok = run(json!([
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": [thinking, tool_use("a"), tool_use("b")]},
            {"role": "user", "content": [tool_result("a"), tool_result("b")]},
            {"role": "assistant", "content": "sunny"},
            {"role": "user", "content": "thanks"},
            {"role": "user", "content": [{"type": "text", "text": "again"}]},
            {"role": "assistant", "content": [tool_use("c")]},
        ]));
        assert_eq!(ok, Ok(()));
        // The optional final assistant message may be empty (a prefill).
        let prefill =
            run(json!([{"role": "user", "content": "x"}, {"role": "assistant", "content": ""}]));
        assert_eq!(prefill, Ok(()));
    }

    #[test]
    fn system_messages_need_a_beta() {
        let messages = json!([
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [tool_use("a")]},
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [tool_result("a")]},
        ]);
        assert_eq!(
            run(messages.clone()),
            Err("messages.2.role: Input should be 'user' or 'assistant'".into())
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            "anthropic-beta",
            "oauth-2025-04-20, mid-conversation-system-2026-01-01"
                .parse()
                .expect("header"),
        );
        assert_eq!(check(&json!({ "messages": messages }), &headers), Ok(()));
        let body = json!({"messages": messages, "anthropic_beta": ["per-turn-control-x"]});
        assert_eq!(check(&body, &HeaderMap::new()), Ok(()));
    }

    #[test]
    fn empty_content_is_refused_except_a_final_assistant_message() {
        let err = "messages.1: all messages must have non-empty content except for the optional \
                   final assistant message";
        let r = run(json!([
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": []},
            {"role": "user", "content": "y"},
        ]));
        assert_eq!(r, Err(err.into()));
        let r = run(json!([{"role": "user", "content": "x"}, {"role": "user", "content": ""}]));
        assert_eq!(r, Err(err.into()));
        let r = run(json!([{"role": "user"}]));
        assert_eq!(r, Err("messages.0.content: Field required".into()));
    }

    #[test]
    fn a_tool_result_must_answer_the_previous_message() {
        let r = run(json!([
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": [tool_use("a")]},
            {"role": "user", "content": [tool_result("a"), tool_result("zz")]},
        ]));
        assert_eq!(
            r,
            Err(
                "messages.2.content.1: unexpected `tool_use_id` found in `tool_result` blocks: \
                 zz. Each `tool_result` block must have a corresponding `tool_use` block in the \
                 previous message."
                    .into()
            )
        );
        // A dropped assistant turn: the result follows a user message.
        let r = run(json!([
            {"role": "user", "content": "x"},
            {"role": "user", "content": [tool_result("a")]},
        ]));
        assert!(r.is_err_and(|e| e.starts_with("messages.1.content.0: unexpected `tool_use_id`")));
    }

    #[test]
    fn a_tool_use_must_be_answered_in_the_next_message() {
        let r = run(json!([
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": [tool_use("a"), tool_use("b")]},
            {"role": "user", "content": [tool_result("a")]},
            {"role": "user", "content": [tool_result("b")]},
        ]));
        assert_eq!(
            r,
            Err(
                "messages.1: `tool_use` ids were found without `tool_result` blocks immediately \
                 after: b. Each `tool_use` block must have a corresponding `tool_result` block \
                 in the next message."
                    .into()
            )
        );
        let r = run(json!([
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": [tool_use("a"), tool_use("b")]},
            {"role": "user", "content": "no results"},
        ]));
        assert!(r.is_err_and(|e| e.contains("immediately after: a, b.")));
    }

    #[test]
    fn thinking_blocks_need_a_signature() {
        let r = run(json!([
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": [{"type": "text", "text": "a"},
                {"type": "thinking", "thinking": "hm"}]},
            {"role": "user", "content": "y"},
        ]));
        assert_eq!(
            r,
            Err("messages.1.content.1.thinking.signature: Field required".into())
        );
    }
}
