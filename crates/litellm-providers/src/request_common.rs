//! Request-translation helpers the native-format adapters (Anthropic, Gemini, Bedrock, Ollama)
//! share: data URLs, tool-call arguments, reasoning budgets and merging same-role turns.

use serde_json::{json, Value};

use litellm_core::LlmError;

/// A `data:<media>;base64,<data>` URL split into media type (`image/png` when empty) and data.
pub(crate) fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media = meta.strip_suffix(";base64")?;
    Some((if media.is_empty() { "image/png" } else { media }, data))
}

/// A tool call's JSON-string arguments as a value (`{}` when blank); invalid JSON is a 400 on
/// `param`.
pub(crate) fn parse_arguments(arguments: &str, id: &str, param: &str) -> Result<Value, LlmError> {
    if arguments.trim().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_str::<Value>(arguments).map_err(|e| {
        LlmError::bad_param(
            param,
            format!("the arguments of tool call {id:?} are not valid JSON: {e}"),
        )
    })
}

/// LiteLLM's Anthropic thinking budget for a `reasoning_effort` (`None`: thinking off).
pub(crate) fn thinking_budget(effort: &str, provider: &str) -> Result<Option<u32>, LlmError> {
    Ok(Some(match effort.trim() {
        "" | "none" | "disable" => return Ok(None),
        "minimal" | "low" => 1024,
        "medium" => 2048,
        "high" => 4096,
        other => {
            return Err(LlmError::bad_param(
                "reasoning_effort",
                format!(
                    "reasoning_effort {other:?} is not supported for {provider}; use none, \
                     minimal, low, medium or high"
                ),
            ))
        }
    }))
}

/// `reasoning_effort` as an Anthropic `thinking` object (`None`: thinking off).
pub(crate) fn enabled_thinking(effort: &str, provider: &str) -> Result<Option<Value>, LlmError> {
    let budget = thinking_budget(effort, provider)?;
    Ok(budget.map(|budget_tokens| json!({"type": "enabled", "budget_tokens": budget_tokens})))
}

/// Appends a turn's items, merged into the last turn when the role repeats; an empty turn is
/// left out.
pub(crate) fn push_turn<T>(
    turns: &mut Vec<(&'static str, Vec<T>)>,
    role: &'static str,
    items: Vec<T>,
) {
    if items.is_empty() {
        return;
    }
    match turns.last_mut() {
        Some((last_role, last)) if *last_role == role => last.extend(items),
        _ => turns.push((role, items)),
    }
}
