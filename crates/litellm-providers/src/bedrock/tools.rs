//! Bedrock Converse tool translation: `toolSpec`s, tool choice, cache points, and JSON mode
//! through the `json_tool_call` tool.

use serde_json::{json, Value};

use litellm_core::{ErrorKind, JsonMap, KnownResponseFormat, LlmError, ResponseFormat, ToolChoice};

use super::wire::{self, CachePoint, InputSchema, Tool, ToolSpec};
use super::{PROVIDER, RESPONSE_FORMAT_TOOL_NAME};
use crate::request_common::{missing_function, unknown_tool_choice};

/// A `toolSpec` (Converse requires a description: the name stands in, as LiteLLM does).
pub(super) fn tool_spec(
    name: String,
    description: Option<String>,
    parameters: Option<Value>,
) -> Tool {
    let mut schema = parameters.unwrap_or_else(|| json!({"type": "object", "properties": {}}));
    if let Value::Object(s) = &mut schema {
        s.entry("type").or_insert_with(|| json!("object"));
    }
    let description = description
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| name.clone());
    Tool::ToolSpec(ToolSpec {
        name,
        description,
        input_schema: InputSchema { json: schema },
    })
}

/// A client tool as Converse tools (followed by a cache point when it asks for one).
pub(super) fn translate_tool(tool: litellm_core::Tool) -> Result<Vec<Tool>, LlmError> {
    let cache = has_cache_control(&tool.extra);
    let spec = if tool.kind == "function" {
        match tool.function {
            Some(f) => {
                let cache_f = has_cache_control(&f.extra);
                let mut out = vec![tool_spec(f.name, f.description, f.parameters)];
                if cache || cache_f {
                    out.push(Tool::CachePoint(CachePoint::DEFAULT));
                }
                return Ok(out);
            }
            None if tool.extra.contains_key("toolSpec") => {
                // Already in Converse's shape.
                let mut map = tool.extra;
                map.remove("type");
                Tool::Raw(Value::Object(map))
            }
            None => {
                return Err(missing_function());
            }
        }
    } else {
        return Err(LlmError::bad_param(
            "tools",
            format!(
                "tool type {:?} is not supported by bedrock; use function tools",
                tool.kind
            ),
        ));
    };
    let mut out = vec![spec];
    if cache {
        out.push(Tool::CachePoint(CachePoint::DEFAULT));
    }
    Ok(out)
}

/// An OpenAI `tool_choice` as Converse's (`None`: leave it out).
pub(super) fn translate_tool_choice(
    choice: ToolChoice,
    drop: bool,
) -> Result<Option<wire::ToolChoice>, LlmError> {
    Ok(Some(match choice {
        ToolChoice::Mode(mode) => match mode.as_str() {
            "auto" => wire::ToolChoice::Auto {},
            "required" | "any" => wire::ToolChoice::Any {},
            "none" if drop => return Ok(None),
            "none" => {
                let mut e = LlmError::client(
                    ErrorKind::BadRequest,
                    "UnsupportedParamsError: bedrock does not support tool_choice=\"none\". To \
                     drop it, set drop_params: true (or leave out the tools)",
                );
                e.param = Some("tool_choice".into());
                return Err(e.with_provider(PROVIDER));
            }
            other => {
                return Err(unknown_tool_choice(other));
            }
        },
        ToolChoice::Named(named) => wire::ToolChoice::Tool {
            name: named.function.name,
        },
        ToolChoice::Other(v) => wire::ToolChoice::Raw(v),
    }))
}

/// The `json_tool_call` tool for a `response_format`, `None` for `text`.
pub(super) fn response_format_tool(format: ResponseFormat) -> Result<Option<Tool>, LlmError> {
    let (schema, description) = match format {
        ResponseFormat::Known(KnownResponseFormat::Text) => return Ok(None),
        ResponseFormat::Known(KnownResponseFormat::JsonObject) => (None, None),
        ResponseFormat::Known(KnownResponseFormat::JsonSchema { json_schema }) => {
            (json_schema.schema, json_schema.description)
        }
        ResponseFormat::Other(v) => {
            let kind = v.get("type").and_then(Value::as_str).unwrap_or("?");
            return Err(LlmError::bad_param(
                "response_format",
                format!("response_format type {kind:?} is not supported for bedrock"),
            ));
        }
    };
    let schema = match schema {
        Some(Value::Object(s)) => Some(Value::Object(s)),
        _ => Some(json!({"type": "object", "additionalProperties": true, "properties": {}})),
    };
    Ok(Some(tool_spec(
        RESPONSE_FORMAT_TOOL_NAME.to_string(),
        description,
        schema,
    )))
}

/// Whether a client object asks for a prompt-cache checkpoint.
pub(super) fn has_cache_control(extra: &JsonMap) -> bool {
    extra.get("cache_control").is_some_and(|c| !c.is_null())
}
