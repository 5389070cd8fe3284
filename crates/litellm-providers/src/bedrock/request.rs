//! Bedrock Converse request translation: the body (messages, system, inference and
//! additional model request fields) and the content blocks (text, images, documents, cache points).

use std::time::SystemTime;

use http::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use http::HeaderValue;
use serde_json::{json, Value};

use litellm_core::{
    ChatRequest, Content, ContentPart, ErrorKind, JsonMap, KnownContentPart, LlmError, Message,
    ToolChoice,
};

use super::tools::{cache_point, has_cache_control, response_format_tool};
use super::tools::{tool_spec, translate_tool, translate_tool_choice};
use super::{base_model, str_field};
use super::{BedrockAdapter, PROVIDER, RESPONSE_FORMAT_TOOL_NAME, THINKING_MAX_TOKENS_MARGIN};
use crate::adapter_common::is_internal_param;
use crate::adapter_common::{
    merge_extra_body, prepare, refuse_or_drop, serialize_body, stop_sequences, Prepared,
};
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
        let Prepared {
            mut req,
            extra_body: client_extra_body,
            drop,
        } = prepare(req, &self.defaults, &[], self.drop_params, &[])?;
        refuse_or_drop(
            PROVIDER,
            &mut req,
            UNSUPPORTED_TYPED,
            UNSUPPORTED_EXTRA,
            drop,
        )?;
        req.user = None;
        let base = base_model(&self.model);
        let is_claude = base.starts_with("anthropic.") || base.contains("claude");

        let mut body = JsonMap::new();
        let (system, messages, has_tool_blocks) =
            translate_messages(std::mem::take(&mut req.messages))?;
        body.insert("messages".into(), Value::Array(messages));
        if !system.is_empty() {
            body.insert("system".into(), Value::Array(system));
        }

        let mut inference = JsonMap::new();
        let mut additional = JsonMap::new();
        if let Some(n) = req.max_output_tokens() {
            inference.insert("maxTokens".into(), json!(n));
        }
        if let Some(t) = req.temperature {
            inference.insert("temperature".into(), json!(t));
        }
        if let Some(p) = req.top_p {
            inference.insert("topP".into(), json!(p));
        }
        if let Some(seqs) = stop_sequences(&req) {
            inference.insert("stopSequences".into(), seqs);
        }
        let top_k = req
            .extra
            .remove("top_k")
            .or_else(|| req.extra.remove("topK"))
            .filter(|v| !v.is_null());
        if let Some(k) = top_k {
            if base.starts_with("amazon.nova") {
                inference.insert("topK".into(), k);
            } else {
                additional.insert("top_k".into(), k);
            }
        }

        // Thinking: a client `thinking` object wins over `reasoning_effort`.
        let thinking = match req.extra.remove("thinking") {
            Some(Value::Null) | None => match req.reasoning_effort.as_deref() {
                Some(effort) if is_claude => thinking_for_effort(effort)?,
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
        if let Some(t) = thinking {
            if thinking_on && !inference.contains_key("maxTokens") {
                if let Some(budget) = t.get("budget_tokens").and_then(Value::as_u64) {
                    inference.insert(
                        "maxTokens".into(),
                        json!(budget + THINKING_MAX_TOKENS_MARGIN),
                    );
                }
            }
            additional.insert("thinking".into(), t);
        }

        // Tools, legacy functions, and the JSON-mode tool.
        let mut tools: Vec<Value> = Vec::new();
        for tool in req.tools.take().into_iter().flatten() {
            tools.extend(translate_tool(tool)?);
        }
        for f in req.functions.take().into_iter().flatten() {
            let cache = f.extra.get("cache_control").is_some_and(|c| !c.is_null());
            tools.push(tool_spec(f.name, f.description, f.parameters));
            if cache {
                tools.push(cache_point());
            }
        }
        let mut tool_choice = match req.tool_choice.take() {
            Some(choice) => translate_tool_choice(choice, drop)?,
            None => match req.function_call.take() {
                Some(Value::String(mode)) => translate_tool_choice(ToolChoice::Mode(mode), drop)?,
                Some(Value::Object(o)) => o
                    .get("name")
                    .and_then(Value::as_str)
                    .map(|name| json!({"tool": {"name": name}})),
                _ => None,
            },
        };
        if let Some(format) = req.response_format.take() {
            if let Some(tool) = response_format_tool(format)? {
                tools.push(tool);
                if !thinking_on {
                    tool_choice = Some(json!({"tool": {"name": RESPONSE_FORMAT_TOOL_NAME}}));
                }
            }
        }
        if !tools.is_empty() {
            let mut config = JsonMap::new();
            config.insert("tools".into(), Value::Array(tools));
            if let Some(choice) = tool_choice {
                config.insert("toolChoice".into(), choice);
            }
            body.insert("toolConfig".into(), Value::Object(config));
        } else if has_tool_blocks {
            return Err(LlmError::bad_param(
                "tools",
                "bedrock needs `tools` when the conversation holds tool calls or tool results; \
                 pass the tool definitions with the request",
            ));
        }

        // Everything else the client sent that we do not model.
        for (key, value) in std::mem::take(&mut req.extra) {
            if value.is_null() || is_internal_param(&key) || STRUCTURAL_KEYS.contains(&key.as_str())
            {
                continue;
            }
            match key.as_str() {
                k if TOP_LEVEL_FIELDS.contains(&k) => {
                    body.insert(key, value);
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
        if !inference.is_empty() {
            body.insert("inferenceConfig".into(), Value::Object(inference));
        }
        if !additional.is_empty() {
            body.insert(
                "additionalModelRequestFields".into(),
                Value::Object(additional),
            );
        }
        merge_extra_body(&mut body, client_extra_body, EXTRA_BODY_KEPT_KEYS, &[]);
        Ok(body)
    }
}

/// `reasoning_effort` as an Anthropic `thinking` object (Claude on Bedrock).
pub(super) fn thinking_for_effort(effort: &str) -> Result<Option<Value>, LlmError> {
    let budget = match effort.trim() {
        "" | "none" | "disable" => return Ok(None),
        "minimal" | "low" => 1024,
        "medium" => 2048,
        "high" => 4096,
        other => {
            return Err(LlmError::bad_param(
                "reasoning_effort",
                format!(
                    "reasoning_effort {other:?} is not supported for bedrock; use none, minimal, \
                     low, medium or high"
                ),
            ));
        }
    };
    Ok(Some(json!({"type": "enabled", "budget_tokens": budget})))
}

/// A `data:<media>;base64,<data>` URL split into media type and data.
pub(super) fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media = meta.strip_suffix(";base64")?;
    Some((if media.is_empty() { "image/png" } else { media }, data))
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
pub(super) fn media_block(url: &str, param: &str, docs: &mut usize) -> Result<Value, LlmError> {
    let (kind, source) = if url.starts_with("data:") {
        let Some((media, data)) = parse_data_url(url) else {
            return Err(LlmError::bad_param(
                param,
                "an image data URL must look like data:<media type>;base64,<data>",
            ));
        };
        (media.to_string(), json!({"bytes": data}))
    } else if url.starts_with("s3://") {
        let ext = url
            .rsplit_once('.')
            .map(|(_, e)| e.to_string())
            .unwrap_or_default();
        (ext, json!({"s3Location": {"uri": url}}))
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
        return Ok(json!({"image": {"format": format, "source": source}}));
    }
    if let Some(format) = document_format(&kind) {
        *docs += 1;
        return Ok(json!({"document": {
            "format": format, "name": format!("Document {}", *docs), "source": source
        }}));
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
) -> Result<Vec<Value>, LlmError> {
    match content {
        Content::Text(text) => Ok(if text.is_empty() {
            Vec::new()
        } else {
            vec![json!({"text": text})]
        }),
        Content::Parts(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for part in parts {
                let (block, cache) = match part {
                    ContentPart::Known(KnownContentPart::Text(t)) => {
                        if t.text.is_empty() {
                            continue;
                        }
                        (json!({"text": t.text}), has_cache_control(&t.extra))
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
                        None if v.is_object() => (v, false),
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
                out.push(block);
                if cache {
                    out.push(cache_point());
                }
            }
            Ok(out)
        }
    }
}

/// The text of a system message as system blocks.
pub(super) fn system_blocks(content: Content, extra: &JsonMap) -> Vec<Value> {
    let mut blocks = Vec::new();
    match content {
        Content::Text(t) if t.is_empty() => {}
        Content::Text(t) => blocks.push(json!({"text": t})),
        Content::Parts(parts) => {
            for p in parts {
                match p {
                    ContentPart::Known(KnownContentPart::Text(t)) if !t.text.is_empty() => {
                        blocks.push(json!({"text": t.text}));
                        if has_cache_control(&t.extra) {
                            blocks.push(cache_point());
                        }
                    }
                    ContentPart::Other(v) => {
                        if let Some(t) = v.get("text").and_then(Value::as_str) {
                            if !t.is_empty() {
                                blocks.push(json!({"text": t}));
                                if v.get("cache_control").is_some_and(|c| !c.is_null()) {
                                    blocks.push(cache_point());
                                }
                            }
                        }
                    }
                    ContentPart::Known(_) => {}
                }
            }
        }
    }
    if has_cache_control(extra) && !blocks.is_empty() {
        blocks.push(cache_point());
    }
    blocks
}

/// Splits the OpenAI messages into Converse's `system` blocks and alternating messages, and
/// says whether any message holds a tool call or result (Converse then requires `toolConfig`).
pub(super) fn translate_messages(
    messages: Vec<Message>,
) -> Result<(Vec<Value>, Vec<Value>, bool), LlmError> {
    let mut system: Vec<Value> = Vec::new();
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
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
                let mut blocks = Vec::new();
                if let Some(Value::Array(thinking)) = m.extra.get("thinking_blocks") {
                    for t in thinking {
                        match t.get("type").and_then(Value::as_str) {
                            Some("thinking") => {
                                let mut rt = json!({"text": str_field(t, "thinking")});
                                if let Some(sig) = t.get("signature").and_then(Value::as_str) {
                                    rt["signature"] = json!(sig);
                                }
                                blocks.push(json!({"reasoningContent": {"reasoningText": rt}}));
                            }
                            Some("redacted_thinking") => blocks.push(json!({
                                "reasoningContent": {"redactedContent": str_field(t, "data")}
                            })),
                            _ => {}
                        }
                    }
                }
                match m.content {
                    Some(Content::Text(t)) if !t.is_empty() => {
                        blocks.push(json!({"text": t}));
                    }
                    Some(Content::Parts(parts)) => {
                        for part in parts {
                            match part {
                                ContentPart::Known(KnownContentPart::Text(t)) => {
                                    if !t.text.is_empty() {
                                        blocks.push(json!({"text": t.text}));
                                    }
                                }
                                ContentPart::Other(v) if v.get("type").is_none() => blocks.push(v),
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
                let calls = m
                    .tool_calls
                    .into_iter()
                    .flatten()
                    .map(|c| (c.id, c.function));
                let legacy = m
                    .function_call
                    .into_iter()
                    .map(|f| (format!("tooluse_{}", f.name), f));
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
                    has_tool_blocks = true;
                    blocks.push(json!({
                        "toolUse": {"toolUseId": id, "name": function.name, "input": input}
                    }));
                }
                ("assistant", blocks, cache)
            }
            Message::Tool(m) => {
                let cache = has_cache_control(&m.extra);
                let content = match m.content {
                    Content::Text(t) => vec![json!({"text": t})],
                    parts => content_blocks(parts, &param, &mut docs)?,
                };
                has_tool_blocks = true;
                (
                    "user",
                    vec![json!({
                        "toolResult": {"toolUseId": m.tool_call_id, "content": content}
                    })],
                    cache,
                )
            }
            Message::Function(m) => {
                has_tool_blocks = true;
                (
                    "user",
                    vec![json!({"toolResult": {
                        "toolUseId": format!("tooluse_{}", m.name),
                        "content": [{"text": m.content.unwrap_or_default()}]
                    }})],
                    false,
                )
            }
        };
        if blocks.is_empty() {
            continue;
        }
        if cache {
            blocks.push(cache_point());
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
    Ok((system, messages, has_tool_blocks))
}
