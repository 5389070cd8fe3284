//! Response-reading helpers the native-format adapters (Anthropic, Bedrock, Gemini, Cohere,
//! Ollama) share: lenient typed fields, the assistant message and chat response they build,
//! token counts with prompt-cache reads and writes, and embeddings answers from float vectors.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use litellm_core::{
    unix_now, ChatResponse, Choice, Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage,
    EmbeddingVector, ErrorKind, FunctionCall, JsonMap, LlmError, PromptTokensDetails,
    ResponseMessage, ToolCall, Usage,
};

use crate::adapter_common::{arguments_string, new_call_id};
use crate::upstream::invalid_upstream_body;

/// A field read leniently: a value of the wrong type (or null) counts as missing, as reading it
/// from a `Value` with `as_str`/`as_u64` did.
pub(crate) fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

/// A field of a typed answer read as [`lenient`] reads it: `Loose(None)` when missing, null or
/// of another shape.
#[derive(Debug)]
pub(crate) struct Loose<T>(pub(crate) Option<T>);

impl<T> Default for Loose<T> {
    fn default() -> Self {
        Loose(None)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Loose<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient(d).map(Loose)
    }
}

/// A field that counts when present, even as null: `Some` of what it holds (the default when
/// it holds something else).
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    let value = Value::deserialize(d)?;
    Ok(Some(serde_json::from_value(value).unwrap_or_default()))
}

/// An answer read as `T`, whose fields are all read leniently (see [`lenient`]): an object
/// fills what it has, any other JSON reads as `T::default()`.
pub(crate) fn read_object<T: DeserializeOwned + Default>(value: &Value) -> T {
    match value {
        Value::Object(_) => T::deserialize(value).unwrap_or_default(),
        _ => T::default(),
    }
}

/// `v[key]` as a string (empty when missing or not a string).
pub(crate) fn str_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A fresh `chatcmpl-...` id, for upstreams that send none.
pub(crate) fn new_chat_id() -> String {
    format!("chatcmpl-{}", uuid::Uuid::new_v4().simple())
}

/// `chatcmpl-{id}` of the upstream's response id (a string), else a new id.
pub(crate) fn upstream_chat_id(id: Option<&Value>) -> String {
    id.and_then(Value::as_str)
        .map(|id| format!("chatcmpl-{id}"))
        .unwrap_or_else(new_chat_id)
}

/// A function tool call.
pub(crate) fn tool_call(id: String, name: String, arguments: String) -> ToolCall {
    ToolCall {
        id,
        kind: "function".into(),
        function: FunctionCall { name, arguments },
    }
}

/// A tool call given in OpenAI's shape (`{id, function: {name, arguments}}`, as Cohere and Ollama
/// answer): a missing id is made up, a missing name is empty, arguments become a JSON string.
pub(crate) fn openai_tool_call(c: &Value) -> ToolCall {
    tool_call(
        c.get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(new_call_id),
        c.pointer("/function/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        arguments_string(c.pointer("/function/arguments")),
    )
}

/// An assistant message; no tool calls and empty reasoning are left out.
pub(crate) fn assistant_message(
    content: Option<String>,
    tool_calls: Vec<ToolCall>,
    reasoning: Option<String>,
    extra: JsonMap,
) -> ResponseMessage {
    ResponseMessage {
        role: "assistant".into(),
        content,
        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
        function_call: None,
        refusal: None,
        reasoning_content: reasoning.filter(|r| !r.is_empty()),
        extra,
    }
}

/// A choice of a chat response.
pub(crate) fn choice(
    index: u32,
    message: ResponseMessage,
    finish_reason: Option<String>,
) -> Choice {
    Choice {
        index,
        message,
        finish_reason,
        logprobs: None,
        extra: JsonMap::new(),
    }
}

/// A `chat.completion` created now.
pub(crate) fn chat_response(
    id: String,
    model: String,
    choices: Vec<Choice>,
    usage: Option<Usage>,
    extra: JsonMap,
) -> ChatResponse {
    ChatResponse {
        id,
        object: "chat.completion".into(),
        created: unix_now(),
        model,
        choices,
        usage,
        system_fingerprint: None,
        service_tier: None,
        extra,
    }
}

/// A `usage` object as Anthropic (`input_tokens`, ...) or Bedrock (`inputTokens`, ...) reports
/// it, each count `None` when missing.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CacheCounts {
    #[serde(rename = "input_tokens", alias = "inputTokens")]
    #[serde(deserialize_with = "lenient")]
    pub(crate) input: Option<u64>,
    #[serde(rename = "output_tokens", alias = "outputTokens")]
    #[serde(deserialize_with = "lenient")]
    pub(crate) output: Option<u64>,
    #[serde(rename = "cache_read_input_tokens", alias = "cacheReadInputTokens")]
    #[serde(deserialize_with = "lenient")]
    pub(crate) cache_read: Option<u64>,
    #[serde(
        rename = "cache_creation_input_tokens",
        alias = "cacheWriteInputTokens"
    )]
    #[serde(deserialize_with = "lenient")]
    pub(crate) cache_write: Option<u64>,
}

impl CacheCounts {
    /// The counts of a `usage` object (none when it is not one).
    pub(crate) fn of(u: &Value) -> CacheCounts {
        CacheCounts::deserialize(u).unwrap_or_default()
    }
}

/// Token counts with prompt-cache reads and writes (Anthropic, Bedrock), as reported so far (a
/// stream may report them in several events).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CacheUsage {
    pub(crate) input: u64,
    pub(crate) output: u64,
    pub(crate) cache_read: u64,
    pub(crate) cache_write: u64,
}

impl CacheUsage {
    /// The usage of a reply's `usage` object.
    pub(crate) fn of(counts: CacheCounts) -> Usage {
        let mut raw = CacheUsage::default();
        raw.merge(counts);
        raw.to_usage()
    }

    /// Takes every count present.
    pub(crate) fn merge(&mut self, counts: CacheCounts) {
        let CacheCounts {
            input,
            output,
            cache_read,
            cache_write,
        } = counts;
        self.input = input.unwrap_or(self.input);
        self.output = output.unwrap_or(self.output);
        self.cache_read = cache_read.unwrap_or(self.cache_read);
        self.cache_write = cache_write.unwrap_or(self.cache_write);
    }

    /// Our usage: cached and cache-written tokens count as prompt tokens (as LiteLLM does).
    pub(crate) fn to_usage(self) -> Usage {
        let prompt = self
            .input
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write);
        let mut usage = Usage::new(prompt, self.output);
        usage.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: Some(self.cache_read),
            cache_creation_tokens: Some(self.cache_write),
            audio_tokens: None,
            extra: JsonMap::new(),
        });
        usage.extra.insert(
            "cache_creation_input_tokens".into(),
            Value::from(self.cache_write),
        );
        usage.extra.insert(
            "cache_read_input_tokens".into(),
            Value::from(self.cache_read),
        );
        usage
    }
}

/// What a one-message reply (Anthropic, Bedrock) says, gathered block by block.
#[derive(Debug, Default)]
pub(crate) struct Reply {
    pub(crate) text: String,
    pub(crate) reasoning: String,
    pub(crate) thinking_blocks: Vec<Value>,
    pub(crate) tool_calls: Vec<ToolCall>,
}

impl Reply {
    /// The reply as choice 0. In JSON mode a lone tool call (named `json_tool`, when given)
    /// becomes the content, finishing with `stop`. Thinking blocks go to the message's
    /// `thinking_blocks`, followed by `extra`.
    pub(crate) fn into_choice(
        self,
        mut finish_reason: Option<String>,
        json_mode: bool,
        json_tool: Option<&str>,
        extra: JsonMap,
    ) -> Choice {
        let Reply {
            text,
            reasoning,
            thinking_blocks,
            mut tool_calls,
        } = self;
        let mut content = (!text.is_empty()).then_some(text);
        if json_mode
            && tool_calls.len() == 1
            && json_tool.is_none_or(|name| tool_calls[0].function.name == name)
        {
            content = tool_calls.pop().map(|t| t.function.arguments);
            finish_reason = Some("stop".into());
        }
        let mut message_extra = JsonMap::new();
        if !thinking_blocks.is_empty() {
            message_extra.insert("thinking_blocks".into(), Value::Array(thinking_blocks));
        }
        message_extra.extend(extra);
        let message = assistant_message(content, tool_calls, Some(reasoning), message_extra);
        choice(0, message, finish_reason)
    }
}

/// An embeddings answer in OpenAI's shape from one float vector per input, as the upstream sent
/// them (`base64` when the request asked): a count other than the inputs' is a 500, a vector
/// that is not a list of numbers an invalid body.
pub(crate) fn float_embeddings(
    provider: &str,
    vectors: Vec<&Value>,
    req: &EmbeddingRequest,
    model: &str,
    prompt_tokens: u64,
    body: &[u8],
) -> Result<EmbeddingResponse, LlmError> {
    let wanted = req.input.len();
    if vectors.len() != wanted {
        return Err(LlmError::upstream(
            ErrorKind::InternalServer,
            format!(
                "{provider} returned {} embeddings for {wanted} inputs",
                vectors.len()
            ),
        )
        .with_provider(provider));
    }
    let mut data = Vec::with_capacity(vectors.len());
    for (i, v) in vectors.into_iter().enumerate() {
        let floats: Vec<f32> = serde_json::from_value(v.clone())
            .map_err(|e| invalid_upstream_body(provider, "embedding", &e, body))?;
        let mut embedding = EmbeddingVector::Float(floats);
        if req.wants_base64() {
            embedding = embedding.into_base64();
        }
        data.push(Embedding {
            object: "embedding".into(),
            index: i as u32,
            embedding,
        });
    }
    Ok(embedding_list(data, model, prompt_tokens))
}

/// An embeddings answer of `data`, counting `prompt_tokens` (its total too).
pub(crate) fn embedding_list(
    data: Vec<Embedding>,
    model: &str,
    prompt_tokens: u64,
) -> EmbeddingResponse {
    EmbeddingResponse {
        object: "list".into(),
        data,
        model: model.to_string(),
        usage: Some(EmbeddingUsage {
            prompt_tokens,
            total_tokens: prompt_tokens,
        }),
        extra: JsonMap::new(),
    }
}

/// The input tokens of an embeddings request, estimated (a token per four characters of each
/// text), for upstreams that do not count them.
pub(crate) fn estimated_input_tokens(req: &EmbeddingRequest) -> u64 {
    req.input
        .texts()
        .iter()
        .map(|t| (t.chars().count() as u64).div_ceil(4))
        .sum()
}
