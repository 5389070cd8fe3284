//! Anthropic Messages request translation: OpenAI messages, content parts, tools, tool choice,
//! `response_format`, reasoning effort and cache control to a `/v1/messages` body.

use http::Method;
use serde_json::{json, Value};

use litellm_core::{
    ChatRequest, Content, ContentPart, JsonMap, KnownContentPart, KnownResponseFormat, LlmError,
    Message, ResponseFormat, ToolChoice,
};

use super::{DEFAULT_MAX_TOKENS, PROVIDER, RESPONSE_FORMAT_TOOL_NAME, THINKING_MAX_TOKENS_MARGIN};
use crate::adapter_common::{
    forward_extra, merge_extra_body, missing_key, prepare, refuse_or_drop, serialize_body,
    with_call_headers, Prepared,
};
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
        if self.api_key.is_none() {
            return Err(missing_key(
                PROVIDER,
                "no API key for anthropic: set litellm_params.api_key or ANTHROPIC_API_KEY",
            ));
        }
        let body = serialize_body(&Value::Object(self.translate_request(req, stream)?))?;
        Ok(UpstreamRequest {
            method: Method::POST,
            url: self.url.clone(),
            headers: with_call_headers(&self.headers, extra_headers)?,
            body,
        })
    }

    /// The Anthropic Messages body for `req`.
    pub fn translate_request(&self, req: ChatRequest, stream: bool) -> Result<JsonMap, LlmError> {
        let Prepared {
            mut req,
            extra_body: client_extra_body,
            drop,
        } = prepare(
            req,
            &self.defaults,
            &[("stop_sequences", "stop")],
            self.drop_params,
            &self.additional_drop_params,
        )?;
        refuse_or_drop(
            PROVIDER,
            &mut req,
            UNSUPPORTED_TYPED,
            UNSUPPORTED_EXTRA,
            drop,
        )?;

        let mut body = JsonMap::new();
        body.insert("model".into(), Value::String(self.model.clone()));

        let (system, messages) = translate_messages(std::mem::take(&mut req.messages))?;
        body.insert("messages".into(), Value::Array(messages));
        if !system.is_empty() {
            body.insert("system".into(), Value::Array(system));
        }

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
                None => DEFAULT_MAX_TOKENS,
            },
        };
        body.insert("max_tokens".into(), Value::from(max_tokens));
        if let Some(t) = thinking {
            body.insert("thinking".into(), t);
        }

        if let Some(t) = req.temperature {
            body.insert("temperature".into(), json!(t));
        }
        if let Some(p) = req.top_p {
            body.insert("top_p".into(), json!(p));
        }
        if let Some(stop) = &req.stop {
            let seqs: Vec<String> = stop
                .to_vec()
                .into_iter()
                .filter(|s| !(drop && s.trim().is_empty()))
                .collect();
            if !seqs.is_empty() {
                body.insert("stop_sequences".into(), json!(seqs));
            }
        }
        if let Some(user) = req.user.as_deref().filter(|u| valid_user_id(u)) {
            body.insert("metadata".into(), json!({ "user_id": user }));
        }
        if stream {
            body.insert("stream".into(), Value::Bool(true));
        }

        // Tools, legacy functions, and the JSON-mode tool.
        let mut tools: Vec<Value> = Vec::new();
        for tool in req.tools.take().into_iter().flatten() {
            tools.push(translate_tool(tool)?);
        }
        for f in req.functions.take().into_iter().flatten() {
            tools.push(function_tool(f.name, f.description, f.parameters, &f.extra));
        }
        let mut tool_choice = match req.tool_choice.take() {
            Some(choice) => translate_tool_choice(choice)?,
            None => match req.function_call.take() {
                Some(Value::String(mode)) => translate_tool_choice(ToolChoice::Mode(mode))?,
                Some(Value::Object(o)) => o
                    .get("name")
                    .and_then(Value::as_str)
                    .map(|name| json!({"type": "tool", "name": name})),
                _ => None,
            },
        };
        if let Some(format) = req.response_format.take() {
            if let Some(tool) = response_format_tool(format)? {
                tools.push(tool);
                if !thinking_on {
                    tool_choice = Some(json!({"type": "tool", "name": RESPONSE_FORMAT_TOOL_NAME}));
                }
            }
        }
        if let Some(parallel) = req.parallel_tool_calls {
            match &mut tool_choice {
                Some(Value::Object(c)) => {
                    if c.get("type").and_then(Value::as_str) != Some("none") {
                        c.insert("disable_parallel_tool_use".into(), Value::Bool(!parallel));
                    }
                }
                Some(_) => {}
                None => {
                    if !tools.is_empty() {
                        tool_choice = Some(json!({
                            "type": "auto",
                            "disable_parallel_tool_use": !parallel
                        }));
                    }
                }
            }
        }
        if !tools.is_empty() {
            body.insert("tools".into(), Value::Array(tools));
        }
        if let Some(choice) = tool_choice {
            body.insert("tool_choice".into(), choice);
        }

        // Everything else the client sent that we do not model is forwarded.
        forward_extra(
            &mut body,
            std::mem::take(&mut req.extra),
            STRUCTURAL_KEYS,
            false,
        );
        merge_extra_body(
            &mut body,
            client_extra_body,
            STRUCTURAL_KEYS,
            &["max_tokens"],
        );
        Ok(body)
    }
}
pub(super) fn str_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

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
    let budget = match effort.map(str::trim) {
        None | Some("") | Some("none") | Some("disable") => return Ok(None),
        Some("minimal") | Some("low") => 1024,
        Some("medium") => 2048,
        Some("high") => 4096,
        Some(other) => {
            return Err(LlmError::bad_param(
                "reasoning_effort",
                format!(
                    "reasoning_effort {other:?} is not supported for anthropic; use none, \
                     minimal, low, medium or high"
                ),
            ))
        }
    };
    Ok(Some(json!({"type": "enabled", "budget_tokens": budget})))
}

/// A message-level `cache_control` (LiteLLM lets clients set it on the message).
pub(super) fn message_cache_control(extra: &JsonMap) -> Option<Value> {
    extra.get("cache_control").filter(|v| !v.is_null()).cloned()
}

pub(super) fn put_cache_control(blocks: &mut [Value], cache: Option<Value>) {
    if let (Some(cache), Some(Value::Object(last))) = (cache, blocks.last_mut()) {
        last.insert("cache_control".into(), cache);
    }
}

/// The `cache_control` of a content part's extra fields, copied onto the block.
pub(super) fn with_part_cache(mut block: Value, extra: &JsonMap) -> Value {
    if let (Some(cache), Value::Object(b)) = (extra.get("cache_control"), &mut block) {
        if !cache.is_null() {
            b.insert("cache_control".into(), cache.clone());
        }
    }
    block
}

/// A `data:<media>;base64,<data>` URL split into media type and data.
pub(super) fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media = meta.strip_suffix(";base64")?;
    Some((if media.is_empty() { "image/png" } else { media }, data))
}

pub(super) fn image_block(url: &str, param: &str) -> Result<Value, LlmError> {
    if url.starts_with("data:") {
        let Some((media, data)) = parse_data_url(url) else {
            return Err(LlmError::bad_param(
                param,
                "an image data URL must look like data:<media type>;base64,<data>",
            ));
        };
        let kind = if media == "application/pdf" {
            "document"
        } else {
            "image"
        };
        return Ok(json!({
            "type": kind,
            "source": {"type": "base64", "media_type": media, "data": data}
        }));
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        let kind = if url.to_ascii_lowercase().ends_with(".pdf") {
            "document"
        } else {
            "image"
        };
        return Ok(json!({"type": kind, "source": {"type": "url", "url": url}}));
    }
    Err(LlmError::bad_param(
        param,
        format!(
            "unsupported image URL {:?}: use an http(s) URL or a base64 data URL",
            truncate_chars(url, 60)
        ),
    ))
}

/// User-side content (user messages and tool results) as Anthropic blocks.
pub(super) fn content_blocks(content: Content, param: &str) -> Result<Vec<Value>, LlmError> {
    match content {
        Content::Text(text) => Ok(if text.is_empty() {
            Vec::new()
        } else {
            vec![json!({"type": "text", "text": text})]
        }),
        Content::Parts(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for part in parts {
                match part {
                    ContentPart::Known(KnownContentPart::Text(t)) => {
                        if !t.text.is_empty() {
                            out.push(with_part_cache(
                                json!({"type": "text", "text": t.text}),
                                &t.extra,
                            ));
                        }
                    }
                    ContentPart::Known(KnownContentPart::ImageUrl(img)) => {
                        out.push(with_part_cache(
                            image_block(&img.image_url.url, param)?,
                            &img.extra,
                        ));
                    }
                    ContentPart::Known(KnownContentPart::File(f)) => {
                        let block = if let Some(data) = &f.file.file_data {
                            image_block(data, param)?
                        } else if let Some(id) = &f.file.file_id {
                            json!({"type": "document", "source": {"type": "file", "file_id": id}})
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
                    ContentPart::Other(v) => out.push(v),
                }
            }
            Ok(out)
        }
    }
}

/// The text of a system message as text blocks.
pub(super) fn system_blocks(content: Content, extra: &JsonMap) -> Vec<Value> {
    let mut blocks = match content {
        Content::Text(t) if t.is_empty() => Vec::new(),
        Content::Text(t) => vec![json!({"type": "text", "text": t})],
        Content::Parts(parts) => parts
            .into_iter()
            .filter_map(|p| match p {
                ContentPart::Known(KnownContentPart::Text(t)) if !t.text.is_empty() => Some(
                    with_part_cache(json!({"type": "text", "text": t.text}), &t.extra),
                ),
                ContentPart::Known(_) => None,
                ContentPart::Other(v) => v
                    .get("text")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .map(|t| {
                        let mut b = json!({"type": "text", "text": t});
                        if let Some(c) = v.get("cache_control") {
                            b["cache_control"] = c.clone();
                        }
                        b
                    }),
            })
            .collect(),
    };
    put_cache_control(&mut blocks, message_cache_control(extra));
    blocks
}

/// Splits the OpenAI messages into Anthropic's `system` blocks and alternating messages.
pub(super) fn translate_messages(
    messages: Vec<Message>,
) -> Result<(Vec<Value>, Vec<Value>), LlmError> {
    let mut system: Vec<Value> = Vec::new();
    // (role, blocks), merged when the role repeats.
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
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
            Message::Assistant(m) => {
                let cache = message_cache_control(&m.extra);
                let mut blocks = Vec::new();
                if let Some(Value::Array(thinking)) = m.extra.get("thinking_blocks") {
                    blocks.extend(thinking.iter().cloned());
                }
                match m.content {
                    Some(Content::Text(t)) if !t.is_empty() => {
                        blocks.push(json!({"type": "text", "text": t}));
                    }
                    Some(Content::Parts(parts)) => {
                        for part in parts {
                            match part {
                                ContentPart::Known(KnownContentPart::Text(t)) => {
                                    if !t.text.is_empty() {
                                        blocks.push(with_part_cache(
                                            json!({"type": "text", "text": t.text}),
                                            &t.extra,
                                        ));
                                    }
                                }
                                ContentPart::Other(v) => blocks.push(v),
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
                let calls = m
                    .tool_calls
                    .into_iter()
                    .flatten()
                    .map(|c| (c.id, c.function));
                let legacy = m
                    .function_call
                    .into_iter()
                    .map(|f| (format!("toolu_{}", f.name), f));
                for (id, function) in calls.chain(legacy) {
                    let input = if function.arguments.trim().is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str::<Value>(&function.arguments).map_err(|e| {
                            LlmError::bad_param(
                                param.clone(),
                                format!(
                                    "the arguments of tool call {id:?} are not valid JSON: {e}"
                                ),
                            )
                        })?
                    };
                    blocks.push(json!({
                        "type": "tool_use", "id": id, "name": function.name, "input": input
                    }));
                }
                put_cache_control(&mut blocks, cache);
                ("assistant", blocks)
            }
            Message::Tool(m) => {
                let cache = message_cache_control(&m.extra);
                let content = match m.content {
                    Content::Text(t) => Value::String(t),
                    parts => Value::Array(content_blocks(parts, &param)?),
                };
                let mut block = json!({
                    "type": "tool_result", "tool_use_id": m.tool_call_id, "content": content
                });
                if let Some(c) = cache {
                    block["cache_control"] = c;
                }
                ("user", vec![block])
            }
            Message::Function(m) => {
                let block = json!({
                    "type": "tool_result",
                    "tool_use_id": format!("toolu_{}", m.name),
                    "content": m.content.unwrap_or_default(),
                });
                ("user", vec![block])
            }
        };
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((last_role, last_blocks)) if *last_role == role => last_blocks.extend(blocks),
            _ => out.push((role, blocks)),
        }
    }
    let messages = out
        .into_iter()
        .map(|(role, blocks)| json!({"role": role, "content": blocks}))
        .collect();
    Ok((system, messages))
}

pub(super) fn function_tool(
    name: String,
    description: Option<String>,
    parameters: Option<Value>,
    extra: &JsonMap,
) -> Value {
    let mut schema = parameters.unwrap_or_else(|| json!({"type": "object", "properties": {}}));
    if let Value::Object(s) = &mut schema {
        s.entry("type").or_insert_with(|| json!("object"));
    }
    let mut tool = json!({"name": name, "input_schema": schema});
    if let Some(d) = description {
        tool["description"] = Value::String(d);
    }
    if let Some(c) = extra.get("cache_control").filter(|c| !c.is_null()) {
        tool["cache_control"] = c.clone();
    }
    tool
}

pub(super) fn translate_tool(tool: litellm_core::Tool) -> Result<Value, LlmError> {
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
            return Ok(Value::Object(map));
        }
        return Err(LlmError::bad_param(
            "tools",
            "a function tool needs a `function` object",
        ));
    }
    // Anthropic's own tool types (`web_search_20250305`, `bash_20250124`, ...) pass through.
    serde_json::to_value(tool)
        .map_err(|e| LlmError::internal(format!("could not serialize a tool: {e}")))
}

pub(super) fn translate_tool_choice(choice: ToolChoice) -> Result<Option<Value>, LlmError> {
    Ok(Some(match choice {
        ToolChoice::Mode(mode) => match mode.as_str() {
            "auto" => json!({"type": "auto"}),
            "required" | "any" => json!({"type": "any"}),
            "none" => json!({"type": "none"}),
            other => {
                return Err(LlmError::bad_param(
                    "tool_choice",
                    format!("tool_choice {other:?} is not one of none, auto, required"),
                ))
            }
        },
        ToolChoice::Named(named) => json!({"type": "tool", "name": named.function.name}),
        ToolChoice::Other(v) => v,
    }))
}

/// The `json_tool_call` tool for a `response_format`, `None` for `text`.
pub(super) fn response_format_tool(format: ResponseFormat) -> Result<Option<Value>, LlmError> {
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
    let input_schema = match schema {
        Some(Value::Object(mut s)) => {
            s.entry("type").or_insert_with(|| json!("object"));
            Value::Object(s)
        }
        _ => json!({"type": "object", "additionalProperties": true, "properties": {}}),
    };
    Ok(Some(json!({
        "name": RESPONSE_FORMAT_TOOL_NAME,
        "input_schema": input_schema
    })))
}
