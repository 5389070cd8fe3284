//! The configured sinks ([`Callbacks`]) and the access log line.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// The sinks

/// The configured sinks. The access log is always on.
pub struct Callbacks {
    pub otel: Option<Otel>,
    pub generic: Vec<GenericLogger>,
    pub turn_off_message_logging: bool,
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callbacks")
            .field("otel", &self.otel.is_some())
            .field("generic", &self.generic.len())
            .finish_non_exhaustive()
    }
}

impl Callbacks {
    /// No sinks but the access log.
    pub fn none() -> Callbacks {
        Callbacks {
            otel: None,
            generic: Vec::new(),
            turn_off_message_logging: false,
        }
    }

    /// The sinks `config` asks for (environment from its `environment_variables`, then the
    /// process). Background parts need a tokio runtime; without one they stay off.
    pub fn from_config(config: &ProxyConfig) -> Callbacks {
        let lookup = |name: &str| {
            config
                .environment_variables
                .get(name)
                .cloned()
                .or_else(|| std::env::var(name).ok())
        };
        let litellm = &config.litellm_settings;
        let turn_off = litellm.turn_off_message_logging.unwrap_or(false);
        let named = named_callbacks(litellm);
        let mut out = Callbacks {
            turn_off_message_logging: turn_off,
            ..Callbacks::none()
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            if !named.is_empty() || lookup("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
                tracing::warn!("callbacks need a tokio runtime; they are off");
            }
            return out;
        };
        let otel_named = named.iter().any(|(n, _, _)| n == "otel");
        let otel_messages = !turn_off
            && config
                .callback_settings
                .get("otel")
                .and_then(|s| s.message_logging)
                .unwrap_or(true);
        let mut warnings = Vec::new();
        if let Some(settings) =
            crate::otel::settings_from_env(&lookup, otel_named, otel_messages, &mut warnings)
        {
            match Otel::start(&settings, runtime.clone()) {
                Ok(o) => {
                    tracing::info!(
                        exporter = ?settings.exporter,
                        endpoint = %redact_endpoint(&settings.endpoint),
                        "OpenTelemetry tracing on"
                    );
                    out.otel = Some(o);
                }
                Err(e) => tracing::error!(error = %e, "OpenTelemetry tracing is off"),
            }
        }
        for w in warnings {
            tracing::warn!("{w}");
        }
        for (name, events, _) in &named {
            let settings = config.callback_settings.get(name);
            if !is_generic(name, settings) {
                continue;
            }
            match GenericLogger::start(name, settings, *events, turn_off, &lookup, &runtime) {
                Some(g) => out.generic.push(g),
                None => tracing::warn!(
                    callback = %name,
                    "generic_api callback has no endpoint (callback_settings.{name}.endpoint or \
                     GENERIC_LOGGER_ENDPOINT); it is off"
                ),
            }
        }
        out
    }

    /// Whether any sink wants message contents.
    pub fn wants_messages(&self) -> bool {
        !self.turn_off_message_logging
            && (self.otel.as_ref().is_some_and(|o| o.message_logging)
                || self.generic.iter().any(|g| g.message_logging)
                || tracing::enabled!(target: ACCESS_TARGET, tracing::Level::DEBUG))
    }

    /// Hands a finished call to every sink (never blocks: queues and a log line).
    pub fn emit(&self, call: CallRecord, parent: Option<&opentelemetry::Context>) {
        access_log(&call, !self.turn_off_message_logging);
        // A caller without a valid key reaches the access log (and the request metrics) only:
        // anyone could otherwise fill the webhooks and traces, with messages of their choosing.
        if call.status_code == 401 {
            return;
        }
        if let Some(o) = &self.otel {
            o.record(&call, parent);
        }
        let success = call.success();
        for g in &self.generic {
            if (success && g.events.success) || (!success && g.events.failure) {
                g.log(standard_logging_payload(&call, g.message_logging));
            }
        }
    }

    /// Events dropped so far by the webhooks (queue overflow, or delivery given up).
    pub fn dropped_events(&self) -> u64 {
        self.generic.iter().map(|g| g.dropped()).sum()
    }

    /// Exports queued spans now (tests).
    pub fn flush_traces(&self) {
        if let Some(o) = &self.otel {
            o.force_flush();
        }
    }

    /// Sends everything still queued (graceful shutdown).
    pub async fn shutdown(&self) {
        for g in &self.generic {
            g.shutdown().await;
        }
        if let Some(o) = &self.otel {
            o.shutdown().await;
        }
    }
}

/// The access-log line of one request (info level; messages only at debug level).
pub(super) fn access_log(c: &CallRecord, message_logging: bool) {
    let key_hash = c.key_hash.as_deref().map(|h| &h[..h.len().min(12)]);
    let latency_ms = c
        .end
        .duration_since(c.start)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    tracing::info!(
        target: ACCESS_TARGET,
        request_id = %c.request_id,
        call_type = %c.call_type,
        route = %c.path,
        status_code = c.status_code,
        status = if c.success() { "success" } else { "failure" },
        latency_ms,
        key_alias = c.key_alias.as_deref(),
        key_hash = key_hash,
        team_id = c.team_id.as_deref(),
        user_id = c.user_id.as_deref(),
        requested_model = c.requested_model.as_deref(),
        model = c.model.as_deref(),
        model_group = c.model_group.as_deref(),
        deployment_id = c.model_id.as_deref(),
        provider = c.provider.as_deref(),
        cost = c.cost,
        prompt_tokens = c.prompt_tokens,
        completion_tokens = c.completion_tokens,
        total_tokens = c.total_tokens,
        cache_hit = c.cache_hit,
        stream = c.stream,
        attempts = c.attempts.len(),
        error = c.error.as_ref().map(|e| e.message.as_str()),
        "llm request"
    );
    if message_logging && tracing::enabled!(target: ACCESS_TARGET, tracing::Level::DEBUG) {
        tracing::debug!(
            target: ACCESS_TARGET,
            request_id = %c.request_id,
            messages = %c.messages.as_ref().map(|v| v.to_string()).unwrap_or_default(),
            response = %c.response.as_ref().map(|v| v.to_string()).unwrap_or_default(),
            "llm request messages"
        );
    }
}
