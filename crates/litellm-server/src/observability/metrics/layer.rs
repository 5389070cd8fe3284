//! Where the numbers come from: the router observer, the middleware that counts in-flight
//! requests and opens each LLM request's scope, and `GET /metrics`.

#[allow(unused_imports)]
use super::*;

use axum::extract::MatchedPath;

/// LiteLLM's `exception_class` label: `Provider.ClassName` when the provider is known.
pub(super) fn exception_class(provider: Option<&str>, class: &str) -> String {
    match provider.filter(|p| !p.is_empty()) {
        Some(p) => {
            let mut chars = p.chars();
            let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
            format!("{}{}.{class}", first.unwrap_or_default(), chars.as_str())
        }
        None => class.to_string(),
    }
}

/// The router observer that feeds [`Metrics`].
#[derive(Debug, Clone)]
pub struct MetricsObserver(pub Arc<Metrics>);

impl RouterObserver for MetricsObserver {
    fn on_attempt_end(
        &self,
        deployment: &Deployment,
        _model_group: &str,
        kind: AttemptKind,
        outcome: Result<Duration, &LlmError>,
    ) {
        let mut labels = RequestLabels::default();
        with_scope(|l| {
            l.model_id = Lv::new(&deployment.id);
            labels = l.clone();
        });
        self.0.record_attempt(deployment, kind, outcome, &labels);
    }

    fn on_cooldown(&self, deployment: &Deployment, _model_group: &str, _error: &LlmError) {
        self.0.record_cooldown(deployment);
    }
}

/// Decrements the in-flight gauge when the request ends (also when it is cancelled).
pub(super) struct InFlightGuard<'a>(&'a Gauge);

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Middleware around the whole app: `litellm_in_flight_requests`, and for LLM routes the
/// request's label scope and the proxy request counters.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let metrics = state.metrics.clone();
    metrics.in_flight.inc();
    let _guard = InFlightGuard(&metrics.in_flight);
    // The matched route's template (`/openai/deployments/{model}/chat/completions`), never the
    // raw path: a path the app does not serve is not an LLM route, and labels stay bounded.
    let Some(route) = req.extensions().get::<MatchedPath>().cloned() else {
        return next.run(req).await;
    };
    if !is_llm_route(route.as_str()) {
        return next.run(req).await;
    }
    let scope = crate::observability::scope::RequestScope::new(RequestLabels::from_request(
        route.as_str(),
        req.headers(),
    ));
    let response = scope.clone().run(next.run(req)).await;
    let labels = scope.lock().labels.clone();
    let class = crate::error::exception_class(response.extensions());
    metrics.record_proxy_request(&labels, response.status(), class);
    response
}

/// `GET /metrics`: the Prometheus exposition. Its labels name every tenant's keys, users and
/// budgets, so it takes an admin key (the master key or a `proxy_admin` user's key) unless
/// `require_auth_for_metrics_endpoint: false` makes it public.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses(
        (status = 200, description = "Prometheus text format (0.0.4)", content_type = "text/plain"),
        (status = 401, description = "No valid key (when require_auth_for_metrics_endpoint is on)"),
        (status = 403, description = "A valid key that is not an admin's"),
    ),
    security(("bearer" = [])))]
pub async fn metrics_endpoint(
    State(state): State<AppState>,
    caller: Result<crate::pipeline::Authed, ApiError>,
) -> Response {
    if state.settings.require_auth_for_metrics {
        match caller {
            Err(e) => {
                return ApiError::unauthorized(format!(
                    "Unauthorized access to metrics endpoint: {}",
                    e.message
                ))
                .into_response()
            }
            Ok(crate::pipeline::Authed(c)) if !c.is_admin => {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    "auth_error",
                    "The metrics endpoint needs an admin key (its labels name every tenant)",
                )
                .into_response()
            }
            Ok(_) => {}
        }
    }
    let body = state.metrics.encode();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(prometheus_client::encoding::prometheus_text::CONTENT_TYPE),
        )],
        body,
    )
        .into_response()
}
