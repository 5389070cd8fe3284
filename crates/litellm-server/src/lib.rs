//! litellm-server (layer 4): the axum proxy. It owns config.yaml loading, the HTTP routes, the
//! OpenAPI document and `ApiError`, the one place an error becomes an HTTP status and body.
//!
//! Architecture invariant: only this crate (and test support) knows axum, HTTP status codes and
//! the config.yaml format; lower crates take plain typed configs.

pub mod auth;
pub mod body;
pub mod budget_reserve;
pub mod cache;
pub mod config;
pub mod error;
pub mod headers;
pub mod limits;
pub mod management;
pub mod openapi;
pub use observability::{callbacks, metrics, otel};
pub mod observability;
pub mod pipeline;
pub mod reload;
pub mod reservations;
pub mod routes;
pub mod service;
pub mod spend;
pub mod state;
pub mod stream;

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use tokio_util::sync::CancellationToken;

use litellm_auth::{Ledger, LedgerOptions};
use litellm_router::Router;

pub use config::{load_config, parse_config, ConfigError, LoadedConfig, ProxyConfig};
pub use error::ApiError;
pub use openapi::openapi_json;
pub use state::AppState;

/// The database used when none is configured: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://litellm-rs.db";

/// How long in-flight requests and streams may take to finish after a shutdown signal.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// How to run the proxy.
#[derive(Debug)]
pub struct ServeOptions {
    pub config: ProxyConfig,
    /// Bind address; `None` picks `0.0.0.0` with a master key and `127.0.0.1` without one.
    pub host: Option<String>,
    pub port: u16,
    /// The config file `config` came from, re-read on `SIGHUP` and `POST /config/reload`.
    pub config_path: Option<std::path::PathBuf>,
}

/// Errors that stop the server from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Config(String),
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Startup(String),
}

/// The proxy's routes over `state`.
pub fn app(state: AppState) -> axum::Router {
    use routes::{chat, embeddings};
    let body_limit = state.settings.body_limit;
    axum::Router::new()
        .route("/chat/completions", post(chat::chat_completions))
        .route("/v1/chat/completions", post(chat::chat_completions))
        .route(
            "/engines/{model}/chat/completions",
            post(chat::chat_completions_for_model),
        )
        .route(
            "/openai/deployments/{model}/chat/completions",
            post(chat::chat_completions_for_model),
        )
        .route("/embeddings", post(embeddings::embeddings))
        .route("/v1/embeddings", post(embeddings::embeddings))
        .route(
            "/engines/{model}/embeddings",
            post(embeddings::embeddings_for_model),
        )
        .route(
            "/openai/deployments/{model}/embeddings",
            post(embeddings::embeddings_for_model),
        )
        .route("/v1/messages", post(routes::messages::messages))
        .route(
            "/v1/messages/count_tokens",
            post(routes::messages::count_tokens),
        )
        .route("/completions", post(routes::completions::completions))
        .route("/v1/completions", post(routes::completions::completions))
        .route(
            "/engines/{model}/completions",
            post(routes::completions::completions_for_model),
        )
        .route(
            "/openai/deployments/{model}/completions",
            post(routes::completions::completions_for_model),
        )
        .route("/responses", post(routes::responses::create))
        .route("/v1/responses", post(routes::responses::create))
        .route(
            "/v1/responses/{response_id}",
            get(routes::responses::retrieve).delete(routes::responses::delete),
        )
        .route(
            "/responses/{response_id}",
            get(routes::responses::retrieve).delete(routes::responses::delete),
        )
        .route(
            "/v1/responses/{response_id}/input_items",
            get(routes::responses::input_items),
        )
        .route(
            "/responses/{response_id}/input_items",
            get(routes::responses::input_items),
        )
        .route("/rerank", post(routes::families::rerank))
        .route("/v1/rerank", post(routes::families::rerank))
        .route("/v2/rerank", post(routes::families::rerank))
        .route("/moderations", post(routes::families::moderations))
        .route("/v1/moderations", post(routes::families::moderations))
        .route(
            "/images/generations",
            post(routes::families::image_generations),
        )
        .route(
            "/v1/images/generations",
            post(routes::families::image_generations),
        )
        .route(
            "/openai/deployments/{model}/images/generations",
            post(routes::families::image_generations_for_model),
        )
        .route("/config/reload", post(reload::reload_config))
        .route("/metrics", get(metrics::metrics_endpoint))
        // Models, health, docs, cache admin: `service/`; keys, users, teams, spend: `management/`.
        .merge(service::routes())
        .merge(management::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        // Authentication, once for every route (and a key's `allowed_routes`).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pipeline::authenticate,
        ))
        // Inside the metrics scope, so the request's labels are known when it ends.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            callbacks::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found_error",
        format!("Route not found: {}", uri.path()),
    )
    .into_response()
}

/// A known route with another method: a 405 in OpenAI's error shape (axum's own is empty).
async fn method_not_allowed(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> axum::response::Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request_error",
        format!("Method {method} is not allowed on {}", uri.path()),
    )
    .into_response()
}

/// The address to bind: explicit, or `0.0.0.0` with a master key and loopback without one.
/// Without a master key the proxy is open to anyone who can reach it, so it refuses to bind a
/// non-loopback address.
pub fn choose_host(host: Option<&str>, has_master_key: bool) -> Result<String, ServeError> {
    let host = host.map(str::to_string).unwrap_or_else(|| {
        if has_master_key {
            "0.0.0.0"
        } else {
            "127.0.0.1"
        }
        .to_string()
    });
    let loopback = host == "localhost"
        || host
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false);
    if !has_master_key && !loopback {
        return Err(ServeError::Config(format!(
            "refusing to listen on {host} without a master key: anyone who can reach it could use \
             your providers. Set general_settings.master_key (or LITELLM_MASTER_KEY) to a key \
             starting with sk-, or listen on 127.0.0.1."
        )));
    }
    if !has_master_key {
        tracing::warn!(
            "no master key is set: every request to this proxy is accepted. Listening on {host} \
             (loopback) only; set general_settings.master_key before exposing it"
        );
    }
    Ok(host)
}

/// Runs the proxy until `shutdown` resolves, then drains in-flight requests and streams (up to
/// [`DRAIN_TIMEOUT`]) and flushes every queued spend record before returning.
pub async fn serve(
    opts: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let config = opts.config;
    let has_master_key = config.general_settings.master_key.is_some();
    let host = choose_host(opts.host.as_deref(), has_master_key)?;
    let prices =
        litellm_providers::prices::install(config.litellm_settings.model_cost_map_path.as_deref())
            .map_err(|e| ServeError::Config(e.to_string()))?;
    tracing::debug!(models = prices.len(), "price table loaded");

    let router = Router::with_settings(config.model_list.clone(), config.router_settings.clone())
        .map_err(|e| ServeError::Config(e.message))?;

    let db_url = config
        .general_settings
        .database_url
        .clone()
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
    let retention = management::reports::retention(&config).map_err(ServeError::Config)?;
    if let Some(tz) = &config.litellm_settings.timezone {
        litellm_auth::reset::set_timezone(tz)
            .map_err(|e| ServeError::Config(format!("litellm_settings.timezone: {e}")))?;
    }
    let ledger = Ledger::connect(
        &db_url,
        LedgerOptions {
            flush_interval: state::batch_interval(&config),
            key_cache_ttl: state::key_cache_ttl(&config),
            ..LedgerOptions::default()
        },
    )
    .await
    .map_err(|e| ServeError::Startup(format!("cannot open the database: {e}")))?;

    let state = AppState::new(&config, router, Some(ledger.clone()));
    let retention = retention.map(|r| {
        // A random name for this process's hold on the job's lease row.
        let holder = litellm_auth::hash_token(&litellm_auth::generate_key())[..16].to_string();
        r.spawn(ledger.store().clone(), holder)
    });
    let addr = format!("{host}:{}", opts.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let local = listener.local_addr().map(|a| a.to_string()).unwrap_or(addr);
    tracing::info!(
        address = %format!("http://{local}"),
        models = ?state.router.model_names(),
        database = ?ledger.dialect(),
        "litellm-rs is listening"
    );

    let token = CancellationToken::new();
    service::health::spawn_background_checks(&state, token.clone());
    budget_reserve::spawn_reset_job(&state, &config, token.clone());
    let reloader = opts
        .config_path
        .map(|p| std::sync::Arc::new(reload::Reloader::new(p)));
    #[cfg(unix)]
    reload::spawn_sighup_listener(state.clone(), reloader.clone(), token.clone())
        .map_err(|e| ServeError::Startup(format!("cannot listen for SIGHUP: {e}")))?;
    let signal = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: draining in-flight requests");
        signal.cancel();
    });
    // SSE is many small writes: without TCP_NODELAY, Nagle's algorithm meets the client's
    // delayed ACK and every stream stalls for ~40 ms.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    let mut routes = app(state.clone());
    if let Some(r) = reloader {
        routes = routes.layer(axum::Extension(r));
    }
    let server =
        axum::serve(listener, routes).with_graceful_shutdown(token.clone().cancelled_owned());
    let drained = tokio::select! {
        r = server => r.map_err(|e| ServeError::Startup(format!("server error: {e}"))),
        _ = async { token.cancelled().await; tokio::time::sleep(DRAIN_TIMEOUT).await } => {
            tracing::warn!("drain timeout reached; closing remaining connections");
            Ok(())
        }
    };

    if let Some(job) = retention {
        job.abort();
    }
    // Streams dropped above queue their spend records on these tasks; wait for them, then write
    // everything still queued.
    state.tasks.close();
    state.tasks.wait().await;
    if let Err(e) = ledger.shutdown().await {
        tracing::error!(error = %e, "could not flush spend records at shutdown");
    }
    // Webhook events and trace spans still queued.
    state.callbacks.shutdown().await;
    tracing::info!("stopped");
    drained
}
