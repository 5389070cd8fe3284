//! Responses request → OpenAI `ChatRequest` ([`to_chat_request`]): instructions, stored
//! history, input items, tools, tool choice, text format and reasoning; the conversation to
//! store after a response ([`next_history`]).

use serde_json::Value;

use litellm_core::{
    AssistantMessage, ChatRequest, ChatResponse, Content, ContentPart, FilePart, FileRef,
    FunctionCall, FunctionDefinition, FunctionName, ImageUrl, ImageUrlPart, JsonMap,
    JsonSchemaFormat, KnownContentPart, KnownResponseFormat, LlmError, Message, NamedToolChoice,
    ResponseFormat, StreamOptions, SystemMessage, TextPart, Tool, ToolCall, ToolChoice,
    ToolMessage, UserMessage,
};

use super::items::{FunctionOutput, InputContent, InputItem, InputPart, KnownInputPart};
use super::{ResponsesInput, ResponsesRequest, ResponsesTool, ResponsesToolChoice, TextConfig};

/// Fields outside the typed ones that are forwarded to the chat request (besides LiteLLM's own
/// keys, such as `mock_response` or `tags`, which the proxy consumes).
const FORWARDED: &[&str] = &[
    "seed",
    "stop",
    "top_k",
    "frequency_penalty",
    "presence_penalty",
    "service_tier",
    "tags",
    "fallbacks",
    "disable_fallbacks",
];

fn text_part(text: impl Into<String>) -> ContentPart {
    ContentPart::Known(KnownContentPart::Text(TextPart {
        text: text.into(),
        extra: JsonMap::new(),
    }))
}

fn file_part(
    file_data: Option<String>,
    file_id: Option<String>,
    name: Option<String>,
) -> ContentPart {
    ContentPart::Known(KnownContentPart::File(FilePart {
        file: FileRef {
            file_data,
            file_id,
            filename: name,
            extra: JsonMap::new(),
        },
        extra: JsonMap::new(),
    }))
}

fn part_type(v: &Value) -> String {
    v.get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// One input part as a chat content part.
fn chat_part(part: &InputPart, param: &str) -> Result<ContentPart, LlmError> {
    let known = match part {
        InputPart::Known(k) => k,
        InputPart::Other(v) => {
            return Err(LlmError::bad_param(
                format!("{param}.type"),
                format!(
                    "content part type {:?} is not supported by /v1/responses on this model",
                    part_type(v)
                ),
            ))
        }
    };
    match known {
        KnownInputPart::InputText { text } | KnownInputPart::OutputText { text, .. } => {
            Ok(text_part(text.clone()))
        }
        KnownInputPart::Refusal { refusal } => Ok(text_part(refusal.clone())),
        KnownInputPart::InputImage {
            image_url: Some(url),
            detail,
            ..
        } => Ok(ContentPart::Known(KnownContentPart::ImageUrl(
            ImageUrlPart {
                image_url: ImageUrl {
                    url: url.clone(),
                    detail: detail.clone(),
                    extra: JsonMap::new(),
                },
                extra: JsonMap::new(),
            },
        ))),
        KnownInputPart::InputImage {
            image_url: None,
            file_id: Some(id),
            ..
        } => Ok(file_part(None, Some(id.clone()), None)),
        KnownInputPart::InputImage { .. } => Err(LlmError::bad_param(
            format!("{param}.image_url"),
            "input_image needs image_url or file_id",
        )),
        KnownInputPart::InputFile {
            file_data: Some(data),
            filename,
            ..
        } => Ok(file_part(Some(data.clone()), None, filename.clone())),
        KnownInputPart::InputFile {
            file_id: Some(id),
            filename,
            ..
        } => Ok(file_part(None, Some(id.clone()), filename.clone())),
        KnownInputPart::InputFile {
            file_url: Some(_), ..
        } => Err(LlmError::bad_param(
            format!("{param}.file_url"),
            "input_file by file_url is not supported on this model; send file_data or file_id",
        )),
        KnownInputPart::InputFile { .. } => Err(LlmError::bad_param(
            format!("{param}.file_data"),
            "input_file needs file_data or file_id",
        )),
    }
}

/// Content parts as chat content: a string stays a string.
fn chat_content(content: &InputContent, param: &str) -> Result<Content, LlmError> {
    match content {
        InputContent::Text(t) => Ok(Content::Text(t.clone())),
        InputContent::Parts(parts) => parts
            .iter()
            .enumerate()
            .map(|(i, p)| chat_part(p, &format!("{param}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Content::Parts),
    }
}

/// Text-only content (system, developer, assistant turns) as one string.
fn text_only(content: &InputContent, param: &str, role: &str) -> Result<String, LlmError> {
    match content {
        InputContent::Text(t) => Ok(t.clone()),
        InputContent::Parts(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for (i, p) in parts.iter().enumerate() {
                match p {
                    InputPart::Known(
                        KnownInputPart::InputText { text }
                        | KnownInputPart::OutputText { text, .. },
                    ) => out.push(text.as_str()),
                    InputPart::Known(KnownInputPart::Refusal { refusal }) => {
                        out.push(refusal.as_str())
                    }
                    other => {
                        let kind = serde_json::to_value(other)
                            .map(|v| part_type(&v))
                            .unwrap_or_default();
                        return Err(LlmError::bad_param(
                            format!("{param}[{i}].type"),
                            format!(
                                "content part type {kind:?} is not allowed in a {role} message"
                            ),
                        ));
                    }
                }
            }
            Ok(out.join(""))
        }
    }
}

/// The chat messages of the input items, in order.
fn input_messages(items: &[InputItem], out: &mut Vec<Message>) -> Result<(), LlmError> {
    // The assistant turn being built: text from an assistant message, then the tool calls of
    // the `function_call` items that follow it.
    let mut pending: Option<AssistantMessage> = None;
    let flush = |pending: &mut Option<AssistantMessage>, out: &mut Vec<Message>| {
        if let Some(m) = pending.take() {
            out.push(Message::Assistant(m));
        }
    };
    for (i, item) in items.iter().enumerate() {
        let param = format!("input[{i}]");
        match item {
            InputItem::Message(m) => {
                flush(&mut pending, out);
                let content_param = format!("{param}.content");
                match m.role.as_str() {
                    "user" => out.push(Message::User(UserMessage {
                        content: chat_content(&m.content, &content_param)?,
                        name: None,
                        extra: JsonMap::new(),
                    })),
                    role @ ("system" | "developer") => {
                        let msg = SystemMessage {
                            content: Content::Text(text_only(&m.content, &content_param, role)?),
                            name: None,
                            extra: JsonMap::new(),
                        };
                        out.push(if role == "system" {
                            Message::System(msg)
                        } else {
                            Message::Developer(msg)
                        });
                    }
                    "assistant" => {
                        let text = text_only(&m.content, &content_param, "assistant")?;
                        pending = Some(AssistantMessage {
                            content: Some(Content::Text(text)),
                            ..Default::default()
                        });
                    }
                    other => {
                        return Err(LlmError::bad_param(
                            format!("{param}.role"),
                            format!("message role {other:?} is not one of user, assistant, system, developer"),
                        ))
                    }
                }
            }
            InputItem::FunctionCall(call) => {
                let msg = pending.get_or_insert_with(AssistantMessage::default);
                msg.tool_calls.get_or_insert_with(Vec::new).push(ToolCall {
                    id: call.call_id.clone(),
                    kind: "function".into(),
                    function: FunctionCall {
                        name: call.name.clone(),
                        arguments: call.arguments.clone(),
                    },
                });
            }
            InputItem::FunctionCallOutput(result) => {
                flush(&mut pending, out);
                let content = match &result.output {
                    FunctionOutput::Text(t) => Content::Text(t.clone()),
                    FunctionOutput::Parts(parts) => {
                        let c = chat_content(
                            &InputContent::Parts(parts.clone()),
                            &format!("{param}.output"),
                        )?;
                        match &c {
                            Content::Parts(ps)
                                if ps.iter().all(|p| {
                                    matches!(p, ContentPart::Known(KnownContentPart::Text(_)))
                                }) =>
                            {
                                Content::Text(c.text())
                            }
                            _ => c,
                        }
                    }
                };
                out.push(Message::Tool(ToolMessage {
                    content,
                    tool_call_id: result.call_id.clone(),
                    extra: JsonMap::new(),
                }));
            }
            InputItem::Reasoning(_) => {}
            InputItem::Other(_) => {
                return Err(LlmError::bad_param(
                    format!("{param}.type"),
                    format!(
                        "input item type {:?} is not supported by /v1/responses on this model",
                        item.kind()
                    ),
                ))
            }
        }
    }
    flush(&mut pending, out);
    Ok(())
}

/// Hosted tools a chat model cannot call, left out of the chat request (a coding agent such as
/// Codex CLI offers `web_search` on every turn; refusing it would refuse every turn).
const DROPPED_TOOLS: &[&str] = &["web_search", "web_search_preview"];

/// The chat tools for the request's `tools`: function tools as they are, the function tools of
/// a `namespace` under their own names, hosted search tools left out; any other hosted tool is a
/// 400 naming it.
fn chat_tools(tools: &[ResponsesTool]) -> Result<Vec<Tool>, LlmError> {
    let mut out = Vec::new();
    for (i, t) in tools.iter().enumerate() {
        match t.kind.as_str() {
            "function" => out.push(function_tool(t, &format!("tools[{i}]"))?),
            "namespace" => {
                let inner = t.extra.get("tools").cloned().unwrap_or_default();
                let inner: Vec<ResponsesTool> = serde_json::from_value(inner).map_err(|e| {
                    LlmError::bad_param(format!("tools[{i}].tools"), format!("invalid tools: {e}"))
                })?;
                for (j, f) in inner.iter().enumerate() {
                    let at = format!("tools[{i}].tools[{j}]");
                    if f.kind != "function" {
                        return Err(unsupported_tool(&at, &f.kind));
                    }
                    out.push(function_tool(f, &at)?);
                }
            }
            kind if DROPPED_TOOLS.contains(&kind) => {}
            kind => return Err(unsupported_tool(&format!("tools[{i}]"), kind)),
        }
    }
    Ok(out)
}

fn unsupported_tool(at: &str, kind: &str) -> LlmError {
    LlmError::bad_param(
        format!("{at}.type"),
        format!(
            "built-in tool type {kind:?} is not supported by /v1/responses on this model; \
             only function tools can be translated to Chat Completions"
        ),
    )
}

fn function_tool(t: &ResponsesTool, at: &str) -> Result<Tool, LlmError> {
    let name =
        t.name.clone().filter(|n| !n.is_empty()).ok_or_else(|| {
            LlmError::bad_param(format!("{at}.name"), "a function tool needs a name")
        })?;
    Ok(Tool {
        kind: "function".into(),
        function: Some(FunctionDefinition {
            name,
            description: t.description.clone(),
            parameters: t.parameters.clone(),
            strict: t.strict,
            extra: JsonMap::new(),
        }),
        extra: JsonMap::new(),
    })
}

fn tool_choice(choice: &ResponsesToolChoice) -> Result<ToolChoice, LlmError> {
    match choice {
        ResponsesToolChoice::Mode(m) if matches!(m.as_str(), "auto" | "none" | "required") => {
            Ok(ToolChoice::Mode(m.clone()))
        }
        ResponsesToolChoice::Mode(m) => Err(LlmError::bad_param(
            "tool_choice",
            format!("tool_choice {m:?} is not one of auto, none, required"),
        )),
        ResponsesToolChoice::Object(o) if o.kind == "function" => match &o.name {
            Some(name) => Ok(ToolChoice::Named(NamedToolChoice {
                kind: "function".into(),
                function: FunctionName { name: name.clone() },
            })),
            None => Err(LlmError::bad_param(
                "tool_choice.name",
                "tool_choice of type function needs a name",
            )),
        },
        ResponsesToolChoice::Object(o) => Err(LlmError::bad_param(
            "tool_choice.type",
            format!(
                "tool_choice type {:?} is not supported by /v1/responses on this model",
                o.kind
            ),
        )),
    }
}

fn response_format(text: &TextConfig) -> Result<Option<ResponseFormat>, LlmError> {
    let Some(f) = &text.format else {
        return Ok(None);
    };
    let known = match f.kind.as_str() {
        "text" => return Ok(None),
        "json_object" => KnownResponseFormat::JsonObject,
        "json_schema" => KnownResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat {
                name: f.name.clone().unwrap_or_else(|| "response".into()),
                description: f.description.clone(),
                schema: f.schema.clone(),
                strict: f.strict,
            },
        },
        other => {
            return Err(LlmError::bad_param(
                "text.format.type",
                format!("text.format type {other:?} is not one of text, json_object, json_schema"),
            ))
        }
    };
    Ok(Some(ResponseFormat::Known(known)))
}

/// Translates a Responses request into a chat request. `history` is the stored conversation of
/// `previous_response_id` (empty without one); it follows the `instructions` system message
/// (instructions are not carried over from earlier responses) and precedes the new input.
pub fn to_chat_request(
    req: ResponsesRequest,
    history: Vec<Message>,
) -> Result<ChatRequest, LlmError> {
    let mut messages = Vec::new();
    if let Some(instructions) = req.instructions.as_deref().filter(|s| !s.is_empty()) {
        messages.push(Message::system(instructions));
    }
    messages.extend(history);
    match &req.input {
        None => {}
        Some(ResponsesInput::Text(t)) => messages.push(Message::user(t.clone())),
        Some(ResponsesInput::Items(items)) => input_messages(items, &mut messages)?,
    }
    if messages.is_empty() {
        return Err(LlmError::bad_param("input", "input is required"));
    }
    let tools = chat_tools(req.tools.as_deref().unwrap_or_default())?;
    let has_tools = !tools.is_empty();
    let stream = req.is_stream();
    let mut extra = JsonMap::new();
    for (k, v) in &req.extra {
        if FORWARDED.contains(&k.as_str()) || crate::is_internal_param(k) {
            extra.insert(k.clone(), v.clone());
        }
    }
    let chat = ChatRequest {
        model: req.model,
        messages,
        stream: stream.then_some(true),
        stream_options: stream.then(|| StreamOptions {
            include_usage: Some(true),
            extra: JsonMap::new(),
        }),
        temperature: req.temperature,
        top_p: req.top_p,
        max_tokens: req.max_output_tokens,
        user: req.user,
        tool_choice: match (&req.tool_choice, has_tools) {
            (Some(c), true) => Some(tool_choice(c)?),
            _ => None,
        },
        parallel_tool_calls: req.parallel_tool_calls.filter(|_| has_tools),
        tools: has_tools.then_some(tools),
        response_format: match &req.text {
            Some(t) => response_format(t)?,
            None => None,
        },
        metadata: req.metadata,
        reasoning_effort: req.reasoning.and_then(|r| r.effort),
        extra,
        ..Default::default()
    };
    if chat.extra.is_empty() {
        return Ok(chat);
    }
    // Typed chat fields among the forwarded ones (`seed`, `stop`, ...) land in their fields.
    serde_json::to_value(&chat)
        .and_then(serde_json::from_value)
        .map_err(|e| LlmError::bad_param("input", format!("invalid request field: {e}")))
}

/// The conversation to store under a response's id, for a later `previous_response_id`: the
/// chat request's messages without the leading `instructions` message (`had_instructions`),
/// then the assistant's reply.
pub fn next_history(
    chat_messages: &[Message],
    had_instructions: bool,
    reply: &ChatResponse,
) -> Vec<Message> {
    let skip =
        usize::from(had_instructions && matches!(chat_messages.first(), Some(Message::System(_))));
    let mut out = chat_messages[skip.min(chat_messages.len())..].to_vec();
    if let Some(m) = reply.choices.first().map(|c| &c.message) {
        out.push(Message::Assistant(AssistantMessage {
            content: m.content.clone().map(Content::Text),
            tool_calls: m.tool_calls.clone().filter(|c| !c.is_empty()),
            refusal: m.refusal.clone(),
            ..Default::default()
        }));
    }
    out
}
