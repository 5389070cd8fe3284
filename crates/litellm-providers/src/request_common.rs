//! Request-translation helpers the native-format adapters (Anthropic, Gemini, Bedrock, Ollama)
//! share: data URLs, tool-call arguments, reasoning budgets and merging same-role turns.

use serde_json::{json, Value};

use litellm_core::{EmbeddingInput, EmbeddingRequest, FunctionCall, LlmError, ToolCall};

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

/// An assistant message's tool calls, then its legacy `function_call` (given the id
/// `{legacy_prefix}{name}`), each as id, function name and parsed arguments (see
/// [`parse_arguments`]).
pub(crate) fn assistant_calls(
    tool_calls: Option<Vec<ToolCall>>,
    function_call: Option<FunctionCall>,
    legacy_prefix: &str,
    param: &str,
) -> Result<Vec<(String, String, Value)>, LlmError> {
    let calls = tool_calls.into_iter().flatten().map(|c| (c.id, c.function));
    let legacy = function_call
        .into_iter()
        .map(|f| (format!("{legacy_prefix}{}", f.name), f));
    calls
        .chain(legacy)
        .map(|(id, function)| {
            let input = parse_arguments(&function.arguments, &id, param)?;
            Ok((id, function.name, input))
        })
        .collect()
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

/// The 400 for a function tool without its `function` object.
pub(crate) fn missing_function() -> LlmError {
    LlmError::bad_param("tools", "a function tool needs a `function` object")
}

/// The 400 for a `tool_choice` mode that is none of `none`, `auto`, `required` (or `any`).
pub(crate) fn unknown_tool_choice(mode: &str) -> LlmError {
    LlmError::bad_param(
        "tool_choice",
        format!("tool_choice {mode:?} is not one of none, auto, required"),
    )
}

/// The 400 (naming `provider`) for a `response_format` of a type the provider has no
/// equivalent for.
pub(crate) fn unsupported_response_format(format: &Value, provider: &str) -> LlmError {
    let kind = format.get("type").and_then(Value::as_str).unwrap_or("?");
    LlmError::bad_param(
        "response_format",
        format!("response_format type {kind:?} is not supported for {provider}"),
    )
    .with_provider(provider)
}

/// The texts of an embeddings request: token input is a 400 naming `provider`, and so is no
/// input at all.
pub(crate) fn embedding_texts(
    req: &EmbeddingRequest,
    provider: &str,
) -> Result<Vec<String>, LlmError> {
    let texts = match &req.input {
        EmbeddingInput::Text(_) | EmbeddingInput::Texts(_) => req.input.texts(),
        _ => {
            return Err(LlmError::bad_param(
                "input",
                format!("{provider} embeddings take text input, not token arrays"),
            )
            .with_provider(provider));
        }
    };
    if texts.is_empty() {
        return Err(LlmError::bad_param("input", "input must not be empty"));
    }
    Ok(texts)
}
