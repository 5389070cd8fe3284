//! Bedrock Converse request translation: the body (messages, system, inference and
//! additional model request fields) and the content blocks (text, images, documents, cache points).

use std::time::SystemTime;

use http::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use http::HeaderValue;
use serde_json::Value;

use litellm_core::{
    ChatRequest, Content, ContentPart, ErrorKind, JsonMap, KnownContentPart, LlmError, Message,
    ToolChoice,
};

use super::tools::{has_cache_control, response_format_tool};
use super::tools::{tool_spec, translate_tool, translate_tool_choice};
use super::wire::{
    self, AdditionalFields, CachePoint, ContentBlock, ConverseRequest, Document, Image,
    InferenceConfig, ReasoningContent, Source, Tool, ToolConfig, ToolResult, ToolUse,
};
use super::{base_model, str_field};
use super::{BedrockAdapter, PROVIDER, RESPONSE_FORMAT_TOOL_NAME, THINKING_MAX_TOKENS_MARGIN};
use crate::adapter_common::is_internal_param;
use crate::adapter_common::{
    merge_extra_body, prepare, serialize_body, stop_sequences, wire_map, Prepared,
};
use crate::request_common::{assistant_calls, enabled_thinking, parse_data_url, push_turn};
use crate::upstream::{truncate_chars, UpstreamRequest};

/// Typed OpenAI parameters Converse has no equivalent for: a 400 unless dropped.
pub(super) const UNSUPPORTED_TYPED: &[&str] = &[
    "n",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "seed",
    "parallel_tool_calls",
];

/// Body fields a client `extra_body` never replaces.
pub(super) const EXTRA_BODY_KEPT_KEYS: &[&str] = &["messages", "toolConfig", "system"];

/// OpenAI request fields Converse has no equivalent for: a 400 unless dropped.
pub(super) const UNSUPPORTED_EXTRA: &[&str] = &[
    "audio",
    "modalities",
    "prediction",
    "store",
    "prompt_cache_key",
    "safety_identifier",
    "verbosity",
    "web_search_options",
    "service_tier",
    "logprobs",
    "top_logprobs",
];

/// Converse request fields that sit at the top level of the body when a client sends them.
pub(super) const TOP_LEVEL_FIELDS: &[&str] = &[
    "guardrailConfig",
    "performanceConfig",
    "promptVariables",
    "requestMetadata",
    "additionalModelResponseFieldPaths",
];

/// Client fields never forwarded (the adapter builds them, or they only steer LiteLLM).
pub(super) const STRUCTURAL_KEYS: &[&str] = &[
    "model",
    "messages",
    "system",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "toolConfig",
    "extra_body",
];

impl BedrockAdapter {
    pub(super) fn json_headers(&self, accept: &'static str) -> HeaderMap {
        let mut headers = self.headers.clone();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static(accept));
        headers
    }

    /// `POST /model/{id}/converse` (or `/converse-stream`), signed now.
    pub fn build_chat_request(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        self.build_chat_request_at(req, stream, extra_headers, SystemTime::now())
    }

    /// As [`BedrockAdapter::build_chat_request`], signed at `now` (tests fix the clock).
    pub fn build_chat_request_at(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
        now: SystemTime,
    ) -> Result<UpstreamRequest, LlmError> {
        let body = serialize_body(&Value::Object(self.translate_request(req)?))?;
        let (action, accept) = if stream {
            ("converse-stream", "application/vnd.amazon.eventstream")
        } else {
            ("converse", "application/json")
        };
        self.finish(
            self.url(action),
            self.json_headers(accept),
            body,
            extra_headers,
            now,
        )
    }

    /// The Converse body for `req`.
    pub fn translate_request(&self, req: ChatRequest) -> Result<JsonMap, LlmError> {
        let Prepared(mut req, extra_body, drop) =
            prepare(req, &self.defaults, &[], self.drop_params, &[])?.refusing(
                PROVIDER,
                UNSUPPORTED_TYPED,
                UNSUPPORTED_EXTRA,
            )?;
        req.user = None;
        let base = base_model(&self.model);
        let is_claude = base.starts_with("anthropic.") || base.contains("claude");

        let (system, messages, has_tool_blocks) =
            translate_messages(std::mem::take(&mut req.messages))?;

        let mut inference = InferenceConfig {
            max_tokens: req.max_output_tokens().map(u64::from),
            temperature: req.temperature,
            top_p: req.top_p,
            stop_sequences: stop_sequences(&req),
            top_k: None,
        };
        let mut additional = AdditionalFields::default();
        let top_k = req
            .extra
            .remove("top_k")
            .or_else(|| req.extra.remove("topK"))
            .filter(|v| !v.is_null());
        if base.starts_with("amazon.nova") {
            inference.top_k = top_k;
        } else {
            additional.top_k = top_k;
        }

        // Thinking: a client `thinking` object wins over `reasoning_effort`.
        let thinking = match req.extra.remove("thinking") {
            Some(Value::Null) | None => match req.reasoning_effort.as_deref() {
                Some(effort) if is_claude => enabled_thinking(effort, PROVIDER)?,
                Some(effort) if !matches!(effort.trim(), "" | "none") && !drop => {
                    let mut e = LlmError::client(
                        ErrorKind::BadRequest,
                        format!(
                            "UnsupportedParamsError: bedrock model {} does not support \
                             reasoning_effort. To drop it, set drop_params: true",
                            self.model
                        ),
                    );
                    e.param = Some("reasoning_effort".into());
                    return Err(e.with_provider(PROVIDER));
                }
                _ => None,
            },
            Some(t) => Some(t),
        };
        let thinking_on = thinking
            .as_ref()
            .is_some_and(|t| t.get("type").and_then(Value::as_str) == Some("enabled"));
        if thinking_on && inference.max_tokens.is_none() {
            let budget = thinking
                .as_ref()
                .and_then(|t| t.get("budget_tokens"))
                .and_then(Value::as_u64);
            inference.max_tokens = budget.map(|b| b + THINKING_MAX_TOKENS_MARGIN);
        }
        // Claude without a limit gets its maximum output (LiteLLM's cost-map default).
        if inference.max_tokens.is_none() {
            inference.max_tokens = self.claude_max_tokens;
        }
        additional.thinking = thinking;

        let tool_config = translate_tools(&mut req, drop, thinking_on, has_tool_blocks)?;

        // Everything else the client sent that we do not model.
        let mut top_level = JsonMap::new();
        let mut inference = wire_map(&inference)?;
        let mut additional = wire_map(&additional)?;
        for (key, value) in std::mem::take(&mut req.extra) {
            if value.is_null() || is_internal_param(&key) || STRUCTURAL_KEYS.contains(&key.as_str())
            {
                continue;
            }
            match key.as_str() {
                k if TOP_LEVEL_FIELDS.contains(&k) => {
                    top_level.insert(key, value);
                }
                "additionalModelRequestFields" | "inferenceConfig" => {
                    let Value::Object(map) = value else {
                        return Err(LlmError::bad_param(
                            key.clone(),
                            format!("{key} must be a JSON object"),
                        ));
                    };
                    let target = if key == "inferenceConfig" {
                        &mut inference
                    } else {
                        &mut additional
                    };
                    for (k, v) in map {
                        target.entry(k).or_insert(v);
                    }
                }
                _ => {
                    additional.insert(key, value);
                }
            }
        }
        let mut body = wire_map(&ConverseRequest {
            messages,
            system,
            tool_config,
            top_level,
            inference_config: inference,
            additional_model_request_fields: additional,
        })?;
        merge_extra_body(&mut body, extra_body, EXTRA_BODY_KEPT_KEYS, &[]);
        Ok(body)
    }
}

/// The `toolConfig`: tools, legacy functions and the JSON-mode tool, with the tool choice.
/// Converse requires it when the conversation holds tool blocks.
fn translate_tools(
    req: &mut ChatRequest,
    drop: bool,
    thinking_on: bool,
    has_tool_blocks: bool,
) -> Result<Option<ToolConfig>, LlmError> {
    let mut tools: Vec<Tool> = Vec::new();
    for tool in req.tools.take().into_iter().flatten() {
        tools.extend(translate_tool(tool)?);
    }
    for f in req.functions.take().into_iter().flatten() {
        let cache = has_cache_control(&f.extra);
        tools.push(tool_spec(f.name, f.description, f.parameters));
        if cache {
            tools.push(Tool::CachePoint(CachePoint::DEFAULT));
        }
    }
    let mut tool_choice = match req.tool_choice.take() {
        Some(choice) => translate_tool_choice(choice, drop)?,
        None => match req.function_call.take() {
            Some(Value::String(mode)) => translate_tool_choice(ToolChoice::Mode(mode), drop)?,
            Some(Value::Object(o)) => o
                .get("name")
                .and_then(Value::as_str)
                .map(|name| wire::ToolChoice::Tool { name: name.into() }),
            _ => None,
        },
    };
    if let Some(format) = req.response_format.take() {
        if let Some(tool) = response_format_tool(format)? {
            tools.push(tool);
            if !thinking_on {
                tool_choice = Some(wire::ToolChoice::Tool {
                    name: RESPONSE_FORMAT_TOOL_NAME.into(),
                });
            }
        }
    }
    if !tools.is_empty() {
        Ok(Some(ToolConfig { tools, tool_choice }))
    } else if has_tool_blocks {
        Err(LlmError::bad_param(
            "tools",
            "bedrock needs `tools` when the conversation holds tool calls or tool results; \
             pass the tool definitions with the request",
        ))
    } else {
        Ok(None)
    }
}

/// Bedrock's image format for a media type or file extension.
pub(super) fn image_format(kind: &str) -> Option<&'static str> {
    Some(match kind.to_ascii_lowercase().as_str() {
        "image/png" | "png" => "png",
        "image/jpeg" | "image/jpg" | "jpeg" | "jpg" => "jpeg",
        "image/gif" | "gif" => "gif",
        "image/webp" | "webp" => "webp",
        _ => return None,
    })
}

/// Bedrock's document format for a media type or file extension.
pub(super) fn document_format(kind: &str) -> Option<&'static str> {
    Some(match kind.to_ascii_lowercase().as_str() {
        "application/pdf" | "pdf" => "pdf",
        "text/csv" | "csv" => "csv",
        "application/msword" | "doc" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" | "docx" => {
            "docx"
        }
        "application/vnd.ms-excel" | "xls" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" | "xlsx" => "xlsx",
        "text/html" | "html" => "html",
        "text/plain" | "txt" => "txt",
        "text/markdown" | "md" => "md",
        _ => return None,
    })
}

/// An image or document block from a data URL or an `s3://` URI. `docs` counts documents so
/// each gets a distinct name (Bedrock requires one).
pub(super) fn media_block(
    url: &str,
    param: &str,
    docs: &mut usize,
) -> Result<ContentBlock, LlmError> {
    let (kind, source) = if url.starts_with("data:") {
        let Some((media, data)) = parse_data_url(url) else {
            return Err(LlmError::bad_param(
                param,
                "an image data URL must look like data:<media type>;base64,<data>",
            ));
        };
        (media.to_string(), Source::Bytes(data.into()))
    } else if url.starts_with("s3://") {
        let ext = url
            .rsplit_once('.')
            .map(|(_, e)| e.to_string())
            .unwrap_or_default();
        (ext, Source::S3Location { uri: url.into() })
    } else if url.starts_with("http://") || url.starts_with("https://") {
        return Err(LlmError::bad_param(
            param,
            "bedrock does not fetch image URLs; send the image as a base64 data URL \
             (data:image/png;base64,...) or an s3:// URI",
        ));
    } else {
        return Err(LlmError::bad_param(
            param,
            format!(
                "unsupported image URL {:?}: use a base64 data URL or an s3:// URI",
                truncate_chars(url, 60)
            ),
        ));
    };
    if let Some(format) = image_format(&kind) {
        return Ok(ContentBlock::Image(Image { format, source }));
    }
    if let Some(format) = document_format(&kind) {
        *docs += 1;
        return Ok(ContentBlock::Document(Document {
            format,
            name: format!("Document {}", *docs),
            source,
        }));
    }
    Err(LlmError::bad_param(
        param,
        format!(
            "media type {:?} is not supported by bedrock (images: png, jpeg, gif, webp; \
             documents: pdf, csv, doc, docx, xls, xlsx, html, txt, md)",
            truncate_chars(&kind, 60)
        ),
    ))
}

/// User-side content (user messages and tool results) as Converse blocks.
pub(super) fn content_blocks(
    content: Content,
    param: &str,
    docs: &mut usize,
) -> Result<Vec<ContentBlock>, LlmError> {
    match content {
        Content::Text(text) => Ok(if text.is_empty() {
            Vec::new()
        } else {
            vec![ContentBlock::Text(text)]
        }),
        Content::Parts(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for part in parts {
                let (block, cache) = match part {
                    ContentPart::Known(KnownContentPart::Text(t)) => {
                        if t.text.is_empty() {
                            continue;
                        }
                        (ContentBlock::Text(t.text), has_cache_control(&t.extra))
                    }
                    ContentPart::Known(KnownContentPart::ImageUrl(img)) => (
                        media_block(&img.image_url.url, param, docs)?,
                        has_cache_control(&img.extra),
                    ),
                    ContentPart::Known(KnownContentPart::File(f)) => {
                        let Some(data) = &f.file.file_data else {
                            return Err(LlmError::bad_param(
                                param,
                                "bedrock needs file parts as file_data (a base64 data URL); \
                                 file_id is not supported",
                            ));
                        };
                        (media_block(data, param, docs)?, has_cache_control(&f.extra))
                    }
                    ContentPart::Known(KnownContentPart::InputAudio(_)) => {
                        return Err(LlmError::bad_param(
                            param,
                            "bedrock does not support input_audio content",
                        ));
                    }
                    // A block already in Converse's shape (`{"text"}`, `{"image"}`, ...: no
                    // `type` key) is forwarded; an unknown OpenAI part type is refused.
                    ContentPart::Other(v) => match v.get("type").and_then(Value::as_str) {
                        None if v.is_object() => (ContentBlock::Raw(v), false),
                        kind => {
                            return Err(LlmError::bad_param(
                                param,
                                format!(
                                    "content part type {:?} is not supported by bedrock",
                                    kind.unwrap_or("?")
                                ),
                            ));
                        }
                    },
                };
                push_cached(&mut out, block, cache);
            }
            Ok(out)
        }
    }
}

/// Appends `block`, followed by a cache point when `cache`.
fn push_cached(blocks: &mut Vec<ContentBlock>, block: ContentBlock, cache: bool) {
    blocks.push(block);
    if cache {
        blocks.push(ContentBlock::CachePoint(CachePoint::DEFAULT));
    }
}

/// The text of a system message as system blocks.
pub(super) fn system_blocks(content: Content, extra: &JsonMap) -> Vec<ContentBlock> {
    let mut blocks = Vec::new();
    match content {
        Content::Text(t) if t.is_empty() => {}
        Content::Text(t) => blocks.push(ContentBlock::Text(t)),
        Content::Parts(parts) => {
            for p in parts {
                match p {
                    ContentPart::Known(KnownContentPart::Text(t)) if !t.text.is_empty() => {
                        let cache = has_cache_control(&t.extra);
                        push_cached(&mut blocks, ContentBlock::Text(t.text), cache);
                    }
                    ContentPart::Other(v) => {
                        if let Some(t) = v.get("text").and_then(Value::as_str) {
                            if !t.is_empty() {
                                let cache = v.get("cache_control").is_some_and(|c| !c.is_null());
                                push_cached(&mut blocks, ContentBlock::Text(t.into()), cache);
                            }
                        }
                    }
                    ContentPart::Known(_) => {}
                }
            }
        }
    }
    if has_cache_control(extra) && !blocks.is_empty() {
        blocks.push(ContentBlock::CachePoint(CachePoint::DEFAULT));
    }
    blocks
}

/// An assistant message's earlier reasoning (`thinking_blocks`) as reasoning blocks.
fn reasoning_blocks(extra: &JsonMap) -> Vec<ContentBlock> {
    let Some(Value::Array(thinking)) = extra.get("thinking_blocks") else {
        return Vec::new();
    };
    thinking
        .iter()
        .filter_map(|t| match t.get("type").and_then(Value::as_str) {
            Some("thinking") => Some(ReasoningContent::ReasoningText {
                text: str_field(t, "thinking"),
                signature: t.get("signature").and_then(Value::as_str).map(Into::into),
            }),
            Some("redacted_thinking") => {
                Some(ReasoningContent::RedactedContent(str_field(t, "data")))
            }
            _ => None,
        })
        .map(ContentBlock::ReasoningContent)
        .collect()
}

/// Splits the OpenAI messages into Converse's `system` blocks and alternating messages, and
/// says whether any message holds a tool call or result (Converse then requires `toolConfig`).
pub(super) fn translate_messages(
    messages: Vec<Message>,
) -> Result<(Vec<ContentBlock>, Vec<wire::Message>, bool), LlmError> {
    let mut system: Vec<ContentBlock> = Vec::new();
    let mut out: Vec<(&'static str, Vec<ContentBlock>)> = Vec::new();
    let mut has_tool_blocks = false;
    let mut docs = 0usize;
    for (i, message) in messages.into_iter().enumerate() {
        let param = format!("messages[{i}]");
        let (role, mut blocks, cache) = match message {
            Message::System(m) | Message::Developer(m) => {
                system.extend(system_blocks(m.content, &m.extra));
                continue;
            }
            Message::User(m) => {
                let cache = has_cache_control(&m.extra);
                ("user", content_blocks(m.content, &param, &mut docs)?, cache)
            }
            Message::Assistant(m) => {
                let cache = has_cache_control(&m.extra);
                let mut blocks = reasoning_blocks(&m.extra);
                match m.content {
                    Some(Content::Text(t)) if !t.is_empty() => {
                        blocks.push(ContentBlock::Text(t));
                    }
                    Some(Content::Parts(parts)) => {
                        for part in parts {
                            match part {
                                ContentPart::Known(KnownContentPart::Text(t)) => {
                                    if !t.text.is_empty() {
                                        blocks.push(ContentBlock::Text(t.text));
                                    }
                                }
                                ContentPart::Other(v) if v.get("type").is_none() => {
                                    blocks.push(ContentBlock::Raw(v));
                                }
                                _ => {
                                    return Err(LlmError::bad_param(
                                        param,
                                        "assistant messages may only hold text for bedrock",
                                    ));
                                }
                            }
                        }
                    }
                    _ => {}
                }
                let calls = assistant_calls(m.tool_calls, m.function_call, "tooluse_", &param)?;
                for (id, name, input) in calls {
                    has_tool_blocks = true;
                    blocks.push(ContentBlock::ToolUse(ToolUse {
                        tool_use_id: id,
                        name,
                        input,
                    }));
                }
                ("assistant", blocks, cache)
            }
            Message::Tool(m) => {
                let cache = has_cache_control(&m.extra);
                let content = match m.content {
                    Content::Text(t) => vec![ContentBlock::Text(t)],
                    parts => content_blocks(parts, &param, &mut docs)?,
                };
                has_tool_blocks = true;
                let result = ToolResult {
                    tool_use_id: m.tool_call_id,
                    content,
                };
                ("user", vec![ContentBlock::ToolResult(result)], cache)
            }
            Message::Function(m) => {
                has_tool_blocks = true;
                let result = ToolResult {
                    tool_use_id: format!("tooluse_{}", m.name),
                    content: vec![ContentBlock::Text(m.content.unwrap_or_default())],
                };
                ("user", vec![ContentBlock::ToolResult(result)], false)
            }
        };
        if blocks.is_empty() {
            continue;
        }
        if cache {
            blocks.push(ContentBlock::CachePoint(CachePoint::DEFAULT));
        }
        push_turn(&mut out, role, blocks);
    }
    let messages = out
        .into_iter()
        .map(|(role, content)| wire::Message { role, content })
        .collect();
    Ok((system, messages, has_tool_blocks))
}
