//! OpenTelemetry traces, as LiteLLM's `otel` callback: one `litellm_request` span per LLM
//! request (GenAI semantic-convention attributes: `gen_ai.system`, `gen_ai.request.model`,
//! `gen_ai.usage.*`, the cost, model group, key alias, status) with one `raw_gen_ai_request`
//! child span per upstream attempt (deployment id, `api_base` without its query, outcome).
//!
//! Configured as LiteLLM does, from the environment (or the config's `environment_variables`):
//! `OTEL_EXPORTER_OTLP_PROTOCOL` / `OTEL_EXPORTER` (`otlp_http`, `http/protobuf`, `http/json`,
//! `console`), `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS` /
//! `OTEL_HEADERS` (`k=v,k2=v2`, values percent-decoded), `OTEL_SERVICE_NAME` (default
//! `litellm`) and `OTEL_ENVIRONMENT_NAME` (default `production`). Tracing is on when
//! `litellm_settings.callbacks` (or `success_callback`) names `otel`, or when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//!
//! Spans are built after the request ended, from what [`crate::callbacks`] gathered, with
//! explicit start and end times; they go to the SDK's batch processor (a bounded queue drained
//! by its own thread), so exporting never blocks a request. The OTLP HTTP requests are sent
//! with `reqwest` on the server's tokio runtime. A `traceparent` header on the incoming request
//! makes the request span a child of the caller's trace.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{HttpClient, HttpError};
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider,
};

use crate::callbacks::CallRecord;

/// Where spans go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtelExporter {
    /// OTLP over HTTP, protobuf body (`otlp_http`, `http/protobuf`).
    HttpProtobuf,
    /// OTLP over HTTP, JSON body (`http/json`).
    HttpJson,
    /// One line per span on stdout (`console`, LiteLLM's default without an endpoint).
    Console,
}

/// The resolved OpenTelemetry settings.
#[derive(Clone)]
pub struct OtelSettings {
    pub exporter: OtelExporter,
    /// The full traces URL (`.../v1/traces`).
    pub endpoint: String,
    /// Extra export headers (often credentials: never logged).
    pub headers: Vec<(String, String)>,
    pub service_name: String,
    pub environment: String,
    /// Export spans in batches of this many, at least every `flush_interval`.
    pub max_export_batch_size: usize,
    pub flush_interval: Duration,
    /// Add `gen_ai.prompt` / `gen_ai.completion` (message contents) to request spans.
    pub message_logging: bool,
}

impl std::fmt::Debug for OtelSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelSettings")
            .field("exporter", &self.exporter)
            .field("endpoint", &self.endpoint)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("service_name", &self.service_name)
            .finish_non_exhaustive()
    }
}

/// The OTLP/HTTP default endpoint (a collector on this host).
pub const DEFAULT_ENDPOINT: &str = "http://localhost:4318";

/// `endpoint` with the traces path: `http://c:4318` → `http://c:4318/v1/traces`.
pub fn traces_url(endpoint: &str) -> String {
    let base = endpoint.trim().trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        base.to_string()
    } else {
        format!("{base}/v1/traces")
    }
}

/// Parses `k=v,k2=v2` (OTLP header syntax; values percent-decoded, `Bearer%20x` → `Bearer x`).
pub fn parse_headers(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|item| {
            let (k, v) = item.split_once('=')?;
            let k = k.trim();
            if k.is_empty() {
                return None;
            }
            let v = percent_encoding::percent_decode_str(v.trim())
                .decode_utf8_lossy()
                .into_owned();
            Some((k.to_string(), v))
        })
        .collect()
}

/// The settings from the environment (`lookup`), or `None` when tracing is off. `by_callback`:
/// the config names `otel` in its callbacks. Problems that do not stop tracing are pushed to
/// `warnings`.
pub fn settings_from_env(
    lookup: &dyn Fn(&str) -> Option<String>,
    by_callback: bool,
    message_logging: bool,
    warnings: &mut Vec<String>,
) -> Option<OtelSettings> {
    let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let otlp_endpoint = get("OTEL_EXPORTER_OTLP_ENDPOINT");
    if !by_callback && otlp_endpoint.is_none() {
        return None;
    }
    let endpoint = otlp_endpoint.or_else(|| get("OTEL_ENDPOINT"));
    let protocol = get("OTEL_EXPORTER_OTLP_PROTOCOL").or_else(|| get("OTEL_EXPORTER"));
    let exporter = match protocol.as_deref().map(|p| p.trim().to_ascii_lowercase()) {
        None if endpoint.is_some() => OtelExporter::HttpProtobuf,
        None => OtelExporter::Console,
        Some(p) => match p.as_str() {
            "otlp_http" | "http/protobuf" | "http" | "otlp" => OtelExporter::HttpProtobuf,
            "http/json" | "otlp_http_json" => OtelExporter::HttpJson,
            "console" => OtelExporter::Console,
            "otlp_grpc" | "grpc" => {
                warnings.push(format!(
                    "OpenTelemetry: the {p} exporter is not supported; spans are sent over \
                     OTLP/HTTP (protobuf) instead: point OTEL_EXPORTER_OTLP_ENDPOINT at the \
                     collector's HTTP port (usually 4318)"
                ));
                OtelExporter::HttpProtobuf
            }
            other => {
                warnings.push(format!(
                    "OpenTelemetry: unknown exporter `{other}` (expected otlp_http, \
                     http/protobuf, http/json or console); using console"
                ));
                OtelExporter::Console
            }
        },
    };
    let headers = get("OTEL_EXPORTER_OTLP_HEADERS")
        .or_else(|| get("OTEL_HEADERS"))
        .map(|h| parse_headers(&h))
        .unwrap_or_default();
    let number = |name: &str| get(name).and_then(|v| v.trim().parse::<u64>().ok());
    Some(OtelSettings {
        exporter,
        endpoint: traces_url(endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT)),
        headers,
        service_name: get("OTEL_SERVICE_NAME").unwrap_or_else(|| "litellm".to_string()),
        environment: get("OTEL_ENVIRONMENT_NAME").unwrap_or_else(|| "production".to_string()),
        max_export_batch_size: number("OTEL_BSP_MAX_EXPORT_BATCH_SIZE")
            .map_or(512, |n| n.max(1) as usize),
        flush_interval: number("OTEL_BSP_SCHEDULE_DELAY")
            .map_or(Duration::from_secs(5), Duration::from_millis),
        message_logging,
    })
}

/// The OTLP exporter's HTTP client: `reqwest` requests spawned on the server's runtime (the
/// SDK's batch thread only waits for them).
#[derive(Debug)]
struct RuntimeClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

impl HttpClient for RuntimeClient {
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        request: http::Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, HttpError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        let client = self.client.clone();
        let task = self.runtime.spawn(async move {
            let request = reqwest::Request::try_from(request)?;
            let response = client.execute(request).await?;
            let mut builder = http::Response::builder().status(response.status());
            for (k, v) in response.headers() {
                builder = builder.header(k, v);
            }
            let body = response.bytes().await?;
            Ok::<_, HttpError>(builder.body(body)?)
        });
        Box::pin(async move { task.await.map_err(|e| Box::new(e) as HttpError)? })
    }
}

/// The tracer and its provider.
pub struct Otel {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    pub message_logging: bool,
}

impl std::fmt::Debug for Otel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Otel").finish_non_exhaustive()
    }
}

impl Otel {
    /// Starts the exporter and its batch processor.
    pub fn start(settings: &OtelSettings, runtime: tokio::runtime::Handle) -> Result<Otel, String> {
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name(settings.service_name.clone())
            .with_attribute(KeyValue::new(
                "deployment.environment",
                settings.environment.clone(),
            ))
            .build();
        let batch = BatchConfigBuilder::default()
            .with_max_export_batch_size(settings.max_export_batch_size)
            .with_scheduled_delay(settings.flush_interval)
            .build();
        let builder = SdkTracerProvider::builder().with_resource(resource);
        let provider = match settings.exporter {
            OtelExporter::Console => builder
                .with_span_processor(
                    BatchSpanProcessor::builder(opentelemetry_stdout::SpanExporter::default())
                        .with_batch_config(batch)
                        .build(),
                )
                .build(),
            OtelExporter::HttpProtobuf | OtelExporter::HttpJson => {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .map_err(|e| format!("cannot build the OTLP HTTP client: {e}"))?;
                let protocol = if settings.exporter == OtelExporter::HttpJson {
                    opentelemetry_otlp::Protocol::HttpJson
                } else {
                    opentelemetry_otlp::Protocol::HttpBinary
                };
                let exporter = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_http_client(RuntimeClient { client, runtime })
                    .with_protocol(protocol)
                    .with_endpoint(settings.endpoint.clone())
                    .with_timeout(Duration::from_secs(10))
                    .with_headers(settings.headers.iter().cloned().collect())
                    .build()
                    .map_err(|e| format!("cannot build the OTLP exporter: {e}"))?;
                builder
                    .with_span_processor(
                        BatchSpanProcessor::builder(exporter)
                            .with_batch_config(batch)
                            .build(),
                    )
                    .build()
            }
        };
        let tracer = provider.tracer("litellm");
        Ok(Otel {
            provider,
            tracer,
            message_logging: settings.message_logging,
        })
    }

    /// Records one finished request: the request span and a child span per attempt.
    pub fn record(&self, call: &CallRecord, parent: Option<&Context>) {
        let root = Context::new();
        let parent = parent.unwrap_or(&root);
        let mut attrs = request_attributes(call);
        if self.message_logging {
            if let Some(m) = &call.messages {
                attrs.push(KeyValue::new("gen_ai.prompt", m.to_string()));
            }
            if let Some(r) = &call.response {
                attrs.push(KeyValue::new("gen_ai.completion", r.to_string()));
            }
        }
        let mut span = self
            .tracer
            .span_builder("litellm_request")
            .with_kind(SpanKind::Server)
            .with_start_time(call.start)
            .with_attributes(attrs)
            .start_with_context(&self.tracer, parent);
        match &call.error {
            Some(e) => span.set_status(Status::error(e.message.clone())),
            None => span.set_status(Status::Ok),
        }
        let cx = parent.with_span(span);
        for (i, a) in call.attempts.iter().enumerate() {
            let mut attrs = vec![
                KeyValue::new("litellm.model_id", a.deployment_id.clone()),
                KeyValue::new("gen_ai.system", a.provider.clone()),
                KeyValue::new("gen_ai.request.model", a.model.clone()),
                KeyValue::new("litellm.model_group", a.model_group.clone()),
                KeyValue::new("litellm.attempt", i as i64),
                KeyValue::new("litellm.call_type", a.kind),
                KeyValue::new(
                    "litellm.outcome",
                    if a.error.is_none() {
                        "success"
                    } else {
                        "failure"
                    },
                ),
            ];
            if let Some(base) = &a.api_base {
                attrs.push(KeyValue::new("litellm.api_base", base.clone()));
            }
            if let Some(e) = &a.error {
                attrs.push(KeyValue::new("error.type", e.class));
                if let Some(s) = e.status {
                    attrs.push(KeyValue::new("http.response.status_code", i64::from(s)));
                }
            }
            let mut child = self
                .tracer
                .span_builder("raw_gen_ai_request")
                .with_kind(SpanKind::Client)
                .with_start_time(a.start)
                .with_attributes(attrs)
                .start_with_context(&self.tracer, &cx);
            match &a.error {
                Some(e) => child.set_status(Status::error(e.message.clone())),
                None => child.set_status(Status::Ok),
            }
            child.end_with_timestamp(a.end);
        }
        cx.span().end_with_timestamp(call.end);
    }

    /// Exports every finished span now (tests; blocks the calling thread).
    pub fn force_flush(&self) {
        if let Err(e) = self.provider.force_flush() {
            tracing::warn!(error = %e, "OpenTelemetry: flush failed");
        }
    }

    /// Exports what is queued and stops the exporter (at shutdown).
    pub async fn shutdown(&self) {
        let provider = self.provider.clone();
        let done = tokio::task::spawn_blocking(move || {
            provider.shutdown_with_timeout(Duration::from_secs(10))
        })
        .await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "OpenTelemetry: shutdown flush failed"),
            Err(e) => tracing::warn!(error = %e, "OpenTelemetry: shutdown failed"),
        }
    }
}

/// The request span's attributes (never a key: only its alias and hash).
fn request_attributes(c: &CallRecord) -> Vec<KeyValue> {
    let mut a = vec![
        KeyValue::new("gen_ai.operation.name", operation_name(&c.call_type)),
        KeyValue::new("litellm.call_id", c.request_id.clone()),
        KeyValue::new("litellm.call_type", c.call_type.clone()),
        KeyValue::new("llm.request.type", c.call_type.clone()),
        KeyValue::new("llm.is_streaming", c.stream),
        KeyValue::new(
            "litellm.status",
            if c.error.is_none() {
                "success"
            } else {
                "failure"
            },
        ),
        KeyValue::new("http.response.status_code", i64::from(c.status_code)),
        KeyValue::new("http.route", c.path.clone()),
        KeyValue::new("litellm.cache_hit", c.cache_hit),
        KeyValue::new("gen_ai.usage.input_tokens", c.prompt_tokens as i64),
        KeyValue::new("gen_ai.usage.output_tokens", c.completion_tokens as i64),
        KeyValue::new("llm.usage.total_tokens", c.total_tokens as i64),
        KeyValue::new("gen_ai.cost.total_cost", c.cost),
        KeyValue::new("litellm.response_cost", c.cost),
    ];
    let mut opt = |key: &'static str, v: &Option<String>| {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            a.push(KeyValue::new(key, v.clone()));
        }
    };
    opt("gen_ai.system", &c.provider);
    opt("gen_ai.request.model", &c.requested_model);
    opt("gen_ai.response.model", &c.model);
    opt("litellm.model_group", &c.model_group);
    opt("litellm.model_id", &c.model_id);
    opt("litellm.api_base", &c.api_base);
    opt("metadata.user_api_key_alias", &c.key_alias);
    opt("metadata.user_api_key_hash", &c.key_hash);
    opt("metadata.user_api_key_team_id", &c.team_id);
    opt("metadata.user_api_key_user_id", &c.user_id);
    opt("metadata.user_api_key_end_user_id", &c.end_user);
    if let Some(e) = &c.error {
        a.push(KeyValue::new("error.type", e.class.clone()));
        a.push(KeyValue::new("error.message", e.message.clone()));
    }
    a
}

/// GenAI `gen_ai.operation.name` for a LiteLLM call type.
fn operation_name(call_type: &str) -> &'static str {
    if call_type.contains("embedding") {
        "embeddings"
    } else {
        "chat"
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_get_the_traces_path_once() {
        assert_eq!(traces_url("http://c:4318"), "http://c:4318/v1/traces");
        assert_eq!(traces_url("http://c:4318/"), "http://c:4318/v1/traces");
        assert_eq!(
            traces_url("http://c:4318/v1/traces"),
            "http://c:4318/v1/traces"
        );
    }

    #[test]
    fn headers_are_split_and_percent_decoded() {
        assert_eq!(
            parse_headers("Authorization=Bearer%20abc, x-team = t1,bad"),
            vec![
                ("Authorization".to_string(), "Bearer abc".to_string()),
                ("x-team".to_string(), "t1".to_string())
            ]
        );
    }

    #[test]
    fn settings_follow_litellm_env_precedence() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let mut w = Vec::new();
        assert!(settings_from_env(&env(&[]), false, false, &mut w).is_none());
        let s = settings_from_env(&env(&[]), true, false, &mut w).unwrap();
        assert_eq!(s.exporter, OtelExporter::Console);
        assert_eq!(s.service_name, "litellm");
        let s = settings_from_env(
            &env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
                ("OTEL_ENDPOINT", "http://b:4318"),
                ("OTEL_EXPORTER", "otlp_http"),
                ("OTEL_HEADERS", "authorization=Bearer%20tok-123"),
                ("OTEL_SERVICE_NAME", "gw"),
            ]),
            false,
            false,
            &mut w,
        )
        .unwrap();
        assert_eq!(s.exporter, OtelExporter::HttpProtobuf);
        assert_eq!(s.endpoint, "http://a:4318/v1/traces");
        assert_eq!(
            s.headers,
            vec![("authorization".to_string(), "Bearer tok-123".to_string())]
        );
        assert!(
            !format!("{s:?}").contains("tok-123"),
            "Debug shows a header value"
        );
        assert_eq!(s.service_name, "gw");
        let s = settings_from_env(
            &env(&[
                ("OTEL_ENDPOINT", "http://b:4318"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ]),
            true,
            false,
            &mut w,
        )
        .unwrap();
        assert_eq!(s.exporter, OtelExporter::HttpJson);
        assert_eq!(s.endpoint, "http://b:4318/v1/traces");
        assert!(w.is_empty(), "{w:?}");
        let s = settings_from_env(&env(&[("OTEL_EXPORTER", "otlp_grpc")]), true, false, &mut w)
            .unwrap();
        assert_eq!(s.exporter, OtelExporter::HttpProtobuf);
        assert_eq!(w.len(), 1);
    }
}
