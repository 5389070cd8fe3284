//! Bedrock Converse's history rules: roles `user` / `assistant`, a first turn from the user,
//! alternating roles, non-empty content, each user turn answering every `toolUse` of the
//! assistant turn before it with a `toolResult` (and no more), and `toolConfig` whenever tool
//! blocks are present. Messages are worded as Bedrock words them.

use serde_json::Value;

use super::{blocks, role};

/// The ids of a message's blocks holding `key` (`toolUse`, `toolResult`).
fn tool_ids<'a>(message: &'a Value, key: &str) -> Vec<&'a str> {
    blocks(message)
        .iter()
        .filter_map(|b| b.get(key))
        .map(|t| t.get("toolUseId").and_then(Value::as_str).unwrap_or(""))
        .collect()
}

/// Checks `messages`: the shape of every message first, then the conversation.
pub(super) fn check(body: &Value) -> Result<(), String> {
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Err(
            "1 validation error detected: Value at 'messages' failed to satisfy \
                    constraint: Member must not be null"
                .into(),
        );
    };
    for (i, m) in messages.iter().enumerate() {
        let r = role(m).unwrap_or("null");
        if r != "user" && r != "assistant" {
            return Err(format!(
                "1 validation error detected: Value '{r}' at 'messages.{i}.member.role' failed \
                 to satisfy constraint: Member must satisfy enum value set: [user, assistant]"
            ));
        }
        if !m.get("content").is_some_and(Value::is_array) {
            return Err(format!(
                "1 validation error detected: Value null at 'messages.{i}.member.content' \
                 failed to satisfy constraint: Member must not be null"
            ));
        }
    }
    if messages.first().and_then(role) != Some("user") {
        return Err(
            "A conversation must start with a user message. Try again with a \
                    conversation that starts with a user message."
                .into(),
        );
    }
    for (i, m) in messages.iter().enumerate() {
        if blocks(m).is_empty() {
            return Err(format!(
                "The content field in the Message object at messages.{i} is empty. Add a \
                 ContentBlock object to the content field and try again."
            ));
        }
        let Some(previous) = i.checked_sub(1).map(|p| &messages[p]) else {
            continue;
        };
        if role(previous) == role(m) {
            return Err(
                "A conversation must alternate between user and assistant roles. Make \
                        sure the conversation alternates between user and assistant roles and \
                        try again."
                    .into(),
            );
        }
        let uses = tool_ids(previous, "toolUse");
        let results = tool_ids(m, "toolResult");
        if results.len() > uses.len() {
            return Err(format!(
                "The number of toolResult blocks at messages.{i}.content exceeds the number of \
                 toolUse blocks of previous turn."
            ));
        }
        let missing: Vec<&str> = uses
            .into_iter()
            .filter(|id| !results.contains(id))
            .collect();
        if role(m) == Some("user") && !missing.is_empty() {
            return Err(format!(
                "Expected toolResult blocks at messages.{i}.content for the following Ids: {}",
                missing.join(", ")
            ));
        }
    }
    let has_tool_blocks = messages.iter().any(|m| {
        blocks(m)
            .iter()
            .any(|b| b.get("toolUse").is_some() || b.get("toolResult").is_some())
    });
    if has_tool_blocks && body.get("toolConfig").is_none() {
        return Err(
            "The toolConfig field must be defined when using toolUse and toolResult \
                    content blocks."
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(messages: Value) -> Result<(), String> {
        check(&json!({"messages": messages, "toolConfig": {"tools": []}}))
    }

    fn text(role: &str, t: &str) -> Value {
        json!({"role": role, "content": [{"text": t}]})
    }

    fn uses(ids: &[&str]) -> Value {
        let content: Vec<Value> = ids
            .iter()
            .map(|id| json!({"toolUse": {"toolUseId": id, "name": "f", "input": {}}}))
            .collect();
        json!({"role": "assistant", "content": content})
    }

    fn results(ids: &[&str]) -> Value {
        let content: Vec<Value> = ids
            .iter()
            .map(|id| json!({"toolResult": {"toolUseId": id, "content": [{"text": "ok"}]}}))
            .collect();
        json!({"role": "user", "content": content})
    }

    #[test]
    fn a_tool_loop_passes() {
        let ok = run(json!([
            text("user", "weather?"),
            uses(&["a", "b"]),
            results(&["b", "a"]),
            text("assistant", "sunny"),
            text("user", "thanks"),
            uses(&["c"]),
        ]));
        assert_eq!(ok, Ok(()));
        let no_config = json!({"messages": [text("user", "x"), uses(&["a"]), results(&["a"])]});
        assert!(check(&no_config).is_err_and(|e| e.starts_with("The toolConfig field")));
    }

    #[test]
    fn the_conversation_starts_with_the_user_and_alternates() {
        let start = "A conversation must start with a user message. Try again with a \
                     conversation that starts with a user message.";
        assert_eq!(run(json!([])), Err(start.into()));
        assert_eq!(run(json!([text("assistant", "x")])), Err(start.into()));
        assert_eq!(
            run(json!([text("user", "x"), text("user", "y")])),
            Err(
                "A conversation must alternate between user and assistant roles. Make sure the \
                 conversation alternates between user and assistant roles and try again."
                    .into()
            )
        );
        assert!(run(json!([text("user", "x"), text("system", "y")]))
            .is_err_and(|e| e.contains("'messages.1.member.role'")));
    }

    #[test]
    fn content_must_not_be_empty() {
        assert_eq!(
            run(json!([text("user", "x"), {"role": "assistant", "content": []}])),
            Err(
                "The content field in the Message object at messages.1 is empty. Add a \
                 ContentBlock object to the content field and try again."
                    .into()
            )
        );
    }

    #[test]
    fn tool_results_must_match_the_previous_tool_uses() {
        for (previous, answer) in [
            (uses(&["a"]), results(&["a", "b"])),
            (text("assistant", "y"), results(&["a"])),
        ] {
            assert_eq!(
                run(json!([text("user", "x"), previous, answer])),
                Err(
                    "The number of toolResult blocks at messages.2.content exceeds the number \
                     of toolUse blocks of previous turn."
                        .into()
                )
            );
        }
        assert_eq!(
            run(json!([
                text("user", "x"),
                uses(&["a", "b"]),
                results(&["a"])
            ])),
            Err("Expected toolResult blocks at messages.2.content for the following Ids: b".into())
        );
        assert_eq!(
            run(json!([
                text("user", "x"),
                uses(&["a", "b"]),
                text("user", "y")
            ])),
            Err(
                "Expected toolResult blocks at messages.2.content for the following Ids: a, b"
                    .into()
            )
        );
        // An unknown id: the real one is then missing.
        assert_eq!(
            run(json!([text("user", "x"), uses(&["a"]), results(&["zz"])])),
            Err("Expected toolResult blocks at messages.2.content for the following Ids: a".into())
        );
    }
}
