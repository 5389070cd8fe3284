//! The finished-call record every sink reads ([`CallRecord`]), built from a spend record or a
//! failed response, and LiteLLM's StandardLoggingPayload made from it.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// The finished-call record every sink reads

/// An error, as the sinks show it (never containing a key: `ApiError` messages do not).
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub message: String,
    /// LiteLLM's exception class (`RateLimitError`, ...).
    pub class: String,
    /// The HTTP status, as text (LiteLLM's `error_code`).
    pub code: Option<String>,
}

/// One upstream attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub deployment_id: String,
    pub model_group: String,
    pub provider: String,
    pub model: String,
    /// Without its query string.
    pub api_base: Option<String>,
    pub kind: &'static str,
    pub start: SystemTime,
    pub end: SystemTime,
    pub error: Option<AttemptError>,
}

/// Why an attempt failed.
#[derive(Debug, Clone)]
pub struct AttemptError {
    pub class: &'static str,
    pub status: Option<u16>,
    pub message: String,
}

/// Everything known about one finished LLM request.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub request_id: String,
    pub call_type: String,
    /// The route (`/v1/chat/completions`).
    pub path: String,
    pub status_code: u16,
    pub stream: bool,
    pub start: SystemTime,
    pub end: SystemTime,
    pub completion_start: Option<SystemTime>,
    pub requested_model: Option<String>,
    /// The model that answered (the upstream's name, else the deployment's).
    pub model: Option<String>,
    pub model_group: Option<String>,
    pub model_id: Option<String>,
    pub provider: Option<String>,
    pub api_base: Option<String>,
    pub cost: f64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    pub cache_hit: bool,
    pub cache_key: Option<String>,
    /// SHA-256 of the caller's key (never the key).
    pub key_hash: Option<String>,
    pub key_alias: Option<String>,
    pub team_id: Option<String>,
    pub team_alias: Option<String>,
    pub user_id: Option<String>,
    pub end_user: Option<String>,
    pub client_ip: Option<String>,
    /// The spend record's metadata extras (retries, fallbacks, `usage_estimated`).
    pub extra_metadata: serde_json::Map<String, Value>,
    /// The request's tags (body, `x-litellm-tags`, key and team).
    pub request_tags: Vec<String>,
    pub error: Option<ErrorInfo>,
    pub attempts: Vec<Attempt>,
    /// The request's messages (or embedding input), when captured.
    pub messages: Option<Value>,
    /// The response body, when captured.
    pub response: Option<Value>,
}

impl Default for CallRecord {
    fn default() -> Self {
        CallRecord {
            request_id: String::new(),
            call_type: String::new(),
            path: String::new(),
            status_code: 0,
            stream: false,
            start: UNIX_EPOCH,
            end: UNIX_EPOCH,
            completion_start: None,
            requested_model: None,
            model: None,
            model_group: None,
            model_id: None,
            provider: None,
            api_base: None,
            cost: 0.0,
            prompt_tokens: 0,
            completion_tokens: 0,
            total_tokens: 0,
            cache_hit: false,
            cache_key: None,
            key_hash: None,
            key_alias: None,
            team_id: None,
            team_alias: None,
            user_id: None,
            end_user: None,
            client_ip: None,
            extra_metadata: serde_json::Map::new(),
            request_tags: Vec::new(),
            error: None,
            attempts: Vec::new(),
            messages: None,
            response: None,
        }
    }
}

impl Default for ErrorInfo {
    fn default() -> Self {
        ErrorInfo {
            message: String::new(),
            class: "APIError".to_string(),
            code: None,
        }
    }
}

pub(super) fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl CallRecord {
    /// The record of a call that has a spend record.
    pub(super) fn from_spend(rec: &SpendRecord) -> CallRecord {
        let meta = rec.metadata.as_object();
        let meta_str = |k: &str| {
            meta.and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let mut extra = serde_json::Map::new();
        if let Some(m) = meta {
            for (k, v) in m {
                if !k.starts_with("user_api_key_") {
                    extra.insert(k.clone(), v.clone());
                }
            }
        }
        let failed = rec.status != "success";
        CallRecord {
            request_id: rec.request_id.clone(),
            call_type: rec.call_type.clone(),
            status_code: 200,
            start: rec.start_time.into(),
            end: rec.end_time.into(),
            completion_start: rec.completion_start_time.map(Into::into),
            model: non_empty(&rec.model),
            model_group: non_empty(&rec.model_group),
            model_id: non_empty(&rec.model_id),
            provider: non_empty(&rec.custom_llm_provider),
            api_base: non_empty(&rec.api_base),
            cost: rec.spend,
            prompt_tokens: rec.prompt_tokens,
            completion_tokens: rec.completion_tokens,
            total_tokens: rec.total_tokens,
            cache_hit: rec.cache_hit,
            key_hash: non_empty(&rec.api_key_hash),
            key_alias: meta_str("user_api_key_alias"),
            team_id: rec.team_id.clone(),
            user_id: rec.user_id.clone(),
            end_user: rec.end_user.clone(),
            extra_metadata: extra,
            request_tags: rec.request_tags.clone(),
            error: failed.then(|| ErrorInfo {
                message: "the upstream stream failed after it started".to_string(),
                class: "APIConnectionError".to_string(),
                code: None,
            }),
            ..CallRecord::default()
        }
    }

    /// Fills what the request's labels know (requested model, team alias, client).
    pub(super) fn with_labels(mut self, l: &crate::metrics::RequestLabels) -> CallRecord {
        let s = |v: &crate::metrics::Lv| v.as_str().map(str::to_string);
        self.requested_model = self.requested_model.or_else(|| s(&l.requested_model));
        self.team_alias = self.team_alias.or_else(|| s(&l.team_alias));
        self.client_ip = self.client_ip.or_else(|| s(&l.client_ip));
        self.key_alias = self.key_alias.or_else(|| s(&l.api_key_alias));
        self.team_id = self.team_id.or_else(|| s(&l.team));
        self.user_id = self.user_id.or_else(|| s(&l.user));
        self.end_user = self.end_user.or_else(|| s(&l.end_user));
        if self.key_hash.is_none() {
            self.key_hash = s(&l.hashed_api_key).filter(|h| !h.is_empty());
        }
        self
    }

    pub(super) fn success(&self) -> bool {
        self.error.is_none()
    }
}

/// Unix seconds as a float (LiteLLM's `startTime`).
pub(super) fn epoch(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The event in the shape of LiteLLM's `StandardLoggingPayload`.
pub fn standard_logging_payload(c: &CallRecord, message_logging: bool) -> Value {
    let end = epoch(c.end);
    let start = epoch(c.start);
    let mut metadata = json!({
        "user_api_key_hash": c.key_hash,
        "user_api_key_alias": c.key_alias,
        "user_api_key_team_id": c.team_id,
        "user_api_key_team_alias": c.team_alias,
        "user_api_key_user_id": c.user_id,
        "user_api_key_end_user_id": c.end_user,
        "spend_logs_metadata": null,
        "requester_ip_address": c.client_ip,
    });
    if let Some(m) = metadata.as_object_mut() {
        for (k, v) in &c.extra_metadata {
            m.insert(k.clone(), v.clone());
        }
    }
    let model = c.model.clone().unwrap_or_default();
    json!({
        "id": c.request_id,
        "trace_id": c.request_id,
        "call_type": c.call_type,
        "stream": c.stream,
        "response_cost": c.cost,
        "response_cost_failure_debug_info": null,
        "status": if c.success() { "success" } else { "failure" },
        "custom_llm_provider": c.provider,
        "total_tokens": c.total_tokens,
        "prompt_tokens": c.prompt_tokens,
        "completion_tokens": c.completion_tokens,
        "startTime": start,
        "endTime": end,
        "completionStartTime": c.completion_start.map(epoch).unwrap_or(end),
        "response_time": (end - start).max(0.0),
        "model_map_information": {"model_map_key": model, "model_map_value": null},
        "model": model,
        "model_id": c.model_id,
        "model_group": c.model_group.clone().or_else(|| c.requested_model.clone()),
        "api_base": c.api_base.clone().unwrap_or_default(),
        "metadata": metadata,
        "cache_hit": c.cache_hit,
        "cache_key": c.cache_key,
        "saved_cache_cost": 0.0,
        "request_tags": c.request_tags,
        "end_user": c.end_user,
        "requester_ip_address": c.client_ip,
        "messages": if message_logging { c.messages.clone() } else { None },
        "response": if message_logging { c.response.clone() } else { None },
        "error_str": c.error.as_ref().map(|e| e.message.clone()),
        "error_information": c.error.as_ref().map(|e| json!({
            "error_code": e.code,
            "error_class": e.class,
            "llm_provider": c.provider,
            "error_message": e.message,
        })),
        "model_parameters": {},
        "hidden_params": {
            "model_id": c.model_id,
            "cache_key": c.cache_key,
            "api_base": c.api_base,
            "response_cost": c.cost,
            "additional_headers": null,
        },
    })
}
