//! Ollama request translation: `/api/chat` messages or an `/api/generate` prompt, images, tools
//! and `options`.

use serde_json::{json, Value};

use litellm_core::{
    ChatRequest, Content, ContentPart, JsonMap, KnownContentPart, KnownResponseFormat, LlmError,
    Message, ResponseFormat, ToolChoice,
};

use super::wire::{CalledFunction, ChatMessage, ToolCall};
use super::{OllamaAdapter, OllamaMode};
use crate::adapter_common::{
    clear_unsupported, find_unsupported, forward_unmodelled, function_tools, put_sampling,
    serialize_body, unsupported_params, wire_value as to_value, Prepared, OPENAI_ONLY_FIELDS,
};
use crate::request_common::{parse_arguments, unknown_tool_choice, unsupported_response_format};
use crate::upstream::{truncate_chars, UpstreamRequest};

/// Typed OpenAI parameters Ollama has no equivalent for: a 400 unless dropped.
pub(super) const UNSUPPORTED_TYPED: &[&str] = &[
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "n",
    "parallel_tool_calls",
];

/// [`UNSUPPORTED_TYPED`] for `ollama/` (`/api/generate`, which has no tools).
pub(super) const UNSUPPORTED_TYPED_GENERATE: &[&str] = &[
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "n",
    "parallel_tool_calls",
    "tools",
    "functions",
];

/// OpenAI request fields Ollama has no equivalent for: a 400 unless dropped.
pub(super) const UNSUPPORTED_EXTRA: &[&str] = OPENAI_ONLY_FIELDS;

/// Body fields the adapter builds itself; client extras and deployment defaults never set them.
pub(super) const STRUCTURAL_KEYS: &[&str] = &[
    "model",
    "messages",
    "prompt",
    "images",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "input",
];

/// Ollama's model options (Modelfile `PARAMETER`s), sent in `options`.
pub(super) const OPTION_KEYS: &[&str] = &[
    "num_ctx",
    "num_keep",
    "num_batch",
    "num_gpu",
    "main_gpu",
    "num_thread",
    "num_gqa",
    "repeat_last_n",
    "repeat_penalty",
    "mirostat",
    "mirostat_eta",
    "mirostat_tau",
    "tfs_z",
    "typical_p",
    "min_p",
    "top_k",
    "penalize_newline",
    "use_mmap",
    "use_mlock",
    "numa",
    "low_vram",
    "vocab_only",
];

/// Ollama's own top-level request fields.
pub(super) const TOP_LEVEL_KEYS: &[&str] = &[
    "keep_alive",
    "think",
    "format",
    "raw",
    "suffix",
    "template",
    "system",
    "context",
];

impl OllamaAdapter {
    /// `POST {api_base}/api/chat` (or `/api/generate`) for `req`.
    pub fn build_chat_request(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        let headers = self.request_headers(extra_headers)?;
        let mut body = self.translate_request(req)?;
        body.insert("stream".into(), Value::Bool(stream));
        let path = match self.mode {
            OllamaMode::Generate => "api/generate",
            OllamaMode::Chat => "api/chat",
        };
        Ok(UpstreamRequest::post(
            format!("{}/{path}", self.deployment.api_base),
            headers,
            serialize_body(&Value::Object(body))?,
        ))
    }

    /// The `/api/chat` or `/api/generate` body for `req` (without `stream`).
    pub fn translate_request(&self, req: ChatRequest) -> Result<JsonMap, LlmError> {
        self.translate(req).map_err(|e| match e.provider {
            Some(_) => e,
            None => e.with_provider(self.provider()),
        })
    }

    pub(super) fn translate(&self, req: ChatRequest) -> Result<JsonMap, LlmError> {
        let provider = self.provider();
        let Prepared(mut req, extra_body, drop) = self.deployment.prepare(req, &[])?;
        self.check_unsupported(&mut req, drop)?;

        let mut body = JsonMap::new();
        body.insert("model".into(), Value::String(self.deployment.model.clone()));
        let messages = std::mem::take(&mut req.messages);
        match self.mode {
            OllamaMode::Chat => {
                body.insert("messages".into(), to_value(&chat_messages(messages)?)?);
            }
            OllamaMode::Generate => {
                let (prompt, images) = generate_prompt(messages)?;
                body.insert("prompt".into(), Value::String(prompt));
                if !images.is_empty() {
                    body.insert("images".into(), json!(images));
                }
            }
        }

        let mut options = JsonMap::new();
        if let Some(t) = req.temperature {
            options.insert("temperature".into(), json!(t));
        }
        if let Some(p) = req.top_p {
            options.insert("top_p".into(), json!(p));
        }
        put_sampling(&req, &mut options, "num_predict", "stop");
        for key in OPTION_KEYS {
            if let Some(v) = req.extra.remove(*key).filter(|v| !v.is_null()) {
                options.insert((*key).to_string(), v);
            }
        }
        match req.extra.remove("options") {
            None | Some(Value::Null) => {}
            Some(Value::Object(client)) => {
                for (k, v) in client {
                    options.entry(k).or_insert(v);
                }
            }
            Some(_) => {
                return Err(LlmError::bad_param(
                    "options",
                    "options must be a JSON object",
                ));
            }
        }
        if !options.is_empty() {
            body.insert("options".into(), Value::Object(options));
        }

        if let Some(format) = req.response_format.take() {
            match format {
                ResponseFormat::Known(KnownResponseFormat::Text) => {}
                ResponseFormat::Known(KnownResponseFormat::JsonObject) => {
                    body.insert("format".into(), json!("json"));
                }
                ResponseFormat::Known(KnownResponseFormat::JsonSchema { json_schema }) => {
                    body.insert(
                        "format".into(),
                        json_schema.schema.unwrap_or_else(|| json!("json")),
                    );
                }
                ResponseFormat::Other(v) => {
                    return Err(unsupported_response_format(&v, provider));
                }
            }
        }
        if let Some(effort) = req.reasoning_effort.take() {
            let think = match effort.trim() {
                "none" | "disable" => json!(false),
                level if self.deployment.model.starts_with("gpt-oss") => json!(level),
                _ => json!(true),
            };
            body.insert("think".into(), think);
        }

        let send_tools = match req.tool_choice.take() {
            None => true,
            Some(ToolChoice::Mode(m)) if m == "auto" => true,
            Some(ToolChoice::Mode(m)) if m == "none" => false,
            Some(_) if drop => true,
            Some(ToolChoice::Mode(m)) if m != "required" && m != "any" => {
                return Err(unknown_tool_choice(&m));
            }
            Some(_) => {
                let mut e = unsupported_params(provider, &["tool_choice"]);
                e.message = format!(
                    "{} (ollama cannot force a tool call; use tool_choice auto or none)",
                    e.message
                );
                return Err(e);
            }
        };
        let (tools, _) = function_tools(&mut req, provider)?;
        req.function_call = None;
        if !tools.is_empty() && send_tools {
            body.insert("tools".into(), to_value(&tools)?);
        }

        for key in TOP_LEVEL_KEYS {
            if let Some(v) = req.extra.remove(*key).filter(|v| !v.is_null()) {
                body.insert((*key).to_string(), v);
            }
        }
        forward_unmodelled(&mut body, req.extra, extra_body, STRUCTURAL_KEYS, true, &[]);
        Ok(body)
    }

    /// Refuses (or, with `drop`, removes) the OpenAI parameters Ollama cannot honour.
    pub(super) fn check_unsupported(
        &self,
        req: &mut ChatRequest,
        drop: bool,
    ) -> Result<(), LlmError> {
        let generate = self.mode == OllamaMode::Generate;
        let typed = if generate {
            UNSUPPORTED_TYPED_GENERATE
        } else {
            UNSUPPORTED_TYPED
        };
        if !drop {
            let found = find_unsupported(req, typed, UNSUPPORTED_EXTRA);
            if !found.is_empty() {
                let mut e = unsupported_params(self.provider(), &found);
                if generate && found.iter().any(|f| *f == "tools" || *f == "functions") {
                    e.message = format!(
                        "{} (ollama/ uses /api/generate, which has no tools: use ollama_chat/)",
                        e.message
                    );
                }
                return Err(e);
            }
        }
        clear_unsupported(req, typed, UNSUPPORTED_EXTRA);
        req.user = None;
        req.metadata = None;
        if generate {
            req.tool_choice = None;
        }
        Ok(())
    }
}

/// An image part as the base64 Ollama takes: a data URL's payload or bare base64.
pub(super) fn image_base64(url: &str, param: &str) -> Result<String, LlmError> {
    if let Some(rest) = url.strip_prefix("data:") {
        return match rest.split_once(";base64,") {
            Some((_, data)) if !data.is_empty() => Ok(data.to_string()),
            _ => Err(LlmError::bad_param(
                param,
                "a data URL must look like data:<media type>;base64,<data>",
            )),
        };
    }
    if url.contains("://") {
        return Err(LlmError::bad_param(
            param,
            format!(
                "ollama takes images as base64 data URLs; the URL {:?} is not fetched",
                truncate_chars(url, 60)
            ),
        ));
    }
    Ok(url.to_string())
}

/// The text (parts joined by newlines) and images of user content.
pub(super) fn text_and_images(
    content: Content,
    param: &str,
) -> Result<(String, Vec<String>), LlmError> {
    match content {
        Content::Text(t) => Ok((t, Vec::new())),
        Content::Parts(parts) => {
            let mut texts = Vec::new();
            let mut images = Vec::new();
            for part in parts {
                match part {
                    ContentPart::Known(KnownContentPart::Text(t)) => texts.push(t.text),
                    ContentPart::Known(KnownContentPart::ImageUrl(img)) => {
                        images.push(image_base64(&img.image_url.url, param)?);
                    }
                    ContentPart::Known(KnownContentPart::InputAudio(_)) => {
                        return Err(LlmError::bad_param(
                            param,
                            "ollama does not take audio input (input_audio parts)",
                        ));
                    }
                    ContentPart::Known(KnownContentPart::File(_)) => {
                        return Err(LlmError::bad_param(
                            param,
                            "ollama does not take file parts",
                        ));
                    }
                    ContentPart::Other(v) => {
                        let kind = v.get("type").and_then(Value::as_str).unwrap_or("?");
                        return Err(LlmError::bad_param(
                            param,
                            format!("ollama does not take {kind:?} content parts"),
                        ));
                    }
                }
            }
            Ok((texts.join("\n"), images))
        }
    }
}

/// The OpenAI messages as `/api/chat` messages.
pub(super) fn chat_messages(messages: Vec<Message>) -> Result<Vec<ChatMessage>, LlmError> {
    let mut out = Vec::with_capacity(messages.len());
    // Tool-call id -> function name, from the assistant messages seen so far.
    let mut call_names: Vec<(String, String)> = Vec::new();
    for (i, message) in messages.into_iter().enumerate() {
        let param = format!("messages[{i}]");
        match message {
            Message::System(m) | Message::Developer(m) => {
                out.push(ChatMessage::new("system", m.content.text()));
            }
            Message::User(m) => {
                let (text, images) = text_and_images(m.content, &param)?;
                out.push(ChatMessage {
                    images,
                    ..ChatMessage::new("user", text)
                });
            }
            Message::Assistant(m) => {
                let text = m.content.as_ref().map(Content::text).unwrap_or_default();
                let mut msg = ChatMessage::new("assistant", text);
                msg.thinking = m.reasoning_content.filter(|r| !r.is_empty());
                for c in m.tool_calls.into_iter().flatten() {
                    let arguments = parse_arguments(&c.function.arguments, &c.id, &param)?;
                    msg.tool_calls.push(ToolCall {
                        function: CalledFunction {
                            name: c.function.name.clone(),
                            arguments,
                        },
                    });
                    call_names.push((c.id, c.function.name));
                }
                if let Some(f) = m.function_call {
                    let arguments = parse_arguments(&f.arguments, &f.name, &param)?;
                    msg.tool_calls.push(ToolCall {
                        function: CalledFunction {
                            name: f.name,
                            arguments,
                        },
                    });
                }
                out.push(msg);
            }
            Message::Tool(m) => {
                let mut msg = ChatMessage::new("tool", m.content.text());
                msg.tool_name = call_names
                    .iter()
                    .rev()
                    .find(|(id, _)| *id == m.tool_call_id)
                    .map(|(_, name)| name.clone());
                out.push(msg);
            }
            Message::Function(m) => {
                out.push(ChatMessage {
                    tool_name: Some(m.name),
                    ..ChatMessage::new("tool", m.content.unwrap_or_default())
                });
            }
        }
    }
    Ok(out)
}

/// LiteLLM's `ollama_pt`: the messages as one prompt, and the images of the user turns.
pub(super) fn generate_prompt(messages: Vec<Message>) -> Result<(String, Vec<String>), LlmError> {
    enum Turn {
        User,
        System,
        Assistant,
    }
    let mut prompt = String::new();
    let mut images = Vec::new();
    let mut current: Option<(Turn, String)> = None;
    let flush = |prompt: &mut String, turn: Option<(Turn, String)>| {
        if let Some((turn, text)) = turn {
            if !text.is_empty() {
                let head = match turn {
                    Turn::User => "User",
                    Turn::System => "System",
                    Turn::Assistant => "Assistant",
                };
                prompt.push_str(&format!("### {head}:\n{text}\n\n"));
            }
        }
    };
    for (i, message) in messages.into_iter().enumerate() {
        let param = format!("messages[{i}]");
        let (turn, text) = match message {
            Message::User(m) => {
                let (text, imgs) = text_and_images(m.content, &param)?;
                images.extend(imgs);
                (Turn::User, text)
            }
            Message::Tool(m) => (Turn::User, m.content.text()),
            Message::Function(m) => (Turn::User, m.content.unwrap_or_default()),
            Message::System(m) | Message::Developer(m) => (Turn::System, m.content.text()),
            Message::Assistant(m) => {
                let mut text = m.content.as_ref().map(Content::text).unwrap_or_default();
                let mut calls = Vec::new();
                for c in m.tool_calls.into_iter().flatten() {
                    let args = parse_arguments(&c.function.arguments, &c.id, &param)?;
                    calls.push(json!({"id": c.id, "type": "function",
                        "function": {"name": c.function.name, "arguments": args}}));
                }
                if !calls.is_empty() {
                    let pretty = serde_json::to_string_pretty(&calls).map_err(|e| {
                        LlmError::internal(format!("could not serialize tool calls: {e}"))
                    })?;
                    text.push_str(&format!("Tool Calls: {pretty}"));
                }
                (Turn::Assistant, text)
            }
        };
        match &mut current {
            Some((t, acc)) if std::mem::discriminant(t) == std::mem::discriminant(&turn) => {
                acc.push_str(&text);
            }
            _ => {
                flush(&mut prompt, current.take());
                current = Some((turn, text));
            }
        }
    }
    flush(&mut prompt, current.take());
    Ok((prompt, images))
}
