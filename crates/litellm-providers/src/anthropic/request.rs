//! Anthropic Messages request translation: OpenAI messages, content parts, tools, tool choice,
//! `response_format`, reasoning effort and cache control to a `/v1/messages` body.

use serde_json::{json, Value};

use litellm_core::{
    AssistantMessage, ChatRequest, Content, ContentPart, JsonMap, KnownContentPart,
    KnownResponseFormat, LlmError, Message, ResponseFormat, ToolChoice,
};

use super::wire::{
    Block, MessageParam, MessagesRequest, Metadata, Source, ToolChoiceParam, ToolParam,
    ToolResultContent,
};
use super::{PROVIDER, RESPONSE_FORMAT_TOOL_NAME, THINKING_MAX_TOKENS_MARGIN};
use crate::adapter_common::{
    forward_unmodelled, missing_key, serialize_body, wire_map, with_call_headers, Prepared,
};
use crate::request_common::{assistant_calls, missing_function, unknown_tool_choice};
use crate::request_common::{enabled_thinking, parse_data_url, push_turn};
use crate::upstream::{truncate_chars, UpstreamRequest};
use crate::AnthropicAdapter;

/// Typed OpenAI parameters Anthropic has no equivalent for: a 400 unless dropped.
pub(super) const UNSUPPORTED_TYPED: &[&str] = &[
    "n",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "seed",
];

/// OpenAI request fields that Anthropic has no equivalent for: a 400 unless dropped.
pub(super) const UNSUPPORTED_EXTRA: &[&str] = &[
    "audio",
    "modalities",
    "prediction",
    "store",
    "prompt_cache_key",
    "safety_identifier",
    "verbosity",
    "web_search_options",
    "logprobs",
    "top_logprobs",
];

/// Body fields the adapter builds itself; client extras and deployment defaults never set them.
pub(super) const STRUCTURAL_KEYS: &[&str] = &[
    "model",
    "messages",
    "system",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "stop_sequences",
    "max_tokens",
];

impl AnthropicAdapter {
    /// `POST {api_base}/v1/messages` for `req` (streaming or not), with per-call headers.
    pub fn build_chat_request(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        if self.deployment.api_key.is_none() {
            return Err(missing_key(
                PROVIDER,
                "no API key for anthropic: set litellm_params.api_key or ANTHROPIC_API_KEY",
            ));
        }
        let body = serialize_body(&Value::Object(self.translate_request(req, stream)?))?;
        Ok(UpstreamRequest::post(
            self.url.clone(),
            with_call_headers(&self.deployment.headers, extra_headers)?,
            body,
        ))
    }

    /// The Anthropic Messages body for `req`.
    pub fn translate_request(&self, req: ChatRequest, stream: bool) -> Result<JsonMap, LlmError> {
        let Prepared(mut req, extra_body, drop) = self
            .deployment
            .prepare(req, &[("stop_sequences", "stop")])?
            .refusing(PROVIDER, UNSUPPORTED_TYPED, UNSUPPORTED_EXTRA)?;

        let (system, messages) = translate_messages(std::mem::take(&mut req.messages))?;

        // Thinking: a client `thinking` object wins over `reasoning_effort`.
        let thinking = match req.extra.remove("thinking") {
            Some(Value::Null) | None => thinking_for_effort(req.reasoning_effort.as_deref())?,
            Some(t) => Some(t),
        };
        let thinking_on = thinking
            .as_ref()
            .is_some_and(|t| t.get("type").and_then(Value::as_str) == Some("enabled"));
        let max_tokens = match req.max_output_tokens() {
            Some(n) => u64::from(n),
            None => match thinking
                .as_ref()
                .and_then(|t| t.get("budget_tokens"))
                .and_then(Value::as_u64)
                .filter(|_| thinking_on)
            {
                Some(budget) => budget + THINKING_MAX_TOKENS_MARGIN,
                None => self.default_max_tokens,
            },
        };
        let stop_sequences = req
            .stop
            .as_ref()
            .map(|stop| stop.to_vec())
            .unwrap_or_default()
            .into_iter()
            .filter(|s| !(drop && s.trim().is_empty()))
            .collect();
        let metadata = req
            .user
            .as_deref()
            .filter(|u| valid_user_id(u))
            .map(|user| Metadata {
                user_id: user.to_string(),
            });

        // Tools, legacy functions, and the JSON-mode tool.
        let mut tools: Vec<ToolParam> = Vec::new();
        for tool in req.tools.take().into_iter().flatten() {
            tools.push(translate_tool(tool)?);
        }
        for f in req.functions.take().into_iter().flatten() {
            tools.push(function_tool(f.name, f.description, f.parameters, &f.extra));
        }
        let mut tool_choice = match req.tool_choice.take() {
            Some(choice) => Some(translate_tool_choice(choice)?),
            None => match req.function_call.take() {
                Some(Value::String(mode)) => Some(translate_tool_choice(ToolChoice::Mode(mode))?),
                Some(Value::Object(o)) => o
                    .get("name")
                    .and_then(Value::as_str)
                    .map(|name| ToolChoiceParam::tool(name.to_string())),
                _ => None,
            },
        };
        if let Some(format) = req.response_format.take() {
            if let Some(tool) = response_format_tool(format)? {
                tools.push(tool);
                if !thinking_on {
                    tool_choice = Some(ToolChoiceParam::tool(RESPONSE_FORMAT_TOOL_NAME.into()));
                }
            }
        }
        if let Some(parallel) = req.parallel_tool_calls {
            match &mut tool_choice {
                Some(choice) => choice.set_parallel(parallel),
                None if !tools.is_empty() => {
                    let mut choice = ToolChoiceParam::mode("auto");
                    choice.set_parallel(parallel);
                    tool_choice = Some(choice);
                }
                None => {}
            }
        }

        let wire = MessagesRequest {
            model: self.deployment.model.clone(),
            messages,
            system,
            max_tokens,
            thinking,
            temperature: req.temperature,
            top_p: req.top_p,
            stop_sequences,
            metadata,
            stream,
            tools,
            tool_choice,
        };
        let mut body = wire_map(&wire)?;

        // Everything else the client sent that we do not model is forwarded.
        forward_unmodelled(
            &mut body,
            req.extra,
            extra_body,
            STRUCTURAL_KEYS,
            false,
            &["max_tokens"],
        );
        Ok(body)
    }
}

pub(super) use crate::response_common::str_field;

/// LiteLLM's `_valid_user_id`: Anthropic refuses e-mail addresses and phone numbers.
pub(super) fn valid_user_id(user: &str) -> bool {
    let u = user.trim();
    if u.is_empty() {
        return false;
    }
    let looks_like_email = u
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    let digits = u.chars().filter(char::is_ascii_digit).count();
    let looks_like_phone = digits >= 7
        && u.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '(' | ')' | '-'));
    !looks_like_email && !looks_like_phone
}

/// `reasoning_effort` as a `thinking` object.
pub(super) fn thinking_for_effort(effort: Option<&str>) -> Result<Option<Value>, LlmError> {
    enabled_thinking(effort.unwrap_or_default(), PROVIDER)
}

/// A message-level `cache_control` (LiteLLM lets clients set it on the message).
pub(super) fn message_cache_control(extra: &JsonMap) -> Option<Value> {
    extra.get("cache_control").filter(|v| !v.is_null()).cloned()
}

/// Puts a message-level `cache_control` on the message's last block.
pub(super) fn put_cache_control(blocks: &mut [Block], cache: Option<Value>) {
    if let (Some(cache), Some(last)) = (cache, blocks.last_mut()) {
        last.set_cache_control(cache);
    }
}

/// The `cache_control` of a content part's extra fields, copied onto the block.
pub(super) fn with_part_cache(mut block: Block, extra: &JsonMap) -> Block {
    if let Some(cache) = extra.get("cache_control").filter(|c| !c.is_null()) {
        block.set_cache_control(cache.clone());
    }
    block
}

/// A text block carrying a part's `cache_control`.
fn text_block(text: String, extra: &JsonMap) -> Block {
    with_part_cache(Block::text(text), extra)
}

pub(super) fn image_block(url: &str, param: &str) -> Result<Block, LlmError> {
    if url.starts_with("data:") {
        let Some((media, data)) = parse_data_url(url) else {
            return Err(LlmError::bad_param(
                param,
                "an image data URL must look like data:<media type>;base64,<data>",
            ));
        };
        let source = Source::Base64 {
            media_type: media.to_string(),
            data: data.to_string(),
        };
        return Ok(media_source_block(media == "application/pdf", source));
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        let pdf = url.to_ascii_lowercase().ends_with(".pdf");
        let source = Source::Url {
            url: url.to_string(),
        };
        return Ok(media_source_block(pdf, source));
    }
    Err(LlmError::bad_param(
        param,
        format!(
            "unsupported image URL {:?}: use an http(s) URL or a base64 data URL",
            truncate_chars(url, 60)
        ),
    ))
}

/// A document block (PDFs) or an image block for `source`.
fn media_source_block(document: bool, source: Source) -> Block {
    if document {
        Block::Document {
            source,
            cache_control: None,
        }
    } else {
        Block::Image {
            source,
            cache_control: None,
        }
    }
}

/// User-side content (user messages and tool results) as Anthropic blocks.
pub(super) fn content_blocks(content: Content, param: &str) -> Result<Vec<Block>, LlmError> {
    let parts = match content {
        Content::Text(text) if text.is_empty() => return Ok(Vec::new()),
        Content::Text(text) => return Ok(vec![Block::text(text)]),
        Content::Parts(parts) => parts,
    };
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        match part {
            ContentPart::Known(KnownContentPart::Text(t)) => {
                if !t.text.is_empty() {
                    out.push(text_block(t.text, &t.extra));
                }
            }
            ContentPart::Known(KnownContentPart::ImageUrl(img)) => {
                let block = image_block(&img.image_url.url, param)?;
                out.push(with_part_cache(block, &img.extra));
            }
            ContentPart::Known(KnownContentPart::File(f)) => {
                let block = if let Some(data) = &f.file.file_data {
                    image_block(data, param)?
                } else if let Some(id) = &f.file.file_id {
                    let file_id = id.clone();
                    media_source_block(true, Source::File { file_id })
                } else {
                    return Err(LlmError::bad_param(
                        param,
                        "a file part needs file_data or file_id",
                    ));
                };
                out.push(with_part_cache(block, &f.extra));
            }
            ContentPart::Known(KnownContentPart::InputAudio(_)) => {
                return Err(LlmError::bad_param(
                    param,
                    "anthropic does not support input_audio content",
                ))
            }
            // A block already in Anthropic's shape (or one we do not know): forwarded.
            ContentPart::Other(v) => out.push(Block::Raw(v)),
        }
    }
    Ok(out)
}

/// The text of a system message as text blocks.
pub(super) fn system_blocks(content: Content, extra: &JsonMap) -> Vec<Block> {
    let mut blocks = match content {
        Content::Text(t) if t.is_empty() => Vec::new(),
        Content::Text(t) => vec![Block::text(t)],
        Content::Parts(parts) => parts
            .into_iter()
            .filter_map(|p| match p {
                ContentPart::Known(KnownContentPart::Text(t)) if !t.text.is_empty() => {
                    Some(text_block(t.text, &t.extra))
                }
                ContentPart::Known(_) => None,
                ContentPart::Other(v) => v
                    .get("text")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .map(|t| Block::Text {
                        text: t.to_string(),
                        cache_control: v.get("cache_control").cloned(),
                    }),
            })
            .collect(),
    };
    put_cache_control(&mut blocks, message_cache_control(extra));
    blocks
}

/// An assistant message's content as blocks: its thinking blocks, text and tool calls.
fn assistant_blocks(m: AssistantMessage, param: &str) -> Result<Vec<Block>, LlmError> {
    let cache = message_cache_control(&m.extra);
    let mut blocks = Vec::new();
    if let Some(Value::Array(thinking)) = m.extra.get("thinking_blocks") {
        blocks.extend(thinking.iter().cloned().map(Block::Raw));
    }
    match m.content {
        Some(Content::Text(t)) if !t.is_empty() => blocks.push(Block::text(t)),
        Some(Content::Parts(parts)) => {
            for part in parts {
                match part {
                    ContentPart::Known(KnownContentPart::Text(t)) => {
                        if !t.text.is_empty() {
                            blocks.push(text_block(t.text, &t.extra));
                        }
                    }
                    ContentPart::Other(v) => blocks.push(Block::Raw(v)),
                    ContentPart::Known(_) => {
                        return Err(LlmError::bad_param(
                            param,
                            "assistant messages may only hold text for anthropic",
                        ))
                    }
                }
            }
        }
        _ => {}
    }
    for (id, name, input) in assistant_calls(m.tool_calls, m.function_call, "toolu_", param)? {
        blocks.push(Block::ToolUse {
            id,
            name,
            input,
            cache_control: None,
        });
    }
    put_cache_control(&mut blocks, cache);
    Ok(blocks)
}

/// Splits the OpenAI messages into Anthropic's `system` blocks and alternating messages.
pub(super) fn translate_messages(
    messages: Vec<Message>,
) -> Result<(Vec<Block>, Vec<MessageParam>), LlmError> {
    let mut system: Vec<Block> = Vec::new();
    // (role, blocks), merged when the role repeats.
    let mut out: Vec<(&'static str, Vec<Block>)> = Vec::new();
    for (i, message) in messages.into_iter().enumerate() {
        let param = format!("messages[{i}]");
        let (role, blocks) = match message {
            Message::System(m) | Message::Developer(m) => {
                system.extend(system_blocks(m.content, &m.extra));
                continue;
            }
            Message::User(m) => {
                let cache = message_cache_control(&m.extra);
                let mut blocks = content_blocks(m.content, &param)?;
                put_cache_control(&mut blocks, cache);
                ("user", blocks)
            }
            Message::Assistant(m) => ("assistant", assistant_blocks(m, &param)?),
            Message::Tool(m) => {
                let cache_control = message_cache_control(&m.extra);
                let content = match m.content {
                    Content::Text(t) => ToolResultContent::Text(t),
                    parts => ToolResultContent::Blocks(content_blocks(parts, &param)?),
                };
                let block = Block::ToolResult {
                    tool_use_id: m.tool_call_id,
                    content,
                    cache_control,
                };
                ("user", vec![block])
            }
            Message::Function(m) => {
                let block = Block::ToolResult {
                    tool_use_id: format!("toolu_{}", m.name),
                    content: ToolResultContent::Text(m.content.unwrap_or_default()),
                    cache_control: None,
                };
                ("user", vec![block])
            }
        };
        push_turn(&mut out, role, blocks);
    }
    let messages = out
        .into_iter()
        .map(|(role, content)| MessageParam { role, content })
        .collect();
    Ok((system, messages))
}

/// A schema object with a `type` (`object` unless it says otherwise); `None` is `empty`.
fn object_schema(schema: Option<Value>, empty: Value) -> Value {
    match schema {
        Some(Value::Object(mut s)) => {
            s.entry("type").or_insert_with(|| json!("object"));
            Value::Object(s)
        }
        Some(other) => other,
        None => empty,
    }
}

pub(super) fn function_tool(
    name: String,
    description: Option<String>,
    parameters: Option<Value>,
    extra: &JsonMap,
) -> ToolParam {
    ToolParam::Function {
        name,
        input_schema: object_schema(parameters, json!({"type": "object", "properties": {}})),
        description,
        cache_control: extra.get("cache_control").filter(|c| !c.is_null()).cloned(),
    }
}

pub(super) fn translate_tool(tool: litellm_core::Tool) -> Result<ToolParam, LlmError> {
    if tool.kind == "function" {
        if let Some(f) = tool.function {
            let mut extra = f.extra.clone();
            if let Some(c) = tool.extra.get("cache_control") {
                extra.insert("cache_control".into(), c.clone());
            }
            return Ok(function_tool(f.name, f.description, f.parameters, &extra));
        }
        if tool.extra.contains_key("input_schema") {
            // Already in Anthropic's shape (`{"name", "input_schema"}` with a type).
            let mut map = tool.extra;
            map.remove("type");
            return Ok(ToolParam::Raw(Value::Object(map)));
        }
        return Err(missing_function());
    }
    // Anthropic's own tool types (`web_search_20250305`, `bash_20250124`, ...) pass through.
    serde_json::to_value(tool)
        .map(ToolParam::Raw)
        .map_err(|e| LlmError::internal(format!("could not serialize a tool: {e}")))
}

pub(super) fn translate_tool_choice(choice: ToolChoice) -> Result<ToolChoiceParam, LlmError> {
    Ok(match choice {
        ToolChoice::Mode(mode) => match mode.as_str() {
            "auto" => ToolChoiceParam::mode("auto"),
            "required" | "any" => ToolChoiceParam::mode("any"),
            "none" => ToolChoiceParam::mode("none"),
            other => return Err(unknown_tool_choice(other)),
        },
        ToolChoice::Named(named) => ToolChoiceParam::tool(named.function.name),
        ToolChoice::Other(v) => ToolChoiceParam::Raw(v),
    })
}

/// The `json_tool_call` tool for a `response_format`, `None` for `text`.
pub(super) fn response_format_tool(format: ResponseFormat) -> Result<Option<ToolParam>, LlmError> {
    let schema = match format {
        ResponseFormat::Known(KnownResponseFormat::Text) => return Ok(None),
        ResponseFormat::Known(KnownResponseFormat::JsonObject) => None,
        ResponseFormat::Known(KnownResponseFormat::JsonSchema { json_schema }) => {
            json_schema.schema
        }
        ResponseFormat::Other(v) => {
            let kind = v.get("type").and_then(Value::as_str).unwrap_or("?");
            return Err(LlmError::bad_param(
                "response_format",
                format!("response_format type {kind:?} is not supported for anthropic"),
            ));
        }
    };
    let empty = json!({"type": "object", "additionalProperties": true, "properties": {}});
    let input_schema = match schema {
        Some(s @ Value::Object(_)) => object_schema(Some(s), Value::Null),
        _ => empty,
    };
    Ok(Some(ToolParam::Function {
        name: RESPONSE_FORMAT_TOOL_NAME.into(),
        input_schema,
        description: None,
        cache_control: None,
    }))
}
