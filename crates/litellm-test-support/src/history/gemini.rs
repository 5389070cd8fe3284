//! Gemini's `generateContent` history rules (Google AI Studio and Vertex AI): roles `user` /
//! `model`, non-empty `parts`, named function responses, a function-response turn right after
//! the function-call turn it answers with as many parts, and a function-call turn right after a
//! user turn or a function-response turn. Messages are worded as Google words them.

use serde_json::Value;

use super::{list, role};

/// How many parts of a content hold this key (`functionCall`, `functionResponse`).
fn count(content: &Value, key: &str) -> usize {
    list(content, "parts")
        .iter()
        .filter(|p| p.get(key).is_some())
        .count()
}

/// A content's role is `user` when absent.
fn is_user(content: &Value) -> bool {
    matches!(role(content), None | Some("user"))
}

/// Checks `contents`, content by content.
pub(super) fn check(body: &Value) -> Result<(), String> {
    let contents = list(body, "contents");
    for (i, c) in contents.iter().enumerate() {
        match c.get("role") {
            None | Some(Value::Null) => {}
            Some(Value::String(r)) if r == "user" || r == "model" => {}
            _ => return Err("Please use a valid role: user, model.".into()),
        }
        let parts = list(c, "parts");
        if parts.is_empty() {
            return Err(format!(
                "* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.\n"
            ));
        }
        for p in parts {
            if let Some(fr) = p.get("functionResponse") {
                if fr
                    .get("name")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    return Err(format!(
                        "* GenerateContentRequest.contents[{i}].parts: function_response.name: \
                         Name cannot be empty.\n"
                    ));
                }
            }
        }
        let previous = i.checked_sub(1).map(|p| &contents[p]);
        let responses = count(c, "functionResponse");
        if responses > 0 {
            let calls = previous
                .filter(|p| role(p) == Some("model"))
                .map(|p| count(p, "functionCall"))
                .unwrap_or(0);
            if calls == 0 {
                return Err(
                    "Please ensure that function response turn comes immediately after \
                            a function call turn."
                        .into(),
                );
            }
            if calls != responses {
                return Err(
                    "Please ensure that the number of function response parts is equal \
                            to the number of function call parts of the function call turn."
                        .into(),
                );
            }
        }
        if role(c) == Some("model")
            && count(c, "functionCall") > 0
            && !previous.is_some_and(is_user)
        {
            return Err(
                "Please ensure that function call turn comes immediately after a user \
                        turn or after a function response turn."
                    .into(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(contents: Value) -> Result<(), String> {
        check(&json!({ "contents": contents }))
    }

    fn text(role: &str, t: &str) -> Value {
        json!({"role": role, "parts": [{"text": t}]})
    }

    fn calls(n: usize) -> Value {
        let parts: Vec<Value> = (0..n)
            .map(|k| json!({"functionCall": {"name": format!("f{k}"), "args": {}}}))
            .collect();
        json!({"role": "model", "parts": parts})
    }

    fn responses(n: usize) -> Value {
        let parts: Vec<Value> = (0..n)
            .map(|k| json!({"functionResponse": {"name": format!("f{k}"), "response": {"r": k}}}))
            .collect();
        json!({"role": "user", "parts": parts})
    }

    #[test]
    fn a_function_calling_loop_passes() {
        let ok = run(json!([
            {"parts": [{"text": "weather?"}]},
            calls(2), responses(2),
            {"role": "model", "parts": [{"text": "sunny"}, {"functionCall": {"name": "g", "args": {}}}]},
            responses(1),
            text("model", "done"), text("user", "thanks"), text("user", "again"),
        ]));
        assert_eq!(ok, Ok(()));
    }

    #[test]
    fn roles_must_be_user_or_model() {
        for bad in ["assistant", "function", "system"] {
            assert_eq!(
                run(json!([text(bad, "x")])),
                Err("Please use a valid role: user, model.".into())
            );
        }
    }

    #[test]
    fn parts_must_not_be_empty() {
        assert_eq!(
            run(json!([text("user", "x"), {"role": "model", "parts": []}])),
            Err(
                "* GenerateContentRequest.contents[1].parts: contents.parts must not be empty.\n"
                    .into()
            )
        );
        assert!(run(json!([{"role": "user"}])).is_err());
    }

    #[test]
    fn a_function_response_must_follow_its_call_with_as_many_parts() {
        let after = "Please ensure that function response turn comes immediately after a \
                     function call turn.";
        assert_eq!(
            run(json!([text("user", "x"), responses(1)])),
            Err(after.into())
        );
        assert_eq!(
            run(json!([
                text("user", "x"),
                calls(1),
                text("model", "hm"),
                responses(1)
            ])),
            Err(after.into())
        );
        assert_eq!(
            run(json!([text("user", "x"), calls(2), responses(1)])),
            Err(
                "Please ensure that the number of function response parts is equal to the \
                 number of function call parts of the function call turn."
                    .into()
            )
        );
    }

    #[test]
    fn a_function_call_must_follow_a_user_turn() {
        let err = "Please ensure that function call turn comes immediately after a user turn \
                   or after a function response turn.";
        assert_eq!(run(json!([calls(1), responses(1)])), Err(err.into()));
        assert_eq!(
            run(json!([
                text("user", "x"),
                text("model", "y"),
                calls(1),
                responses(1)
            ])),
            Err(err.into())
        );
    }
}
