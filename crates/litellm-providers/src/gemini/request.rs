//! Gemini `generateContent` request translation: contents, parts, system instruction, tools
//! (schemas cleaned), tool config, generation and thinking config.

use secrecy::SecretString;
use serde_json::{json, Value};

use litellm_core::{
    ChatRequest, Content, ContentPart, JsonMap, KnownContentPart, KnownResponseFormat, LlmError,
    Message, ResponseFormat, ToolChoice,
};

use super::wire::{
    FileData, FunctionCall, FunctionCallingConfig, FunctionDeclaration, FunctionResponse,
    GenerateContentRequest, GenerationConfig, InlineData, Part, SystemInstruction, ThinkingConfig,
    Tool, ToolConfig, Turn,
};
use super::GeminiAdapter;
use crate::adapter_common::{
    forward_unmodelled, refuse_or_drop, serialize_body, stop_sequences, wire_map, Prepared,
};
use crate::request_common::{assistant_calls, missing_function, unknown_tool_choice};
use crate::request_common::{parse_data_url, push_turn, thinking_budget};
use crate::upstream::{truncate_chars, UpstreamRequest};

/// OpenAI request fields Gemini has no equivalent for: a 400 unless dropped.
pub(super) const UNSUPPORTED_EXTRA: &[&str] = &[
    "audio",
    "prediction",
    "web_search_options",
    "verbosity",
    "prompt_cache_key",
    "safety_identifier",
];

/// Body fields the adapter builds itself; client extras and deployment defaults never set them.
pub(super) const STRUCTURAL_KEYS: &[&str] = &[
    "model",
    "messages",
    "stream",
    "stream_options",
    "contents",
    "systemInstruction",
    "generationConfig",
    "tools",
    "toolConfig",
    "tool_choice",
];

/// Client fields with a Gemini name of their own at the top level of the body.
pub(super) const TOP_LEVEL_RENAMES: &[(&str, &str)] = &[
    ("safety_settings", "safetySettings"),
    ("cached_content", "cachedContent"),
];

/// Client fields that belong in `generationConfig`, with their Gemini names.
pub(super) const GENERATION_CONFIG_RENAMES: &[(&str, &str)] = &[
    ("top_k", "topK"),
    ("topK", "topK"),
    ("response_modalities", "responseModalities"),
    ("responseModalities", "responseModalities"),
    ("media_resolution", "mediaResolution"),
];

impl GeminiAdapter {
    /// `POST {model_url}:generateContent` (or `:streamGenerateContent?alt=sse`) for `req`, with
    /// per-call headers and, for Vertex, the OAuth2 access token.
    pub fn build_chat_request(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
        bearer: Option<&SecretString>,
    ) -> Result<UpstreamRequest, LlmError> {
        let headers = self.request_headers(extra_headers, bearer)?;
        let body = serialize_body(&Value::Object(self.translate_request(req)?))?;
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        Ok(UpstreamRequest::post(self.url(method), headers, body))
    }

    /// The `GenerateContentRequest` body for `req`.
    pub fn translate_request(&self, req: ChatRequest) -> Result<JsonMap, LlmError> {
        let Prepared(mut req, extra_body, drop) = self.deployment.prepare(req, &[])?;
        self.check_unsupported(&mut req, drop)?;

        let (system, contents) = translate_messages(std::mem::take(&mut req.messages))?;

        let mut config = GenerationConfig {
            temperature: req.temperature,
            top_p: req.top_p,
            max_output_tokens: req.max_output_tokens(),
            stop_sequences: stop_sequences(&req),
            candidate_count: req.n,
            presence_penalty: req.presence_penalty,
            frequency_penalty: req.frequency_penalty,
            seed: req.seed,
            response_logprobs: req.logprobs,
            logprobs: req.top_logprobs,
            ..Default::default()
        };
        if let Some(format) = req.response_format.take() {
            match format {
                ResponseFormat::Known(KnownResponseFormat::Text) => {}
                ResponseFormat::Known(KnownResponseFormat::JsonObject) => {
                    config.response_mime_type = Some("application/json");
                }
                ResponseFormat::Known(KnownResponseFormat::JsonSchema { json_schema }) => {
                    config.response_mime_type = Some("application/json");
                    if let Some(mut schema) = json_schema.schema {
                        clean_schema(&mut schema);
                        config.response_schema = Some(schema);
                    }
                }
                ResponseFormat::Other(v) => {
                    let kind = v.get("type").and_then(Value::as_str).unwrap_or("?");
                    return Err(LlmError::bad_param(
                        "response_format",
                        format!("response_format type {kind:?} is not supported for gemini"),
                    )
                    .with_provider(self.provider));
                }
            }
        }
        config.thinking_config = thinking_config(req.reasoning_effort.as_deref(), self.provider)?;
        let mut generation_config = wire_map(&config)?;
        for (from, to) in GENERATION_CONFIG_RENAMES {
            if let Some(v) = req.extra.remove(*from) {
                if !v.is_null() {
                    generation_config.insert((*to).to_string(), v);
                }
            }
        }
        if let Some(Value::Object(client_config)) = req.extra.remove("generationConfig") {
            for (k, v) in client_config {
                generation_config.entry(k).or_insert(v);
            }
        }

        // Tools and tool choice.
        let mut declarations: Vec<FunctionDeclaration> = Vec::new();
        let mut other_tools: Vec<Tool> = Vec::new();
        for tool in req.tools.take().into_iter().flatten() {
            if tool.kind == "function" {
                let Some(f) = tool.function else {
                    return Err(missing_function());
                };
                declarations.push(function_declaration(f.name, f.description, f.parameters));
            } else {
                let mut map = tool.extra;
                if tool.kind.is_empty() || map.is_empty() {
                    map.insert(tool.kind.clone(), json!({}));
                }
                other_tools.push(Tool::Raw(Value::Object(map)));
            }
        }
        for f in req.functions.take().into_iter().flatten() {
            declarations.push(function_declaration(f.name, f.description, f.parameters));
        }
        let mut tools = Vec::new();
        if !declarations.is_empty() {
            tools.push(Tool::FunctionDeclarations(declarations));
        }
        tools.extend(other_tools);
        let choice = match req.tool_choice.take() {
            Some(c) => Some(c),
            None => match req.function_call.take() {
                Some(Value::String(mode)) => Some(ToolChoice::Mode(mode)),
                Some(Value::Object(o)) => o.get("name").and_then(Value::as_str).map(|name| {
                    ToolChoice::Named(litellm_core::NamedToolChoice {
                        kind: "function".into(),
                        function: litellm_core::FunctionName {
                            name: name.to_string(),
                        },
                    })
                }),
                _ => None,
            },
        };
        let wire = GenerateContentRequest {
            contents,
            system_instruction: (!system.is_empty()).then_some(SystemInstruction { parts: system }),
            generation_config,
            tools,
            tool_config: choice.map(tool_config).transpose()?,
        };
        let mut body = wire_map(&wire)?;

        // Everything else the client sent that we do not model is forwarded.
        for (from, to) in TOP_LEVEL_RENAMES {
            if let Some(v) = req.extra.remove(*from) {
                if !v.is_null() {
                    body.insert((*to).to_string(), v);
                }
            }
        }
        forward_unmodelled(
            &mut body,
            req.extra,
            extra_body,
            STRUCTURAL_KEYS,
            false,
            &["generationConfig"],
        );
        Ok(body)
    }

    /// Refuses (or, with `drop`, removes) the OpenAI parameters Gemini cannot honour.
    pub(super) fn check_unsupported(
        &self,
        req: &mut ChatRequest,
        drop: bool,
    ) -> Result<(), LlmError> {
        refuse_or_drop(
            self.provider,
            req,
            &["logit_bias", "parallel_tool_calls"],
            UNSUPPORTED_EXTRA,
            drop,
        )?;
        req.user = None;
        req.metadata = None;
        Ok(())
    }
}

/// `reasoning_effort` as a `thinkingConfig` (LiteLLM's budgets).
pub(super) fn thinking_config(
    effort: Option<&str>,
    provider: &str,
) -> Result<Option<ThinkingConfig>, LlmError> {
    let budget = match effort.map(str::trim) {
        None | Some("") => return Ok(None),
        Some("none") | Some("disable") => {
            return Ok(Some(ThinkingConfig {
                thinking_budget: 0,
                include_thoughts: None,
            }))
        }
        Some("minimal") => 128,
        Some(other) => match thinking_budget(other, provider)? {
            Some(budget) => budget,
            None => return Ok(None),
        },
    };
    Ok(Some(ThinkingConfig {
        thinking_budget: budget,
        include_thoughts: Some(true),
    }))
}

/// Removes the JSON-Schema keywords Gemini's OpenAPI schema subset refuses, recursively.
pub fn clean_schema(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            for key in ["$schema", "additionalProperties", "strict", "$id"] {
                map.shift_remove(key);
            }
            for (_, v) in map.iter_mut() {
                clean_schema(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(clean_schema),
        _ => {}
    }
}

pub(super) fn function_declaration(
    name: String,
    description: Option<String>,
    parameters: Option<Value>,
) -> FunctionDeclaration {
    let parameters = parameters.and_then(|mut params| {
        clean_schema(&mut params);
        let empty_object = params.get("type").and_then(Value::as_str) == Some("object")
            && params
                .get("properties")
                .and_then(Value::as_object)
                .is_none_or(|p| p.is_empty());
        (!empty_object && !params.is_null()).then_some(params)
    });
    FunctionDeclaration {
        name,
        description: description.filter(|d| !d.is_empty()),
        parameters,
    }
}

pub(super) fn tool_config(choice: ToolChoice) -> Result<ToolConfig, LlmError> {
    let mode = |mode| FunctionCallingConfig::Mode {
        mode,
        allowed_function_names: Vec::new(),
    };
    let config = match choice {
        ToolChoice::Mode(m) => match m.as_str() {
            "auto" => mode("AUTO"),
            "required" | "any" => mode("ANY"),
            "none" => mode("NONE"),
            other => {
                return Err(unknown_tool_choice(other));
            }
        },
        ToolChoice::Named(named) => FunctionCallingConfig::Mode {
            mode: "ANY",
            allowed_function_names: vec![named.function.name],
        },
        ToolChoice::Other(v) => match v.get("functionCallingConfig") {
            Some(config) => FunctionCallingConfig::Raw(config.clone()),
            None => {
                return Err(LlmError::bad_param(
                    "tool_choice",
                    "tool_choice must be none, auto, required or {\"type\": \"function\", \
                     \"function\": {\"name\": ...}}",
                ))
            }
        },
    };
    Ok(ToolConfig {
        function_calling_config: config,
    })
}

/// The MIME type of a file URL by its extension.
pub(super) fn mime_from_url(url: &str) -> Option<&'static str> {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    let ext = path.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "pdf" => "application/pdf",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "mov" => "video/mov",
        "txt" => "text/plain",
        _ => return None,
    })
}

/// A `fileData` part.
fn file_part(mime_type: &str, file_uri: &str) -> Part {
    Part::FileData(FileData {
        mime_type: mime_type.to_string(),
        file_uri: file_uri.to_string(),
    })
}

pub(super) fn media_part(url: &str, format: Option<&str>, param: &str) -> Result<Part, LlmError> {
    if url.starts_with("data:") {
        let Some((media, data)) = parse_data_url(url) else {
            return Err(LlmError::bad_param(
                param,
                "a data URL must look like data:<media type>;base64,<data>",
            ));
        };
        return Ok(Part::InlineData(InlineData {
            mime_type: format.unwrap_or(media).to_string(),
            data: data.to_string(),
        }));
    }
    if url.contains("://") {
        let mime = format
            .or_else(|| mime_from_url(url))
            .unwrap_or("image/jpeg");
        return Ok(file_part(mime, url));
    }
    Err(LlmError::bad_param(
        param,
        format!(
            "unsupported image URL {:?}: use an http(s) or gs:// URL or a base64 data URL",
            truncate_chars(url, 60)
        ),
    ))
}

/// User-side content as Gemini parts.
pub(super) fn content_parts(content: Content, param: &str) -> Result<Vec<Part>, LlmError> {
    let parts = match content {
        Content::Text(text) => return Ok(text_parts(Content::Text(text))),
        Content::Parts(parts) => parts,
    };
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        match part {
            ContentPart::Known(KnownContentPart::Text(t)) => {
                if !t.text.is_empty() {
                    out.push(Part::Text(t.text));
                }
            }
            ContentPart::Known(KnownContentPart::ImageUrl(img)) => {
                let format = img.image_url.extra.get("format").and_then(Value::as_str);
                out.push(media_part(&img.image_url.url, format, param)?);
            }
            ContentPart::Known(KnownContentPart::File(f)) => {
                let format = f.file.extra.get("format").and_then(Value::as_str);
                if let Some(data) = &f.file.file_data {
                    out.push(media_part(data, format, param)?);
                } else if let Some(id) = &f.file.file_id {
                    let mime = format
                        .or_else(|| mime_from_url(id))
                        .unwrap_or("application/pdf");
                    out.push(file_part(mime, id));
                } else {
                    return Err(LlmError::bad_param(
                        param,
                        "a file part needs file_data or file_id",
                    ));
                }
            }
            ContentPart::Known(KnownContentPart::InputAudio(a)) => {
                out.push(Part::InlineData(InlineData {
                    mime_type: format!("audio/{}", a.input_audio.format),
                    data: a.input_audio.data,
                }));
            }
            // A part already in Gemini's shape (or one we do not know): forwarded.
            ContentPart::Other(v) => out.push(Part::Raw(v)),
        }
    }
    Ok(out)
}

pub(super) fn text_parts(content: Content) -> Vec<Part> {
    let text = content.text();
    if text.is_empty() {
        Vec::new()
    } else {
        vec![Part::Text(text)]
    }
}

/// Splits the OpenAI messages into `systemInstruction` parts and `contents`.
pub(super) fn translate_messages(
    messages: Vec<Message>,
) -> Result<(Vec<Part>, Vec<Turn>), LlmError> {
    let mut system: Vec<Part> = Vec::new();
    let mut out: Vec<(&'static str, Vec<Part>)> = Vec::new();
    // Tool-call id -> function name, from the assistant messages seen so far.
    let mut call_names: Vec<(String, String)> = Vec::new();
    for (i, message) in messages.into_iter().enumerate() {
        let param = format!("messages[{i}]");
        let (role, parts) = match message {
            Message::System(m) | Message::Developer(m) => {
                system.extend(text_parts(m.content));
                continue;
            }
            Message::User(m) => ("user", content_parts(m.content, &param)?),
            Message::Assistant(m) => {
                let mut parts = match m.content {
                    Some(Content::Text(t)) if !t.is_empty() => vec![Part::Text(t)],
                    Some(c @ Content::Parts(_)) => text_parts(c),
                    _ => Vec::new(),
                };
                for (id, name, args) in assistant_calls(m.tool_calls, m.function_call, "", &param)?
                {
                    parts.push(Part::FunctionCall(FunctionCall {
                        name: name.clone(),
                        args,
                    }));
                    call_names.push((id, name));
                }
                ("model", parts)
            }
            Message::Tool(m) => {
                let Some(name) = call_names
                    .iter()
                    .rev()
                    .find(|(id, _)| *id == m.tool_call_id)
                    .map(|(_, name)| name.clone())
                else {
                    return Err(LlmError::bad_param(
                        param,
                        format!(
                            "tool message for tool_call_id {:?} has no matching tool call in an \
                             earlier assistant message (gemini needs the function name)",
                            m.tool_call_id
                        ),
                    ));
                };
                let text = m.content.text();
                ("user", vec![function_response(&name, &text)])
            }
            Message::Function(m) => {
                let text = m.content.unwrap_or_default();
                ("user", vec![function_response(&m.name, &text)])
            }
        };
        push_turn(&mut out, role, parts);
    }
    if out.is_empty() && !system.is_empty() {
        // Gemini needs at least one content: a system-only prompt is sent as the user turn.
        out.push(("user", std::mem::take(&mut system)));
    }
    let contents = out
        .into_iter()
        .map(|(role, parts)| Turn { role, parts })
        .collect();
    Ok((system, contents))
}

pub(super) fn function_response(name: &str, text: &str) -> Part {
    let response = match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({ "content": text }),
    };
    Part::FunctionResponse(FunctionResponse {
        name: name.to_string(),
        response,
    })
}
