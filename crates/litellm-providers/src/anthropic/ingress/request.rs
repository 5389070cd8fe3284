//! Anthropic Messages request → OpenAI `ChatRequest` ([`to_chat_request`]): turns, blocks,
//! tools, tool choice and thinking.

use serde_json::{json, Value};

use litellm_core::{
    AssistantMessage, ChatRequest, Content, ContentPart, FilePart, FileRef, FunctionCall,
    FunctionDefinition, FunctionName, ImageUrl, ImageUrlPart, JsonMap, KnownContentPart, LlmError,
    Message, NamedToolChoice, Stop, SystemMessage, TextPart, Tool, ToolCall, ToolChoice,
    ToolMessage, UserMessage,
};

use super::{IngressOptions, InputContent, MessagesRequest, SystemPrompt};

pub(super) fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub(super) fn block_type(v: &Value) -> &str {
    str_of(v, "type").unwrap_or("")
}

/// A text block that is only `type`, `text` and `cache_control` becomes a [`TextPart`] (the
/// Anthropic adapter rebuilds it exactly); `None` for any other block.
pub(super) fn simple_text_part(block: &Value, keep_cache: bool) -> Option<TextPart> {
    let obj = block.as_object()?;
    if block_type(block) != "text" {
        return None;
    }
    let text = obj.get("text")?.as_str()?.to_string();
    let mut extra = JsonMap::new();
    for (k, v) in obj {
        match k.as_str() {
            "type" | "text" => {}
            "cache_control" if keep_cache => {
                extra.insert(k.clone(), v.clone());
            }
            "cache_control" => {}
            _ if keep_cache => return None,
            _ => {}
        }
    }
    Some(TextPart { text, extra })
}

pub(super) fn text_part(text: impl Into<String>) -> ContentPart {
    ContentPart::Known(KnownContentPart::Text(TextPart {
        text: text.into(),
        extra: JsonMap::new(),
    }))
}

/// An `image` block's source as an OpenAI image URL (`data:` URL or http(s) URL).
pub(super) fn image_url_of(block: &Value, param: &str) -> Result<String, LlmError> {
    let source = block.get("source").unwrap_or(&Value::Null);
    match str_of(source, "type") {
        Some("base64") => {
            let media = str_of(source, "media_type").unwrap_or("image/png");
            let data = str_of(source, "data").ok_or_else(|| {
                LlmError::bad_param(format!("{param}.source.data"), "source.data is required")
            })?;
            Ok(format!("data:{media};base64,{data}"))
        }
        Some("url") => str_of(source, "url").map(str::to_string).ok_or_else(|| {
            LlmError::bad_param(format!("{param}.source.url"), "source.url is required")
        }),
        other => Err(LlmError::bad_param(
            format!("{param}.source.type"),
            format!(
                "image source type {:?} can only be served by an anthropic/ deployment",
                other.unwrap_or("")
            ),
        )),
    }
}

/// A user-side block (user content, tool-result content) as an OpenAI part, translated mode.
pub(super) fn translated_part(block: &Value, param: &str) -> Result<ContentPart, LlmError> {
    match block_type(block) {
        "text" => Ok(text_part(str_of(block, "text").unwrap_or(""))),
        "image" => Ok(ContentPart::Known(KnownContentPart::ImageUrl(
            ImageUrlPart {
                image_url: ImageUrl {
                    url: image_url_of(block, param)?,
                    detail: None,
                    extra: JsonMap::new(),
                },
                extra: JsonMap::new(),
            },
        ))),
        "document" => {
            let source = block.get("source").unwrap_or(&Value::Null);
            match (str_of(source, "type"), str_of(source, "media_type")) {
                (Some("base64"), Some(media)) => {
                    let data = str_of(source, "data").unwrap_or("");
                    Ok(ContentPart::Known(KnownContentPart::File(FilePart {
                        file: FileRef {
                            file_data: Some(format!("data:{media};base64,{data}")),
                            file_id: None,
                            filename: str_of(block, "title").map(str::to_string),
                            extra: JsonMap::new(),
                        },
                        extra: JsonMap::new(),
                    })))
                }
                (Some("text"), _) => Ok(text_part(str_of(source, "data").unwrap_or(""))),
                (kind, _) => Err(LlmError::bad_param(
                    format!("{param}.source.type"),
                    format!(
                        "document source type {:?} can only be served by an anthropic/ deployment",
                        kind.unwrap_or("")
                    ),
                )),
            }
        }
        other => Err(LlmError::bad_param(
            param,
            format!("content block type {other:?} can only be served by an anthropic/ deployment"),
        )),
    }
}

/// The content of a `tool_result` block as OpenAI content (translated mode).
pub(super) fn tool_result_content(block: &Value, param: &str) -> Result<Content, LlmError> {
    match block.get("content") {
        None | Some(Value::Null) => Ok(Content::Text(String::new())),
        Some(Value::String(s)) => Ok(Content::Text(s.clone())),
        Some(Value::Array(items)) => {
            let mut parts = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                parts.push(translated_part(item, &format!("{param}.content[{i}]"))?);
            }
            // A text-only result is sent as a string: every provider accepts that.
            if parts
                .iter()
                .all(|p| matches!(p, ContentPart::Known(KnownContentPart::Text(_))))
            {
                return Ok(Content::Text(Content::Parts(parts).text()));
            }
            Ok(Content::Parts(parts))
        }
        Some(_) => Err(LlmError::bad_param(
            format!("{param}.content"),
            "tool_result content must be a string or a list of blocks",
        )),
    }
}

pub(super) fn blocks_of(content: InputContent) -> Vec<Value> {
    match content {
        InputContent::Text(t) => vec![json!({"type": "text", "text": t})],
        InputContent::Blocks(b) => b,
    }
}

/// The blocks of `content`, each with its parameter path (`{param}.content[j]`); a block that
/// is not an object is an error when its turn comes.
fn object_blocks(
    content: InputContent,
    param: &str,
) -> impl Iterator<Item = Result<(String, Value), LlmError>> + '_ {
    blocks_of(content)
        .into_iter()
        .enumerate()
        .map(move |(j, block)| {
            let bparam = format!("{param}.content[{j}]");
            if block.is_object() {
                Ok((bparam, block))
            } else {
                Err(LlmError::bad_param(
                    bparam,
                    "a content block must be an object",
                ))
            }
        })
}

pub(super) fn user_message(parts: Vec<ContentPart>) -> Message {
    Message::User(UserMessage {
        content: Content::Parts(parts),
        name: None,
        extra: JsonMap::new(),
    })
}

/// A user-side part, keeping a text block's `cache_control` when `keep_cache`.
pub(super) fn user_part(
    block: &Value,
    param: &str,
    keep_cache: bool,
) -> Result<ContentPart, LlmError> {
    if keep_cache {
        if let Some(t) = simple_text_part(block, true) {
            return Ok(ContentPart::Known(KnownContentPart::Text(t)));
        }
    }
    translated_part(block, param)
}

/// Adds the translated messages of one Anthropic `user` message: its tool results first, as
/// `tool` messages (OpenAI wants them right after the assistant's tool calls), then its other
/// blocks as one user message.
pub(super) fn push_user(
    out: &mut Vec<Message>,
    content: InputContent,
    param: &str,
    opts: &IngressOptions,
) -> Result<(), LlmError> {
    if let InputContent::Text(t) = content {
        out.push(Message::user(t));
        return Ok(());
    }
    let mut parts: Vec<ContentPart> = Vec::new();
    for block in object_blocks(content, param) {
        let (bparam, block) = block?;
        if block_type(&block) == "tool_result" {
            let id = str_of(&block, "tool_use_id").ok_or_else(|| {
                LlmError::bad_param(format!("{bparam}.tool_use_id"), "tool_use_id is required")
            })?;
            let mut extra = JsonMap::new();
            if opts.claude_target {
                if let Some(c) = block.get("cache_control").filter(|c| !c.is_null()) {
                    extra.insert("cache_control".into(), c.clone());
                }
            }
            out.push(Message::Tool(ToolMessage {
                content: tool_result_content(&block, &bparam)?,
                tool_call_id: id.to_string(),
                extra,
            }));
            continue;
        }
        parts.push(user_part(&block, &bparam, opts.claude_target)?);
    }
    if !parts.is_empty() {
        out.push(user_message(parts));
    }
    Ok(())
}

/// A mid-conversation `{"role": "system"}` message as a system message.
pub(super) fn system_message(content: InputContent, param: &str) -> Result<Message, LlmError> {
    let text = match content {
        InputContent::Text(t) => t,
        InputContent::Blocks(blocks) => {
            let mut text = String::new();
            for (j, b) in blocks.iter().enumerate() {
                if block_type(b) != "text" {
                    return Err(LlmError::bad_param(
                        format!("{param}.content[{j}]"),
                        "a system message may only hold text blocks",
                    ));
                }
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(str_of(b, "text").unwrap_or(""));
            }
            text
        }
    };
    Ok(Message::system(text))
}

/// A `thinking` / `redacted_thinking` block as a `thinking_blocks` entry (LiteLLM's shape).
pub(super) fn thinking_entry(block: &Value) -> Value {
    match block_type(block) {
        "redacted_thinking" => json!({
            "type": "redacted_thinking",
            "data": str_of(block, "data").unwrap_or(""),
        }),
        _ => {
            let mut b = json!({
                "type": "thinking",
                "thinking": str_of(block, "thinking").unwrap_or(""),
            });
            if let Some(sig) = str_of(block, "signature") {
                b["signature"] = json!(sig);
            }
            b
        }
    }
}

/// The translated message of one Anthropic `assistant` message: its text, its tool calls and
/// (for a Claude target) its thinking blocks; `None` when nothing is left.
pub(super) fn assistant_message(
    content: InputContent,
    param: &str,
    opts: &IngressOptions,
) -> Result<Option<AssistantMessage>, LlmError> {
    let mut msg = AssistantMessage::default();
    if let InputContent::Text(t) = content {
        msg.content = Some(Content::Text(t));
        return Ok(Some(msg));
    }
    let mut parts: Vec<ContentPart> = Vec::new();
    let mut calls: Vec<ToolCall> = Vec::new();
    let mut thinking: Vec<Value> = Vec::new();
    for block in object_blocks(content, param) {
        let (bparam, block) = block?;
        match block_type(&block) {
            "text" => parts.push(user_part(&block, &bparam, opts.claude_target)?),
            "tool_use" => calls.push(ToolCall {
                id: str_of(&block, "id").unwrap_or_default().to_string(),
                kind: "function".into(),
                function: FunctionCall {
                    name: str_of(&block, "name").unwrap_or_default().to_string(),
                    arguments: block
                        .get("input")
                        .filter(|v| !v.is_null())
                        .map(Value::to_string)
                        .unwrap_or_else(|| "{}".into()),
                },
            }),
            "thinking" | "redacted_thinking" if opts.claude_target => {
                thinking.push(thinking_entry(&block));
            }
            // Another provider cannot verify Anthropic's signed thinking: dropped.
            "thinking" | "redacted_thinking" => {}
            other => {
                return Err(LlmError::bad_param(
                    bparam,
                    format!(
                    "content block type {other:?} can only be served by an anthropic/ deployment"
                ),
                ))
            }
        }
    }
    let plain_text = parts.len() == 1
        && matches!(&parts[0], ContentPart::Known(KnownContentPart::Text(t)) if t.extra.is_empty());
    if plain_text {
        msg.content = Some(Content::Text(Content::Parts(parts).text()));
    } else if !parts.is_empty() {
        msg.content = Some(Content::Parts(parts));
    }
    if !calls.is_empty() {
        msg.tool_calls = Some(calls);
    }
    if !thinking.is_empty() {
        msg.extra
            .insert("thinking_blocks".into(), Value::Array(thinking));
    }
    let empty = msg.content.is_none() && msg.tool_calls.is_none() && msg.extra.is_empty();
    Ok((!empty).then_some(msg))
}

/// LiteLLM's `reasoning_effort_from_thinking_budget` buckets.
pub fn reasoning_effort_for_budget(budget: u64) -> &'static str {
    match budget {
        b if b >= 4096 => "high",
        b if b >= 2048 => "medium",
        b if b >= 1024 => "low",
        _ => "minimal",
    }
}

pub(super) fn translated_tool(tool: &Value, i: usize) -> Result<Option<Tool>, LlmError> {
    let kind = block_type(tool);
    if !kind.is_empty() && kind != "custom" {
        return Err(LlmError::bad_param(
            format!("tools[{i}].type"),
            format!("tool type {kind:?} can only be served by an anthropic/ deployment"),
        ));
    }
    let name = str_of(tool, "name")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| LlmError::bad_param(format!("tools[{i}].name"), "a tool needs a name"))?;
    Ok(Some(Tool {
        kind: "function".into(),
        function: Some(FunctionDefinition {
            name: name.to_string(),
            description: str_of(tool, "description").map(str::to_string),
            parameters: Some(
                tool.get("input_schema")
                    .cloned()
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            ),
            strict: None,
            extra: JsonMap::new(),
        }),
        extra: JsonMap::new(),
    }))
}

pub(super) fn translated_tool_choice(
    choice: &Value,
) -> Result<(ToolChoice, Option<bool>), LlmError> {
    let parallel = choice
        .get("disable_parallel_tool_use")
        .and_then(Value::as_bool)
        .map(|d| !d);
    let tc = match block_type(choice) {
        "auto" => ToolChoice::Mode("auto".into()),
        "any" => ToolChoice::Mode("required".into()),
        "none" => ToolChoice::Mode("none".into()),
        "tool" => ToolChoice::Named(NamedToolChoice {
            kind: "function".into(),
            function: FunctionName {
                name: str_of(choice, "name")
                    .ok_or_else(|| {
                        LlmError::bad_param(
                            "tool_choice.name",
                            "tool_choice of type tool needs a name",
                        )
                    })?
                    .to_string(),
            },
        }),
        other => {
            return Err(LlmError::bad_param(
                "tool_choice.type",
                format!("tool_choice type {other:?} is not one of auto, any, tool, none"),
            ))
        }
    };
    Ok((tc, parallel))
}

/// Translates an Anthropic Messages request into the OpenAI request the router takes, for a
/// deployment that does not speak Messages natively.
pub fn to_chat_request(
    req: MessagesRequest,
    opts: &IngressOptions,
) -> Result<ChatRequest, LlmError> {
    if req.model.trim().is_empty() {
        return Err(LlmError::bad_param("model", "model: Field required"));
    }
    if req.messages.is_empty() {
        return Err(LlmError::bad_param(
            "messages",
            "messages: at least one message is required",
        ));
    }
    let keep_cache = opts.claude_target;
    let mut messages: Vec<Message> = Vec::with_capacity(req.messages.len() + 1);
    match req.system {
        None => {}
        Some(SystemPrompt::Text(t)) if t.is_empty() => {}
        Some(SystemPrompt::Text(t)) => messages.push(Message::system(t)),
        Some(SystemPrompt::Blocks(blocks)) => {
            let mut parts = Vec::with_capacity(blocks.len());
            for (i, b) in blocks.iter().enumerate() {
                let Some(t) = simple_text_part(b, keep_cache).or_else(|| {
                    (block_type(b) == "text").then(|| TextPart {
                        text: str_of(b, "text").unwrap_or("").to_string(),
                        extra: JsonMap::new(),
                    })
                }) else {
                    return Err(LlmError::bad_param(
                        format!("system[{i}]"),
                        "system blocks must be text blocks",
                    ));
                };
                parts.push(ContentPart::Known(KnownContentPart::Text(t)));
            }
            if !parts.is_empty() {
                messages.push(Message::System(SystemMessage {
                    content: Content::Parts(parts),
                    name: None,
                    extra: JsonMap::new(),
                }));
            }
        }
    }
    for (i, m) in req.messages.into_iter().enumerate() {
        let param = format!("messages[{i}]");
        match m.role.as_str() {
            "user" => push_user(&mut messages, m.content, &param, opts)?,
            "assistant" => {
                if let Some(a) = assistant_message(m.content, &param, opts)? {
                    messages.push(Message::Assistant(a));
                }
            }
            "system" => messages.push(system_message(m.content, &param)?),
            other => {
                return Err(LlmError::bad_param(
                    format!("{param}.role"),
                    format!("messages.{i}.role: Input should be 'user', 'assistant' or 'system' (got {other:?})"),
                ))
            }
        }
    }

    let mut out = ChatRequest {
        model: req.model,
        messages,
        stream: req.stream,
        temperature: req.temperature,
        top_p: req.top_p,
        extra: req.extra,
        ..Default::default()
    };
    if let Some(n) = req.max_tokens {
        out.max_tokens = Some(u32::try_from(n).map_err(|_| {
            LlmError::bad_param("max_tokens", "max_tokens is larger than any model allows")
        })?);
    }
    if let Some(stops) = req.stop_sequences.filter(|s| !s.is_empty()) {
        out.stop = Some(Stop::Many(stops));
    }
    if let Some(k) = req.top_k {
        out.extra.insert("top_k".into(), Value::from(k));
    }
    if let Some(user) = req
        .metadata
        .as_ref()
        .and_then(|m| str_of(m, "user_id"))
        .filter(|u| !u.is_empty())
    {
        out.user = Some(user.to_string());
    }

    let mut tools = Vec::new();
    for (i, tool) in req.tools.into_iter().flatten().enumerate() {
        if block_type(&tool).starts_with("web_search") {
            out.extra
                .insert("web_search_options".into(), Value::Object(JsonMap::new()));
        } else if let Some(t) = translated_tool(&tool, i)? {
            tools.push(t);
        }
    }
    let has_tools = !tools.is_empty();
    if has_tools {
        out.tools = Some(tools);
    }
    if let Some(choice) = req.tool_choice.filter(|c| !c.is_null()) {
        let (tc, parallel) = translated_tool_choice(&choice)?;
        if has_tools || matches!(&tc, ToolChoice::Mode(m) if m == "none") {
            out.tool_choice = Some(tc);
        }
        if has_tools {
            out.parallel_tool_calls = parallel.filter(|p| !p);
        }
    }

    if let Some(thinking) = req.thinking.filter(|t| !t.is_null()) {
        if opts.claude_target {
            out.extra.insert("thinking".into(), thinking);
        } else if block_type(&thinking) == "enabled" {
            let budget = thinking
                .get("budget_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            out.reasoning_effort = Some(reasoning_effort_for_budget(budget).to_string());
        }
    }
    Ok(out)
}
