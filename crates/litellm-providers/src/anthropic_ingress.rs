//! Anthropic-format ingress (sans-IO): the translation behind the proxy's `POST /v1/messages`
//! and `/v1/messages/count_tokens`. A client speaking Anthropic's Messages API (the Anthropic
//! SDKs, Claude Code) is served by whatever deployment the router picks:
//!
//! - [`MessagesRequest`] → OpenAI [`ChatRequest`] ([`to_chat_request`]), for deployments that
//!   do not speak Messages natively (native mode, for `anthropic/` and Claude on Vertex, sends
//!   the client's body as it is: `anthropic_native`). Every turn is kept, in order, never
//!   merged: text, images (base64 and URL), PDF documents, `tool_use`/`tool_result` become
//!   OpenAI messages, parts, `tool_calls` and `tool` messages (a user turn's tool results come
//!   first, as `tool` messages, then its other blocks as one user message); a mid-conversation
//!   `{"role": "system"}` message becomes a system message in its place; tools become
//!   functions; `tool_choice` `auto`/`any`/`tool`/`none` becomes `auto`/`required`/named/`none`
//!   (`disable_parallel_tool_use` → `parallel_tool_calls: false`); `web_search_*` tools become
//!   `web_search_options: {}` (as LiteLLM). Thinking depends on the target
//!   ([`IngressOptions::claude_target`]): for Claude behind another API (Bedrock Converse),
//!   `thinking` is forwarded as sent, `thinking`/`redacted_thinking` blocks travel as the
//!   assistant message's `thinking_blocks` (with their signatures) and `cache_control` is kept;
//!   for any other model, `thinking.budget_tokens` becomes `reasoning_effort` (LiteLLM's
//!   buckets: ≥ 4096 high, ≥ 2048 medium, ≥ 1024 low, else minimal), and thinking blocks and
//!   `cache_control` are dropped (nobody else can verify Anthropic's signatures); an assistant
//!   turn that held only thinking then has nothing left and is left out. A block or tool other
//!   providers cannot express is a 400 naming it.
//!
//!   `max_tokens`, `stop_sequences` (→ `stop`), `temperature`, `top_p`, `metadata.user_id`
//!   (→ `user`) and `stream` map directly; `top_k` and every other field we do not model are
//!   forwarded as unknown fields.
//! - OpenAI [`ChatResponse`] → Anthropic `message` ([`to_messages_response`]): `thinking` /
//!   `redacted_thinking` blocks (from `thinking_blocks`, with signatures, else from
//!   `reasoning_content`), one `text` block, `tool_use` blocks; `finish_reason` `stop` →
//!   `end_turn` (`tool_use` when tool calls are present), `length` → `max_tokens`, `tool_calls`
//!   → `tool_use`, `content_filter` → `refusal`; usage with `input_tokens` excluding cached
//!   and cache-written tokens, as Anthropic counts.
//! - OpenAI chunks → Anthropic SSE events ([`StreamTranslator`]): `message_start`, then per
//!   block `content_block_start` / `content_block_delta` (`text_delta`, `input_json_delta`,
//!   `thinking_delta`, `signature_delta`) / `content_block_stop`, then `message_delta` (stop
//!   reason and the exact usage) and `message_stop`; a failure is one `error` event.
//! - [`estimate_input_tokens`]: the `count_tokens` estimate.
//!
//! Reference: <https://docs.anthropic.com/en/api/messages>,
//! <https://docs.anthropic.com/en/docs/build-with-claude/streaming>, and LiteLLM's
//! `llms/anthropic/experimental_pass_through/adapters/`.

use serde::Deserialize;
use serde_json::{json, Value};

use litellm_core::{
    AssistantMessage, ChatChunk, ChatRequest, ChatResponse, Content, ContentPart, FilePart,
    FileRef, FunctionCall, FunctionDefinition, FunctionName, ImageUrl, ImageUrlPart, JsonMap,
    KnownContentPart, LlmError, Message, NamedToolChoice, Stop, SystemMessage, TextPart, Tool,
    ToolCall, ToolChoice, ToolMessage, Usage, UserMessage,
};

/// Tokens counted for one image or document block whose size we cannot see (Anthropic's size
/// for an image of about 1.15 megapixels, the largest it does not downscale).
pub const MEDIA_BLOCK_TOKENS: u64 = 1600;

/// Tokens of per-message overhead in the estimate (as `litellm-router`'s `tokens.rs`).
const PER_MESSAGE: u64 = 3;

/// `POST /v1/messages` (and `count_tokens`) request body.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessagesRequest {
    pub model: String,
    pub messages: Vec<InputMessage>,
    /// Required by `/v1/messages` (checked there), absent on `count_tokens`.
    #[serde(default)]
    pub max_tokens: Option<u64>,
    #[serde(default)]
    pub system: Option<SystemPrompt>,
    #[serde(default)]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub top_k: Option<u64>,
    #[serde(default)]
    pub tools: Option<Vec<Value>>,
    #[serde(default)]
    pub tool_choice: Option<Value>,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub thinking: Option<Value>,
    /// Every other field, forwarded as an unknown field.
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl MessagesRequest {
    /// Whether the client asked for an event stream.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }
}

/// `system`: a string or a list of text blocks.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SystemPrompt {
    Text(String),
    Blocks(Vec<Value>),
}

/// One input message.
#[derive(Debug, Clone, Deserialize)]
pub struct InputMessage {
    pub role: String,
    pub content: InputContent,
}

/// Message content: a string or a list of content blocks.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum InputContent {
    Text(String),
    Blocks(Vec<Value>),
}

/// How to translate a request.
#[derive(Debug, Clone, Default)]
pub struct IngressOptions {
    /// The target is a Claude model behind a non-Messages API (Bedrock Converse): `thinking`,
    /// thinking blocks and `cache_control` are kept (see the module docs).
    pub claude_target: bool,
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn block_type(v: &Value) -> &str {
    str_of(v, "type").unwrap_or("")
}

/// A text block that is only `type`, `text` and `cache_control` becomes a [`TextPart`] (the
/// Anthropic adapter rebuilds it exactly); `None` for any other block.
fn simple_text_part(block: &Value, keep_cache: bool) -> Option<TextPart> {
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

fn text_part(text: impl Into<String>) -> ContentPart {
    ContentPart::Known(KnownContentPart::Text(TextPart {
        text: text.into(),
        extra: JsonMap::new(),
    }))
}

/// An `image` block's source as an OpenAI image URL (`data:` URL or http(s) URL).
fn image_url_of(block: &Value, param: &str) -> Result<String, LlmError> {
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
fn translated_part(block: &Value, param: &str) -> Result<ContentPart, LlmError> {
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
fn tool_result_content(block: &Value, param: &str) -> Result<Content, LlmError> {
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

fn blocks_of(content: InputContent) -> Vec<Value> {
    match content {
        InputContent::Text(t) => vec![json!({"type": "text", "text": t})],
        InputContent::Blocks(b) => b,
    }
}

fn user_message(parts: Vec<ContentPart>) -> Message {
    Message::User(UserMessage {
        content: Content::Parts(parts),
        name: None,
        extra: JsonMap::new(),
    })
}

/// A user-side part, keeping a text block's `cache_control` when `keep_cache`.
fn user_part(block: &Value, param: &str, keep_cache: bool) -> Result<ContentPart, LlmError> {
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
fn push_user(
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
    for (j, block) in blocks_of(content).into_iter().enumerate() {
        let bparam = format!("{param}.content[{j}]");
        if !block.is_object() {
            return Err(LlmError::bad_param(
                bparam,
                "a content block must be an object",
            ));
        }
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
fn system_message(content: InputContent, param: &str) -> Result<Message, LlmError> {
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
fn thinking_entry(block: &Value) -> Value {
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
fn assistant_message(
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
    for (j, block) in blocks_of(content).into_iter().enumerate() {
        let bparam = format!("{param}.content[{j}]");
        if !block.is_object() {
            return Err(LlmError::bad_param(
                bparam,
                "a content block must be an object",
            ));
        }
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

fn translated_tool(tool: &Value, i: usize) -> Result<Option<Tool>, LlmError> {
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

fn translated_tool_choice(choice: &Value) -> Result<(ToolChoice, Option<bool>), LlmError> {
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

/// A message id in Anthropic's style: the upstream's `msg_...` id, else `msg_` + the OpenAI
/// id without its `chatcmpl-` prefix.
pub fn message_id(openai_id: &str) -> String {
    if openai_id.starts_with("msg_") {
        return openai_id.to_string();
    }
    let core = openai_id.strip_prefix("chatcmpl-").unwrap_or(openai_id);
    if core.is_empty() {
        return format!("msg_{}", uuid::Uuid::new_v4().simple());
    }
    format!("msg_{core}")
}

/// An OpenAI `finish_reason` as an Anthropic `stop_reason`.
pub fn stop_reason(finish_reason: Option<&str>, has_tool_calls: bool) -> &'static str {
    match finish_reason {
        Some("length") => "max_tokens",
        Some("tool_calls") | Some("function_call") => "tool_use",
        Some("content_filter") => "refusal",
        _ if has_tool_calls => "tool_use",
        _ => "end_turn",
    }
}

/// Anthropic's usage object for our usage: `input_tokens` excludes cache reads and writes.
pub fn anthropic_usage(usage: Option<&Usage>) -> Value {
    let Some(u) = usage else {
        return json!({"input_tokens": 0, "output_tokens": 0,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0});
    };
    let raw = |k: &str| u.extra.get(k).and_then(Value::as_u64);
    let cache_read = raw("cache_read_input_tokens").unwrap_or_else(|| u.cached_tokens());
    let cache_creation =
        raw("cache_creation_input_tokens").unwrap_or_else(|| u.cache_creation_tokens());
    json!({
        "input_tokens": u.prompt_tokens.saturating_sub(cache_read + cache_creation),
        "output_tokens": u.completion_tokens,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
    })
}

/// Parses tool-call arguments into an `input` object (`{}` when empty or not JSON).
fn tool_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return json!({});
    }
    serde_json::from_str::<Value>(arguments).unwrap_or_else(|_| json!({}))
}

/// A `thinking_blocks` entry as an Anthropic content block.
fn thinking_block(b: &Value) -> Option<Value> {
    match block_type(b) {
        "thinking" => Some(json!({
            "type": "thinking",
            "thinking": str_of(b, "thinking").unwrap_or(""),
            "signature": str_of(b, "signature").unwrap_or(""),
        })),
        "redacted_thinking" => Some(json!({
            "type": "redacted_thinking",
            "data": str_of(b, "data").unwrap_or(""),
        })),
        _ => None,
    }
}

/// Translates an OpenAI chat completion into an Anthropic `message`.
pub fn to_messages_response(resp: &ChatResponse) -> Value {
    let mut content: Vec<Value> = Vec::new();
    let mut has_tools = false;
    let choice = resp.choices.first();
    if let Some(m) = choice.map(|c| &c.message) {
        match m.extra.get("thinking_blocks") {
            Some(Value::Array(blocks)) if !blocks.is_empty() => {
                content.extend(blocks.iter().filter_map(thinking_block));
            }
            _ => {
                if let Some(r) = m.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
                    content.push(json!({"type": "thinking", "thinking": r, "signature": ""}));
                }
            }
        }
        if let Some(text) = m
            .content
            .as_deref()
            .or(m.refusal.as_deref())
            .filter(|t| !t.is_empty())
        {
            content.push(json!({"type": "text", "text": text}));
        }
        for call in m.tool_calls.iter().flatten() {
            has_tools = true;
            content.push(json!({
                "type": "tool_use",
                "id": call.id,
                "name": call.function.name,
                "input": tool_input(&call.function.arguments),
            }));
        }
    }
    json!({
        "id": message_id(&resp.id),
        "type": "message",
        "role": "assistant",
        "model": resp.model,
        "content": content,
        "stop_reason": stop_reason(choice.and_then(|c| c.finish_reason.as_deref()), has_tools),
        "stop_sequence": null,
        "usage": anthropic_usage(resp.usage.as_ref()),
    })
}

/// Anthropic's error `type` for an HTTP status.
pub fn error_type_for_status(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 | 408 => "timeout_error",
        503 | 529 => "overloaded_error",
        s if s >= 500 => "api_error",
        _ => "invalid_request_error",
    }
}

/// Anthropic's error body.
pub fn error_body(status: u16, message: &str) -> Value {
    json!({
        "type": "error",
        "error": {"type": error_type_for_status(status), "message": message},
    })
}

/// One Anthropic SSE event.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvent {
    /// The `event:` name, equal to `data.type`.
    pub event: &'static str,
    pub data: Value,
}

impl StreamEvent {
    fn new(event: &'static str, data: Value) -> Self {
        StreamEvent { event, data }
    }

    /// The event as written on the wire: `event: <name>\ndata: <json>\n\n`.
    pub fn to_sse(&self) -> String {
        format!("event: {}\ndata: {}\n\n", self.event, self.data)
    }
}

/// The block open in a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
    /// A tool call, by its OpenAI tool-call index.
    Tool(u32),
}

/// Turns OpenAI chunks into Anthropic's event stream, incrementally. Feed every chunk with
/// [`StreamTranslator::push`], then call [`StreamTranslator::finish`] (the stream ended) or
/// [`StreamTranslator::fail`] (it failed). Blocks are sequential, as Anthropic's are: a new kind
/// of delta closes the open block.
#[derive(Debug)]
pub struct StreamTranslator {
    model: String,
    input_estimate: u64,
    started: bool,
    done: bool,
    next_index: u64,
    open: Option<Open>,
    finish_reason: Option<String>,
    saw_tool: bool,
    usage: Option<Usage>,
    output_chars: usize,
}

impl StreamTranslator {
    /// A translator; `model` is reported until a chunk names the upstream's model, and
    /// `input_estimate` is the `message_start` input count (the exact count comes in
    /// `message_delta`).
    pub fn new(model: &str, input_estimate: u64) -> Self {
        StreamTranslator {
            model: model.to_string(),
            input_estimate,
            started: false,
            done: false,
            next_index: 0,
            open: None,
            finish_reason: None,
            saw_tool: false,
            usage: None,
            output_chars: 0,
        }
    }

    /// Whether the stream has ended (`message_stop` or `error` written).
    pub fn is_done(&self) -> bool {
        self.done
    }

    fn start(&mut self, id: &str, model: &str, out: &mut Vec<StreamEvent>) {
        if self.started {
            return;
        }
        self.started = true;
        if !model.is_empty() {
            self.model = model.to_string();
        }
        out.push(StreamEvent::new(
            "message_start",
            json!({"type": "message_start", "message": {
                "id": message_id(id),
                "type": "message",
                "role": "assistant",
                "model": self.model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": {"input_tokens": self.input_estimate, "output_tokens": 0,
                    "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
            }}),
        ));
    }

    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        if self.open.take().is_some() {
            out.push(StreamEvent::new(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": self.next_index - 1}),
            ));
        }
    }

    fn open_block(&mut self, kind: Open, block: Value, out: &mut Vec<StreamEvent>) {
        self.close(out);
        out.push(StreamEvent::new(
            "content_block_start",
            json!({"type": "content_block_start", "index": self.next_index, "content_block": block}),
        ));
        self.next_index += 1;
        self.open = Some(kind);
    }

    fn delta(&self, delta: Value, out: &mut Vec<StreamEvent>) {
        out.push(StreamEvent::new(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": self.next_index - 1, "delta": delta}),
        ));
    }

    /// Translates one chunk; the events it completes are appended to `out`.
    pub fn push(&mut self, chunk: &ChatChunk, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        self.start(&chunk.id, &chunk.model, out);
        if let Some(u) = &chunk.usage {
            self.usage = Some(u.clone());
        }
        let Some(choice) = chunk.choices.iter().find(|c| c.index == 0) else {
            return;
        };
        let d = &choice.delta;
        // Thinking: text, then signed and redacted blocks from `thinking_blocks`.
        if let Some(r) = d.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
            if self.open != Some(Open::Thinking) {
                self.open_block(
                    Open::Thinking,
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                    out,
                );
            }
            self.output_chars += r.len();
            self.delta(json!({"type": "thinking_delta", "thinking": r}), out);
        }
        if let Some(Value::Array(blocks)) = d.extra.get("thinking_blocks") {
            for b in blocks {
                match block_type(b) {
                    "thinking" => {
                        let Some(sig) = str_of(b, "signature").filter(|s| !s.is_empty()) else {
                            continue;
                        };
                        if self.open != Some(Open::Thinking) {
                            self.open_block(
                                Open::Thinking,
                                json!({"type": "thinking", "thinking": "", "signature": ""}),
                                out,
                            );
                        }
                        self.delta(json!({"type": "signature_delta", "signature": sig}), out);
                    }
                    "redacted_thinking" => {
                        let block = json!({"type": "redacted_thinking",
                            "data": str_of(b, "data").unwrap_or("")});
                        self.open_block(Open::Thinking, block, out);
                        self.close(out);
                    }
                    _ => {}
                }
            }
        }
        if let Some(text) = d
            .content
            .as_deref()
            .or(d.refusal.as_deref())
            .filter(|t| !t.is_empty())
        {
            if self.open != Some(Open::Text) {
                self.open_block(Open::Text, json!({"type": "text", "text": ""}), out);
            }
            self.output_chars += text.len();
            self.delta(json!({"type": "text_delta", "text": text}), out);
        }
        for call in d.tool_calls.iter().flatten() {
            let f = call.function.as_ref();
            let starts = call.id.is_some() || f.and_then(|f| f.name.as_ref()).is_some();
            if self.open != Some(Open::Tool(call.index)) {
                if !starts && self.saw_tool {
                    // A fragment of a tool call whose block was already closed (an upstream
                    // interleaving parallel calls): Anthropic's blocks cannot reopen.
                    continue;
                }
                self.saw_tool = true;
                let id = call
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("toolu_{}", uuid::Uuid::new_v4().simple()));
                let name = f.and_then(|f| f.name.clone()).unwrap_or_default();
                self.output_chars += name.len();
                self.open_block(
                    Open::Tool(call.index),
                    json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                    out,
                );
            }
            if let Some(args) = f
                .and_then(|f| f.arguments.as_deref())
                .filter(|a| !a.is_empty())
            {
                self.output_chars += args.len();
                self.delta(
                    json!({"type": "input_json_delta", "partial_json": args}),
                    out,
                );
            }
        }
        if let Some(reason) = &choice.finish_reason {
            self.finish_reason = Some(reason.clone());
            self.close(out);
        }
    }

    /// The stream ended: closes the open block and writes `message_delta` (stop reason, exact
    /// usage, or an estimate from the streamed text when the upstream reported none) and
    /// `message_stop`.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        self.start("", "", out);
        self.close(out);
        self.done = true;
        let usage = match &self.usage {
            Some(u) => anthropic_usage(Some(u)),
            None => json!({"input_tokens": self.input_estimate,
                "output_tokens": (self.output_chars as u64).div_ceil(4),
                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}),
        };
        out.push(StreamEvent::new(
            "message_delta",
            json!({"type": "message_delta",
                "delta": {"stop_reason": stop_reason(self.finish_reason.as_deref(), self.saw_tool),
                    "stop_sequence": null},
                "usage": usage}),
        ));
        out.push(StreamEvent::new(
            "message_stop",
            json!({"type": "message_stop"}),
        ));
    }

    /// The stream failed after it started: one `error` event (with the status the error would
    /// have answered with, for its type) ends it.
    pub fn fail(&mut self, status: u16, message: &str, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        self.done = true;
        out.push(StreamEvent::new("error", error_body(status, message)));
    }
}

fn text_chars(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len(),
        Value::Array(items) => items.iter().map(text_chars).sum(),
        Value::Object(_) => match block_type(v) {
            "text" => str_of(v, "text").map_or(0, str::len),
            "thinking" => str_of(v, "thinking").map_or(0, str::len),
            "tool_use" => {
                v.get("input").map_or(0, |i| i.to_string().len())
                    + str_of(v, "name").map_or(0, str::len)
            }
            "tool_result" => v.get("content").map_or(0, text_chars),
            "document" => match v.get("source") {
                Some(s) if str_of(s, "type") == Some("text") => {
                    str_of(s, "data").map_or(0, str::len)
                }
                Some(s) if str_of(s, "type") == Some("content") => {
                    s.get("content").map_or(0, text_chars)
                }
                _ => 0,
            },
            _ => 0,
        },
        _ => 0,
    }
}

fn media_blocks(v: &Value) -> u64 {
    match v {
        Value::Array(items) => items.iter().map(media_blocks).sum(),
        Value::Object(_) => match block_type(v) {
            "image" => 1,
            "document" => match v.get("source").and_then(|s| str_of(s, "type")) {
                Some("text") | Some("content") => 0,
                _ => 1,
            },
            "tool_result" => v.get("content").map_or(0, media_blocks),
            _ => 0,
        },
        _ => 0,
    }
}

/// The `count_tokens` estimate: characters of every text the model reads (system, text and
/// thinking blocks, tool inputs and results, text documents, tool definitions as JSON) at four
/// characters a token (LiteLLM's fallback, as `litellm-router`'s `tokens.rs`), three tokens of
/// overhead per message plus three, and [`MEDIA_BLOCK_TOKENS`] per image or binary document.
pub fn estimate_input_tokens(req: &MessagesRequest) -> u64 {
    let mut chars = match &req.system {
        None => 0,
        Some(SystemPrompt::Text(t)) => t.len(),
        Some(SystemPrompt::Blocks(b)) => b.iter().map(text_chars).sum(),
    };
    let mut media = 0;
    for m in &req.messages {
        match &m.content {
            InputContent::Text(t) => chars += t.len(),
            InputContent::Blocks(b) => {
                chars += b.iter().map(text_chars).sum::<usize>();
                media += b.iter().map(media_blocks).sum::<u64>();
            }
        }
    }
    if let Some(tools) = req.tools.as_ref().filter(|t| !t.is_empty()) {
        chars += serde_json::to_string(tools).map_or(0, |s| s.len());
    }
    (chars as u64).div_ceil(4)
        + PER_MESSAGE * (req.messages.len() as u64 + 1)
        + media * MEDIA_BLOCK_TOKENS
}

/// The number of image and binary-document blocks in a request (for a count made by another
/// method, which adds [`MEDIA_BLOCK_TOKENS`] for each).
pub fn media_block_count(req: &MessagesRequest) -> u64 {
    req.messages
        .iter()
        .map(|m| match &m.content {
            InputContent::Text(_) => 0,
            InputContent::Blocks(b) => b.iter().map(media_blocks).sum(),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_bucket_like_litellm() {
        assert_eq!(reasoning_effort_for_budget(0), "minimal");
        assert_eq!(reasoning_effort_for_budget(1024), "low");
        assert_eq!(reasoning_effort_for_budget(2048), "medium");
        assert_eq!(reasoning_effort_for_budget(10_000), "high");
    }

    #[test]
    fn ids_keep_msg_prefix() {
        assert_eq!(message_id("msg_01"), "msg_01");
        assert_eq!(message_id("chatcmpl-abc"), "msg_abc");
        assert!(message_id("").starts_with("msg_"));
    }

    #[test]
    fn error_types_follow_status() {
        assert_eq!(error_type_for_status(400), "invalid_request_error");
        assert_eq!(error_type_for_status(401), "authentication_error");
        assert_eq!(error_type_for_status(529), "overloaded_error");
        assert_eq!(error_type_for_status(500), "api_error");
    }
}
