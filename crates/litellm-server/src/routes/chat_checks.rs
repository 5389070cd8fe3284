//! The checks OpenAI itself makes of a chat request, made here before anything is sent: a 400
//! naming the field (OpenAI's `param` spelling, `messages.[0].content.[1].type`) for a content
//! part without a `type`, a text part whose `text` is missing or not a string, an `image_url`
//! that is neither a string nor an object, a function tool without `function` or whose
//! `parameters` is not an object, a `tool_choice` that is neither a string nor an object,
//! non-numeric `logit_bias` values, and a `response_format` that is not an object. Parts and
//! shapes OpenAI does not define (other providers' extensions) pass untouched.

use serde_json::Value;

use litellm_core::{ChatRequest, Content, ContentPart, Message, ResponseFormat, ToolChoice};

use crate::error::ApiError;

/// A 400 naming `param`.
fn refuse(param: String, message: &str) -> ApiError {
    let text = format!("Invalid value for '{param}': {message}");
    ApiError::bad_request(Some(&param), text)
}

/// Checks `req` as OpenAI would (see the module docs).
pub fn check(req: &ChatRequest) -> Result<(), ApiError> {
    for (i, m) in req.messages.iter().enumerate() {
        let content = match m {
            Message::System(m) | Message::Developer(m) => Some(&m.content),
            Message::User(m) => Some(&m.content),
            Message::Assistant(m) => m.content.as_ref(),
            Message::Tool(m) => Some(&m.content),
            Message::Function(_) => None,
        };
        if let Some(Content::Parts(parts)) = content {
            for (j, part) in parts.iter().enumerate() {
                if let ContentPart::Other(v) = part {
                    check_part(v, &format!("messages.[{i}].content.[{j}]"))?;
                }
            }
        }
    }
    for (i, tool) in req.tools.iter().flatten().enumerate() {
        if tool.kind != "function" {
            continue;
        }
        let Some(f) = &tool.function else {
            return Err(refuse(
                format!("tools.[{i}].function"),
                "a function tool needs `function`",
            ));
        };
        if f.parameters.as_ref().is_some_and(|p| !p.is_object()) {
            let param = format!("tools.[{i}].function.parameters");
            return Err(refuse(param, "must be a JSON Schema object"));
        }
    }
    if let Some((token, _)) = req
        .logit_bias
        .iter()
        .flatten()
        .find(|(_, bias)| !bias.is_number())
    {
        let param = format!("logit_bias.{token}");
        return Err(refuse(param, "a bias must be a number from -100 to 100"));
    }
    // Shapes our types leave as JSON: OpenAI takes only objects there.
    let tool_choice = match &req.tool_choice {
        Some(ToolChoice::Other(v)) => Some(v),
        _ => None,
    };
    let response_format = match &req.response_format {
        Some(ResponseFormat::Other(v)) => Some(v),
        _ => None,
    };
    for (value, param, message) in [
        (
            tool_choice,
            "tool_choice",
            "must be \"none\", \"auto\", \"required\" or an object",
        ),
        (
            response_format,
            "response_format",
            "must be an object such as {\"type\": \"json_object\"}",
        ),
    ] {
        if value.is_some_and(|v| !v.is_object()) {
            return Err(refuse(param.into(), message));
        }
    }
    Ok(())
}

/// A content part our types did not recognise: refused when it breaks OpenAI's own rules.
fn check_part(part: &Value, at: &str) -> Result<(), ApiError> {
    let Some(obj) = part.as_object() else {
        return Err(refuse(at.to_string(), "a content part must be an object"));
    };
    match obj.get("type").map(|t| t.as_str()) {
        None => Err(refuse(
            format!("{at}.type"),
            "a content part needs a `type`",
        )),
        Some(None) => Err(refuse(format!("{at}.type"), "must be a string")),
        Some(Some("text")) if !obj.get("text").is_some_and(Value::is_string) => Err(refuse(
            format!("{at}.text"),
            "a text part needs `text`, a string",
        )),
        Some(Some("image_url"))
            if !obj
                .get("image_url")
                .is_some_and(|u| u.is_string() || u.is_object()) =>
        {
            let message = "must be a URL string or an object with `url`";
            Err(refuse(format!("{at}.image_url"), message))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(body: Value) -> Option<(String, String)> {
        let req: ChatRequest = serde_json::from_value(body).expect("parses");
        check(&req)
            .err()
            .map(|e| (e.param.unwrap_or_default(), e.message))
    }

    fn chat(extra: Value) -> Value {
        let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "x"}]});
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        body
    }

    fn parts(parts: Value) -> Value {
        json!({"model": "m", "messages": [{"role": "user", "content": parts}]})
    }

    #[test]
    fn what_openai_refuses_is_refused_naming_the_field() {
        let cases = [
            (
                parts(json!([{"text": "hi"}])),
                "messages.[0].content.[0].type",
            ),
            (
                parts(json!([{"type": "text"}])),
                "messages.[0].content.[0].text",
            ),
            (
                parts(json!([{"type": "text", "text": 5}])),
                "messages.[0].content.[0].text",
            ),
            (
                parts(
                    json!([{"type": "text", "text": "a"}, {"type": "image_url", "image_url": 5}]),
                ),
                "messages.[0].content.[1].image_url",
            ),
            (parts(json!([7])), "messages.[0].content.[0]"),
            (
                chat(json!({"tools": [{"type": "function"}]})),
                "tools.[0].function",
            ),
            (
                chat(json!({"tools": [{"type": "function",
                    "function": {"name": "f", "parameters": "x"}}]})),
                "tools.[0].function.parameters",
            ),
            (chat(json!({"tool_choice": 5})), "tool_choice"),
            (
                chat(json!({"logit_bias": {"50256": "a"}})),
                "logit_bias.50256",
            ),
            (chat(json!({"response_format": "json"})), "response_format"),
        ];
        for (body, param) in cases {
            let (got, message) = refused(body.clone()).unwrap_or_else(|| panic!("passed: {body}"));
            assert_eq!(got, param, "{body}");
            assert!(message.contains(param), "{message}");
        }
    }

    #[test]
    fn what_openai_accepts_passes() {
        for body in [
            parts(json!([{"type": "text", "text": "hi"},
                         {"type": "image_url", "image_url": "https://x/y.png"},
                         {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
                         {"type": "document", "source": {}}])),
            chat(
                json!({"tools": [{"type": "function", "function": {"name": "f"}},
                                  {"type": "web_search_preview"}],
                        "tool_choice": "auto", "logit_bias": {"1": -100},
                        "response_format": {"type": "json_object"}}),
            ),
            chat(json!({"tool_choice": {"type": "allowed_tools", "mode": "auto"}})),
        ] {
            assert_eq!(refused(body.clone()), None, "{body}");
        }
    }
}
