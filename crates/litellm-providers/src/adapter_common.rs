//! Sans-IO request-building pieces shared by the native provider adapters (Anthropic, Gemini /
//! Vertex AI, Bedrock, Cohere, Ollama): deployment construction (key and base resolution,
//! headers, `litellm_params` defaults and `additional_drop_params`), the common preamble of a
//! translation (defaults, the client's `extra_body`, `drop_params`), refusing or dropping
//! unsupported OpenAI parameters, and forwarding the fields we do not model. Per-provider data
//! (which keys are structural, which parameters are unsupported, renames) stays in the provider
//! modules and is passed in.

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use litellm_core::{ChatRequest, ErrorKind, JsonMap, LlmError};

use crate::params::ProviderParams;
use crate::upstream::insert_header;

/// A deployment's environment, as a lookup function (`None`: unset).
pub(crate) type Env<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// An adapter's public constructors over [`ProviderParams`], written inside its `impl`: `new`
/// reads the process environment, `with_env` takes the environment as a lookup function; both
/// build through the adapter's `from_env(params, model, env)`. The doc comment given is `new`'s.
macro_rules! env_constructors {
    ($(#[$doc:meta])*) => {
        $(#[$doc])*
        pub fn new(
            params: &$crate::params::ProviderParams,
            model: &str,
        ) -> Result<Self, litellm_core::LlmError> {
            Self::from_env(params, model, &|name| std::env::var(name).ok())
        }

        /// As [`Self::new`], with the environment given as a lookup function (tests pass an
        /// empty one so the host's variables cannot change results).
        pub fn with_env(
            params: &$crate::params::ProviderParams,
            model: &str,
            env: impl Fn(&str) -> Option<String>,
        ) -> Result<Self, litellm_core::LlmError> {
            Self::from_env(params, model, &env)
        }
    };
}
pub(crate) use env_constructors;

/// `s` unless it is missing or blank.
pub(crate) fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

/// The deployment's `api_base`, else the first non-blank variable of `env_vars`, else `default`;
/// trimmed, without a trailing `/`.
pub(crate) fn resolve_api_base(
    params: &ProviderParams,
    env: &impl Fn(&str) -> Option<String>,
    env_vars: &[&str],
    default: &str,
) -> String {
    let api_base = env_vars
        .iter()
        .fold(non_empty(params.api_base.clone()), |found, var| {
            found.or_else(|| non_empty(env(var)))
        })
        .unwrap_or_else(|| default.to_string());
    api_base.trim().trim_end_matches('/').to_string()
}

/// `base` without the first of `suffixes` it ends with.
pub(crate) fn strip_first_suffix(base: String, suffixes: &[&str]) -> String {
    suffixes
        .iter()
        .find_map(|suffix| base.strip_suffix(suffix).map(str::to_string))
        .unwrap_or(base)
}

/// The deployment's `api_key`, else the first non-blank variable of `env_vars`.
pub(crate) fn resolve_api_key(
    params: &ProviderParams,
    env: &impl Fn(&str) -> Option<String>,
    env_vars: &[&str],
) -> Option<SecretString> {
    env_vars.iter().fold(
        params
            .api_key
            .clone()
            .filter(|k| !k.expose_secret().trim().is_empty()),
        |found, var| found.or_else(|| non_empty(env(var)).map(SecretString::from)),
    )
}

/// How a deployment's key is sent.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeyHeader {
    /// `authorization: Bearer <key>`.
    Bearer,
    /// The key as the value of the named header (`x-api-key`, `x-goog-api-key`).
    Named(&'static str),
}

/// A deployment's fixed headers: `content-type: application/json`, then `fixed`, then the key
/// (marked sensitive), then the deployment's `extra_headers` (which may override any of them).
pub(crate) fn deployment_headers(
    params: &ProviderParams,
    fixed: &[(&'static str, &'static str)],
    key: Option<(&SecretString, KeyHeader)>,
) -> Result<HeaderMap, LlmError> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in fixed {
        headers.insert(*name, HeaderValue::from_static(value));
    }
    if let Some((key, style)) = key {
        let key = key.expose_secret().trim();
        let (name, value) = match style {
            KeyHeader::Bearer => ("authorization", format!("Bearer {key}")),
            KeyHeader::Named(name) => (name, key.to_string()),
        };
        insert_header(&mut headers, name, &value, "api_key")?;
        if let Some(v) = headers.get_mut(name) {
            v.set_sensitive(true);
        }
    }
    add_extra_headers(&mut headers, params.extra_headers.iter().flatten())?;
    Ok(headers)
}

/// Inserts (replacing) `extra_headers`, marking credentials sensitive.
pub(crate) fn add_extra_headers<'a>(
    headers: &mut HeaderMap,
    extra_headers: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<(), LlmError> {
    for (name, value) in extra_headers {
        insert_header(headers, name, value, "extra_headers")?;
    }
    Ok(())
}

/// A copy of a deployment's headers with the call's `extra_headers` added.
pub(crate) fn with_call_headers(
    headers: &HeaderMap,
    extra_headers: &[(String, String)],
) -> Result<HeaderMap, LlmError> {
    let mut headers = headers.clone();
    add_extra_headers(&mut headers, extra_headers.iter().map(|(n, v)| (n, v)))?;
    Ok(headers)
}

/// Deployment parameters merged into every request (`litellm_params` extras, then `extra_body`
/// where the extras did not set a key) and the `additional_drop_params` list. Internal keys and
/// `structural` keys (unless listed in `allowed`) are never defaults.
pub(crate) fn deployment_defaults(
    params: &ProviderParams,
    structural: &[&str],
    allowed: &[&str],
) -> Result<(JsonMap, Vec<String>), LlmError> {
    let defaults = extra_defaults(params, |key| {
        !structural.contains(&key) || allowed.contains(&key)
    })?;
    let drop = match params.extra.get("additional_drop_params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(_) => {
            return Err(LlmError::bad_param(
                "additional_drop_params",
                "litellm_params.additional_drop_params must be a list of parameter names",
            ));
        }
    };
    Ok((defaults, drop))
}

/// The `litellm_params` extras that `keep` accepts (never `extra_body` nor an internal key), then
/// every key of `extra_body` the extras did not set.
pub(crate) fn extra_defaults(
    params: &ProviderParams,
    keep: impl Fn(&str) -> bool,
) -> Result<JsonMap, LlmError> {
    let mut defaults = JsonMap::new();
    for (key, value) in &params.extra {
        if key != "extra_body" && !is_internal_param(key) && keep(key) {
            defaults.insert(key.clone(), value.clone());
        }
    }
    if let Some(extra_body) = params.extra.get("extra_body") {
        let Value::Object(map) = extra_body else {
            return Err(LlmError::bad_param(
                "extra_body",
                "litellm_params.extra_body must be a JSON object",
            ));
        };
        for (key, value) in map {
            defaults.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    Ok(defaults)
}

/// Fills in deployment parameters the client did not set; a default named by the first of a
/// `renames` pair is filled in under the second (the request's name for it).
pub(crate) fn apply_defaults(
    req: ChatRequest,
    defaults: &JsonMap,
    renames: &[(&str, &str)],
) -> Result<ChatRequest, LlmError> {
    if defaults.is_empty() {
        return Ok(req);
    }
    let Value::Object(mut map) = serde_json::to_value(&req)
        .map_err(|e| LlmError::internal(format!("could not serialize the chat request: {e}")))?
    else {
        return Ok(req);
    };
    let mut added = Vec::new();
    for (key, value) in defaults {
        let key = renames
            .iter()
            .find(|(from, _)| from == key)
            .map_or(key.as_str(), |(_, to)| to);
        if !map.contains_key(key) {
            map.insert(key.to_string(), value.clone());
            added.push(key.to_string());
        }
    }
    serde_json::from_value(Value::Object(map)).map_err(|e| {
        LlmError::bad_param(
            "litellm_params",
            format!(
                "a deployment parameter ({}) has the wrong type: {e}",
                added.join(", ")
            ),
        )
    })
}

/// Removes a client `extra_body` from the unknown fields, checking it is an object.
pub(crate) fn take_extra_body(extra: &mut JsonMap) -> Result<Option<JsonMap>, LlmError> {
    match extra.remove("extra_body") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(LlmError::bad_param(
            "extra_body",
            "extra_body must be a JSON object",
        )),
    }
}

/// A request after the common preamble of a translation: the request with the deployment
/// defaults filled in and `additional_drop_params` removed; the client's `extra_body` (merged into
/// the body last); whether unsupported parameters are dropped rather than refused.
pub(crate) struct Prepared(pub ChatRequest, pub Option<JsonMap>, pub bool);

impl Prepared {
    /// The request with the OpenAI parameters `provider` cannot honour refused, or dropped
    /// under `drop_params` (see [`refuse_or_drop`]).
    pub(crate) fn refusing(
        mut self,
        provider: &str,
        typed: &[&str],
        extra: &[&str],
    ) -> Result<Self, LlmError> {
        refuse_or_drop(provider, &mut self.0, typed, extra, self.2)?;
        Ok(self)
    }
}

/// The start of every translation: deployment defaults (see [`apply_defaults`]), the client's
/// `extra_body` taken out, `drop_params` (deployment or request) read, and the deployment's
/// `additional_drop_params` removed.
pub(crate) fn prepare(
    req: ChatRequest,
    defaults: &JsonMap,
    renames: &[(&str, &str)],
    drop_params: bool,
    additional_drop_params: &[String],
) -> Result<Prepared, LlmError> {
    let mut req = apply_defaults(req, defaults, renames)?;
    let extra_body = take_extra_body(&mut req.extra)?;
    let drop = wants_drop(&req, drop_params);
    for key in additional_drop_params {
        drop_field(&mut req, key);
    }
    Ok(Prepared(req, extra_body, drop))
}

/// OpenAI request fields (newer OpenAI features) that Cohere and Ollama have no equivalent for:
/// a 400 unless dropped.
pub(crate) const OPENAI_ONLY_FIELDS: &[&str] = &[
    "audio",
    "prediction",
    "web_search_options",
    "modalities",
    "verbosity",
    "prompt_cache_key",
    "safety_identifier",
];

/// Removes one request field by its wire name (for `additional_drop_params`).
pub(crate) fn drop_field(req: &mut ChatRequest, key: &str) {
    match key {
        "temperature" => req.temperature = None,
        "top_p" => req.top_p = None,
        "n" => req.n = None,
        "stop" => req.stop = None,
        "max_tokens" => req.max_tokens = None,
        "max_completion_tokens" => req.max_completion_tokens = None,
        "presence_penalty" => req.presence_penalty = None,
        "frequency_penalty" => req.frequency_penalty = None,
        "logit_bias" => req.logit_bias = None,
        "logprobs" => req.logprobs = None,
        "top_logprobs" => req.top_logprobs = None,
        "user" => req.user = None,
        "seed" => req.seed = None,
        "tools" => req.tools = None,
        "tool_choice" => req.tool_choice = None,
        "parallel_tool_calls" => req.parallel_tool_calls = None,
        "response_format" => req.response_format = None,
        "reasoning_effort" => req.reasoning_effort = None,
        other => {
            req.extra.remove(other);
        }
    }
}

/// Whether the request (or the deployment) asks to drop unsupported parameters.
pub(crate) fn wants_drop(req: &ChatRequest, deployment: bool) -> bool {
    deployment || req.extra.get("drop_params").and_then(Value::as_bool) == Some(true)
}

/// Whether a typed OpenAI parameter (by wire name) is set in a way a provider may refuse: `n`
/// above 1, `logprobs: true`, `parallel_tool_calls: false`, `tools`/`functions` non-empty, any
/// other present.
fn typed_param_set(req: &ChatRequest, name: &str) -> bool {
    match name {
        "n" => req.n.is_some_and(|n| n > 1),
        "presence_penalty" => req.presence_penalty.is_some(),
        "frequency_penalty" => req.frequency_penalty.is_some(),
        "logit_bias" => req.logit_bias.is_some(),
        "logprobs" => req.logprobs == Some(true),
        "top_logprobs" => req.top_logprobs.is_some(),
        "seed" => req.seed.is_some(),
        "parallel_tool_calls" => req.parallel_tool_calls == Some(false),
        "reasoning_effort" => req.reasoning_effort.is_some(),
        "tools" => req.tools.as_ref().is_some_and(|t| !t.is_empty()),
        "functions" => req.functions.as_ref().is_some_and(|f| !f.is_empty()),
        other => req.extra.get(other).is_some_and(|v| !v.is_null()),
    }
}

/// Clears a typed OpenAI parameter (by wire name).
fn clear_typed_param(req: &mut ChatRequest, name: &str) {
    match name {
        "functions" => req.functions = None,
        other => drop_field(req, other),
    }
}

/// The parameters of `typed` then `extra` the request sets (see [`typed_param_set`]; an `extra`
/// key counts when present and not null), in that order.
pub(crate) fn find_unsupported<'a>(
    req: &ChatRequest,
    typed: &[&'a str],
    extra: &[&'a str],
) -> Vec<&'a str> {
    let typed = typed.iter().filter(|name| typed_param_set(req, name));
    let extra = extra
        .iter()
        .filter(|key| req.extra.get(**key).is_some_and(|v| !v.is_null()));
    typed.chain(extra).copied().collect()
}

/// Clears every `typed` field (even one set to a harmless value) and removes every `extra` key.
pub(crate) fn clear_unsupported(req: &mut ChatRequest, typed: &[&str], extra: &[&str]) {
    for name in typed {
        clear_typed_param(req, name);
    }
    for key in extra {
        req.extra.remove(*key);
    }
}

/// Refuses the OpenAI parameters a provider cannot honour with LiteLLM's
/// `UnsupportedParamsError` naming them (see [`find_unsupported`]), or, with `drop`, removes
/// them (see [`clear_unsupported`]). Nothing is changed when the request is refused.
pub(crate) fn refuse_or_drop(
    provider: &str,
    req: &mut ChatRequest,
    typed: &[&str],
    extra: &[&str],
    drop: bool,
) -> Result<(), LlmError> {
    if !drop {
        let found = find_unsupported(req, typed, extra);
        if !found.is_empty() {
            return Err(unsupported_params(provider, &found));
        }
    }
    clear_unsupported(req, typed, extra);
    Ok(())
}

/// LiteLLM's `UnsupportedParamsError` as a 400 naming the first parameter.
pub(crate) fn unsupported_params(provider: &str, found: &[&str]) -> LlmError {
    let mut e = LlmError::client(
        ErrorKind::BadRequest,
        format!(
            "UnsupportedParamsError: {provider} does not support parameters: {}. To drop them, \
             set drop_params: true (litellm_settings or the deployment's litellm_params) or pass \
             \"drop_params\": true in the request",
            found.join(", ")
        ),
    );
    e.param = found.first().map(|p| p.to_string());
    e.with_provider(provider)
}

/// The request's non-empty `stop` strings as a JSON array, when there is any.
pub(crate) fn stop_sequences(req: &ChatRequest) -> Option<Value> {
    let seqs: Vec<String> = req
        .stop
        .as_ref()?
        .to_vec()
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    (!seqs.is_empty()).then(|| json!(seqs))
}

/// Forwards the client's fields we do not model into `body` (never overriding what the adapter
/// built): internal and `structural` keys are skipped, and null values with `skip_null`.
pub(crate) fn forward_extra(
    body: &mut JsonMap,
    extra: JsonMap,
    structural: &[&str],
    skip_null: bool,
) {
    for (key, value) in extra {
        if is_internal_param(&key)
            || structural.contains(&key.as_str())
            || skip_null && value.is_null()
        {
            continue;
        }
        body.entry(key).or_insert(value);
    }
}

/// Merges the client's `extra_body` into `body` (overriding), except `structural` keys not
/// listed in `allowed`.
pub(crate) fn merge_extra_body(
    body: &mut JsonMap,
    extra_body: Option<JsonMap>,
    structural: &[&str],
    allowed: &[&str],
) {
    for (key, value) in extra_body.into_iter().flatten() {
        if !structural.contains(&key.as_str()) || allowed.contains(&key.as_str()) {
            body.insert(key, value);
        }
    }
}

/// The end of a translation: the client's fields we do not model forwarded into `body` (see
/// [`forward_extra`]), then its `extra_body` merged over it (see [`merge_extra_body`]; `allowed`:
/// the structural keys `extra_body` may still set).
pub(crate) fn forward_unmodelled(
    body: &mut JsonMap,
    extra: JsonMap,
    extra_body: Option<JsonMap>,
    structural: &[&str],
    skip_null: bool,
    allowed: &[&str],
) {
    forward_extra(body, extra, structural, skip_null);
    merge_extra_body(body, extra_body, structural, allowed);
}

/// A translated body as bytes.
pub(crate) fn serialize_body(body: &Value) -> Result<Bytes, LlmError> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|e| LlmError::internal(format!("could not serialize the upstream request: {e}")))
}

/// The error for a call to a deployment without a key; `message` says where a key may come from.
pub(crate) fn missing_key(provider: &str, message: &'static str) -> LlmError {
    LlmError::upstream(ErrorKind::Authentication, message).with_provider(provider)
}

/// Removes a credential from an error message, should an upstream have echoed it.
pub(crate) fn scrub_key(key: Option<&SecretString>, mut err: LlmError) -> LlmError {
    if let Some(key) = key {
        let key = key.expose_secret().trim();
        if key.len() >= 4 && err.message.contains(key) {
            err.message = err.message.replace(key, "<redacted>");
        }
    }
    err
}

/// A fresh OpenAI-style tool call id.
pub(crate) fn new_call_id() -> String {
    format!("call_{}", uuid::Uuid::new_v4().simple())
}

/// `litellm_params` keys LiteLLM consumes itself and never sends to a provider.
const INTERNAL_PARAMS: &[&str] = &[
    // Routing, limits and reliability (the router's).
    "rpm",
    "tpm",
    "itpm",
    "otpm",
    "tpd",
    "rpd",
    "weight",
    "order",
    "max_parallel_requests",
    "timeout",
    "stream_timeout",
    "num_retries",
    "max_retries",
    "cooldown_time",
    "retry_policy",
    "allowed_fails",
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "disable_fallbacks",
    "tags",
    "region_name",
    "base_model",
    "model_info",
    "model_name",
    "model_group",
    "deployment_id",
    // Credentials and endpoints (ours and other providers').
    "api_key",
    "api_base",
    "base_url",
    "api_version",
    "organization",
    "custom_llm_provider",
    "tenant_id",
    "client_id",
    "client_secret",
    "extra_headers",
    "headers",
    // LiteLLM behaviour switches and bookkeeping.
    "mock_response",
    "drop_params",
    "additional_drop_params",
    "use_in_pass_through",
    "merge_reasoning_content_in_choices",
    "configurable_clientside_auth_params",
    "metadata",
    "caching",
    "cache",
    "no-log",
    "no_log",
    "guardrails",
    "max_budget",
    "budget_duration",
    "proxy_server_request",
    "preset_cache_key",
    "thought_signature_in_tool_call_id",
    "health_check_model",
    "disable_background_health_check",
    "input_cost_per_second",
    "output_cost_per_second",
];

/// Prefixes of LiteLLM-internal keys (`litellm_credential_name`, `mock_delay`, `aws_region_name`,
/// `vertex_project`, `azure_ad_token`, `supports_vision`, ...).
const INTERNAL_PREFIXES: &[&str] = &[
    "litellm_",
    "mock_",
    "aws_",
    "vertex_",
    "azure_",
    "watsonx_",
    "supports_",
];

/// `model` as one URL path segment (Gemini's and Vertex AI's `.../models/{model}`, Azure's
/// deployment): letters, digits and `.`, `_`, `-`, `@` only, and never `.` or `..`. A model
/// name can come from a client (wildcard groups such as `gemini/*`), so anything that could leave
/// the segment or add a method (`/`, `..`, `?`, `#`, `:`, `%`, spaces) is a 400 naming the model.
pub fn model_segment<'m>(provider: &str, model: &'m str) -> Result<&'m str, LlmError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
    if model.is_empty() || model == "." || model == ".." || !model.chars().all(allowed) {
        return Err(LlmError::bad_param(
            "model",
            format!(
                "invalid {provider} model name {model:?}: use letters, digits, '.', '_', '-' \
                 and '@' only"
            ),
        )
        .with_provider(provider.to_string()));
    }
    Ok(model)
}

/// Whether a `litellm_params` key (or a client request field) is one LiteLLM consumes itself
/// (routing, pricing, credentials, logging) rather than a provider parameter to forward. Pricing
/// keys are recognised by `cost_per` or `_cost` anywhere in the name.
pub fn is_internal_param(key: &str) -> bool {
    INTERNAL_PARAMS.contains(&key)
        || INTERNAL_PREFIXES.iter().any(|p| key.starts_with(p))
        || key.contains("cost_per")
        || key.contains("_cost")
}

/// A tool call's arguments as the JSON string OpenAI carries (an object is serialized).
pub(crate) fn arguments_string(args: Option<&Value>) -> String {
    match args {
        None | Some(Value::Null) => "{}".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A function tool as OpenAI-style APIs take it (Cohere v2, Ollama):
/// `{"type": "function", "function": {"name", "description"?, "parameters"?}}`.
#[derive(Debug, serde::Serialize)]
pub(crate) struct FunctionTool {
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionDef,
}

/// A [`FunctionTool`]'s declaration; an empty description and null parameters are left out.
#[derive(Debug, serde::Serialize)]
struct FunctionDef {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<Value>,
}

/// The [`FunctionTool`] of a function declaration.
pub(crate) fn function_tool(
    name: String,
    description: Option<String>,
    parameters: Option<Value>,
) -> FunctionTool {
    FunctionTool {
        kind: "function",
        function: FunctionDef {
            name,
            description: description.filter(|d| !d.is_empty()),
            parameters: parameters.filter(|p| !p.is_null()),
        },
    }
}

/// The request's `tools` (function tools only: another type is a 400 naming `provider`) and its
/// legacy `functions`, taken out of `req`, as [`FunctionTool`]s; and whether any tool asked for
/// `strict`.
pub(crate) fn function_tools(
    req: &mut ChatRequest,
    provider: &str,
) -> Result<(Vec<FunctionTool>, bool), LlmError> {
    let mut tools = Vec::new();
    let mut strict = false;
    for tool in req.tools.take().into_iter().flatten() {
        if tool.kind != "function" {
            return Err(LlmError::bad_param(
                "tools",
                format!(
                    "{provider} supports only function tools, not {:?}",
                    tool.kind
                ),
            )
            .with_provider(provider));
        }
        let f = tool
            .function
            .ok_or_else(crate::request_common::missing_function)?;
        strict |= f.strict == Some(true);
        tools.push(function_tool(f.name, f.description, f.parameters));
    }
    for f in req.functions.take().into_iter().flatten() {
        tools.push(function_tool(f.name, f.description, f.parameters));
    }
    Ok((tools, strict))
}

/// The sampling parameters every adapter sends as they are, into `out` in this order: the
/// output-token limit and the stop sequences under the provider's names `max_tokens` and `stop`,
/// then `seed`, `frequency_penalty` and `presence_penalty`.
pub(crate) fn put_sampling(req: &ChatRequest, out: &mut JsonMap, max_tokens: &str, stop: &str) {
    if let Some(n) = req.max_output_tokens() {
        out.insert(max_tokens.into(), json!(n));
    }
    if let Some(seqs) = stop_sequences(req) {
        out.insert(stop.into(), seqs);
    }
    if let Some(seed) = req.seed {
        out.insert("seed".into(), json!(seed));
    }
    if let Some(p) = req.frequency_penalty {
        out.insert("frequency_penalty".into(), json!(p));
    }
    if let Some(p) = req.presence_penalty {
        out.insert("presence_penalty".into(), json!(p));
    }
}

/// A typed wire value as JSON, for a body map.
pub(crate) fn wire_value<T: serde::Serialize>(value: &T) -> Result<Value, LlmError> {
    serde_json::to_value(value)
        .map_err(|e| LlmError::internal(format!("could not serialize the upstream request: {e}")))
}

/// A typed wire body as a JSON object, for merging the client's extra fields into.
pub(crate) fn wire_map<T: serde::Serialize>(value: &T) -> Result<JsonMap, LlmError> {
    match wire_value(value)? {
        Value::Object(map) => Ok(map),
        _ => Err(LlmError::internal(
            "could not serialize the upstream request: not a JSON object",
        )),
    }
}
