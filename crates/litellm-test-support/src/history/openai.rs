//! OpenAI's Chat Completions history rules: supported roles, a `content` on every message but
//! an assistant one carrying tool calls, each `tool` message answering a `tool_call_id` of the
//! assistant message just before its run of tool messages, and every tool call of an assistant
//! message answered before the conversation goes on. Messages and `param`s are worded as OpenAI
//! words them (typo `preceeding` included).

use serde_json::{json, Value};

use super::{list, role};

const ROLES: &[&str] = &[
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];

/// Why OpenAI refuses a history: the error's `message` and the `param` it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAiRefusal {
    pub message: String,
    pub param: String,
}

impl OpenAiRefusal {
    /// OpenAI's error body for this refusal (sent with status 400).
    pub fn body(&self) -> Value {
        json!({"error": {"message": self.message, "type": "invalid_request_error",
            "param": self.param, "code": null}})
    }
}

fn refuse(message: String, param: String) -> Result<(), OpenAiRefusal> {
    Err(OpenAiRefusal { message, param })
}

/// The ids of an assistant message's `tool_calls` (empty when it has none).
fn call_ids(message: &Value) -> Vec<&str> {
    list(message, "tool_calls")
        .iter()
        .map(|c| c.get("id").and_then(Value::as_str).unwrap_or(""))
        .collect()
}

/// Checks `messages`, message by message.
pub(super) fn check(body: &Value) -> Result<(), OpenAiRefusal> {
    let messages = list(body, "messages");
    for (i, m) in messages.iter().enumerate() {
        let role_param = format!("messages.[{i}].role");
        let Some(r) = role(m) else {
            return refuse(
                format!("Missing required parameter: '{role_param}'."),
                role_param,
            );
        };
        if !ROLES.contains(&r) {
            return refuse(
                format!(
                    "Invalid value: '{r}'. Supported values are: 'system', 'assistant', 'user', \
                     'function', 'tool', and 'developer'."
                ),
                role_param,
            );
        }
        let calls = call_ids(m);
        let no_content = m.get("content").is_none_or(Value::is_null);
        let calls_something = !calls.is_empty() || m.get("function_call").is_some();
        if no_content && r != "function" && !(r == "assistant" && calls_something) {
            return refuse(
                "Invalid value for 'content': expected a string, got null.".into(),
                format!("messages.[{i}].content"),
            );
        }
        if r == "tool" {
            let answered = messages[..i]
                .iter()
                .rev()
                .find(|p| role(p) != Some("tool"))
                .filter(|p| role(p) == Some("assistant"))
                .map(call_ids)
                .unwrap_or_default();
            let id = m.get("tool_call_id").and_then(Value::as_str).unwrap_or("");
            if !answered.contains(&id) {
                return refuse(
                    "Invalid parameter: messages with role 'tool' must be a response to a \
                     preceeding message with 'tool_calls'."
                        .into(),
                    role_param,
                );
            }
        }
        if r == "assistant" && !calls.is_empty() && i + 1 < messages.len() {
            let responses: Vec<&str> = messages[i + 1..]
                .iter()
                .take_while(|n| role(n) == Some("tool"))
                .filter_map(|n| n.get("tool_call_id").and_then(Value::as_str))
                .collect();
            let missing: Vec<&str> = calls
                .into_iter()
                .filter(|id| !responses.contains(id))
                .collect();
            if !missing.is_empty() {
                return refuse(
                    format!(
                        "An assistant message with 'tool_calls' must be followed by tool \
                         messages responding to each 'tool_call_id'. The following \
                         tool_call_ids did not have response messages: {}",
                        missing.join(", ")
                    ),
                    role_param,
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(messages: Value) -> Result<(), OpenAiRefusal> {
        check(&json!({ "messages": messages }))
    }

    fn calls(ids: &[&str]) -> Value {
        json!({"role": "assistant", "content": null, "tool_calls": ids.iter().map(|id| json!(
            {"id": id, "type": "function", "function": {"name": "f", "arguments": "{}"}}
        )).collect::<Vec<_>>()})
    }

    fn tool(id: &str) -> Value {
        json!({"role": "tool", "tool_call_id": id, "content": "42"})
    }

    fn refusal(message: &str, param: &str) -> Result<(), OpenAiRefusal> {
        Err(OpenAiRefusal {
            message: message.into(),
            param: param.into(),
        })
    }

    #[test]
    fn a_tool_loop_passes() {
        let ok = run(json!([
            {"role": "developer", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            calls(&["a", "b"]), tool("b"), tool("a"),
            {"role": "assistant", "content": "done"},
            {"role": "user", "content": "again"},
            calls(&["c"]),
        ]));
        assert_eq!(ok, Ok(()));
        let legacy = run(json!([
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": null, "function_call": {"name": "f", "arguments": "{}"}},
            {"role": "function", "name": "f", "content": "1"},
        ]));
        assert_eq!(legacy, Ok(()));
    }

    #[test]
    fn unknown_roles_are_refused() {
        assert_eq!(
            run(json!([{"role": "user", "content": "x"}, {"role": "model", "content": "y"}])),
            refusal(
                "Invalid value: 'model'. Supported values are: 'system', 'assistant', 'user', \
                 'function', 'tool', and 'developer'.",
                "messages.[1].role"
            )
        );
    }

    #[test]
    fn a_tool_message_must_follow_its_tool_call() {
        let err = "Invalid parameter: messages with role 'tool' must be a response to a \
                   preceeding message with 'tool_calls'.";
        assert_eq!(
            run(json!([{"role": "user", "content": "x"}, tool("a")])),
            refusal(err, "messages.[1].role")
        );
        // Not the nearest assistant message with tool calls: a user turn in between.
        assert_eq!(
            run(
                json!([{"role": "user", "content": "x"}, calls(&["a"]), tool("a"),
                {"role": "user", "content": "y"}, tool("a")])
            ),
            refusal(err, "messages.[4].role")
        );
        // An id the assistant message did not call.
        assert_eq!(
            run(json!([{"role": "user", "content": "x"}, calls(&["a"]), tool("a"), tool("b")])),
            refusal(err, "messages.[3].role")
        );
    }

    #[test]
    fn every_tool_call_needs_a_response() {
        assert_eq!(
            run(
                json!([{"role": "user", "content": "x"}, calls(&["a", "b", "c"]), tool("b"),
                {"role": "user", "content": "y"}])
            ),
            refusal(
                "An assistant message with 'tool_calls' must be followed by tool messages \
                 responding to each 'tool_call_id'. The following tool_call_ids did not have \
                 response messages: a, c",
                "messages.[1].role"
            )
        );
    }

    #[test]
    fn an_assistant_message_needs_content_or_tool_calls() {
        let err = "Invalid value for 'content': expected a string, got null.";
        assert_eq!(
            run(
                json!([{"role": "user", "content": "x"}, {"role": "assistant", "content": null},
                {"role": "user", "content": "y"}])
            ),
            refusal(err, "messages.[1].content")
        );
        assert_eq!(
            run(json!([{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": []}])),
            refusal(err, "messages.[1].content")
        );
        assert_eq!(
            run(json!([{"role": "user"}])),
            refusal(err, "messages.[0].content")
        );
    }
}
