//! Route and model access control for virtual keys.
//!
//! - **`allowed_routes`** (on a key): the routes the key may call, as LiteLLM names them: route
//!   groups (`llm_api_routes`, `openai_routes`, `anthropic_routes`, `info_routes`,
//!   `management_routes`, `spend_tracking_routes`, `global_spend_tracking_routes`,
//!   `public_routes`), literal paths (`/v1/chat/completions`), templates
//!   (`/openai/deployments/{model}/chat/completions`) and prefixes ending in `*`
//!   (`/v1/*`). Empty means every route. The `pipeline::authenticate` layer checks it for
//!   every request, before the handler runs; public routes (probes, `/metrics`, `/`) are always
//!   allowed, as in LiteLLM where they skip auth. The master key and admin users' keys pass.
//! - **Access groups**: a deployment's `model_info.access_groups` names groups; a key or team
//!   whose `models` contains a group name may use every model in it ([`models_allow`]).
//!   `all-team-models` on a key means "the team's models" (checked by `Auth::authorize`).

use litellm_router::Router;

/// LiteLLM's `LiteLLMRoutes.openai_routes`, restricted to the routes this proxy serves plus
/// the ones it may serve later (so a key's list keeps meaning the same thing).
pub const OPENAI_ROUTES: &[&str] = &[
    "/engines/{model}/chat/completions",
    "/openai/deployments/{model}/chat/completions",
    "/chat/completions",
    "/v1/chat/completions",
    "/engines/{model}/completions",
    "/openai/deployments/{model}/completions",
    "/completions",
    "/v1/completions",
    "/responses",
    "/v1/responses",
    "/v1/responses/{response_id}",
    "/v1/responses/{response_id}/input_items",
    "/responses/{response_id}",
    "/responses/{response_id}/input_items",
    "/engines/{model}/embeddings",
    "/openai/deployments/{model}/embeddings",
    "/embeddings",
    "/v1/embeddings",
    "/images/generations",
    "/v1/images/generations",
    "/openai/deployments/{model}/images/generations",
    "/rerank",
    "/v1/rerank",
    "/v2/rerank",
    "/audio/transcriptions",
    "/v1/audio/transcriptions",
    "/audio/speech",
    "/v1/audio/speech",
    "/moderations",
    "/v1/moderations",
    "/models",
    "/v1/models",
    "/utils/token_counter",
];

/// LiteLLM's `anthropic_routes` (and the token counter beside it).
pub const ANTHROPIC_ROUTES: &[&str] = &["/v1/messages", "/v1/messages/count_tokens"];

/// LiteLLM's `info_routes`.
pub const INFO_ROUTES: &[&str] = &[
    "/key/info",
    "/team/info",
    "/team/list",
    "/user/info",
    "/model/info",
    "/v1/model/info",
    "/v2/model/info",
    "/v2/key/info",
    "/model_group/info",
    "/health",
];

/// LiteLLM's `management_routes`.
pub const MANAGEMENT_ROUTES: &[&str] = &[
    "/key/generate",
    "/key/update",
    "/key/delete",
    "/key/info",
    "/user/new",
    "/user/update",
    "/user/delete",
    "/user/info",
    "/team/new",
    "/team/update",
    "/team/delete",
    "/team/list",
    "/team/info",
    "/team/block",
    "/team/unblock",
    "/model/new",
    "/model/update",
    "/model/delete",
    "/model/info",
];

/// LiteLLM's `spend_tracking_routes`.
pub const SPEND_TRACKING_ROUTES: &[&str] = &[
    "/spend/keys",
    "/spend/users",
    "/spend/tags",
    "/spend/calculate",
    "/spend/logs",
];

/// LiteLLM's `global_spend_tracking_routes`, plus the daily activity reports.
pub const GLOBAL_SPEND_TRACKING_ROUTES: &[&str] = &[
    "/global/spend/logs",
    "/global/spend",
    "/global/spend/keys",
    "/global/spend/teams",
    "/global/spend/end_users",
    "/global/spend/models",
    "/global/predict/spend/logs",
    "/global/spend/report",
    "/user/daily/activity",
    "/team/daily/activity",
];

/// LiteLLM's `public_routes` (and the other probes): reachable whatever `allowed_routes` says.
pub const PUBLIC_ROUTES: &[&str] = &[
    "/routes",
    "/",
    "/health/liveliness",
    "/health/liveness",
    "/health/readiness",
    "/test",
    "/config/yaml",
    "/metrics",
    "/openapi.json",
    "/docs",
];

/// The routes of a LiteLLM route-group name, or `None` for a path pattern.
pub fn route_group(name: &str) -> Option<Vec<&'static str>> {
    Some(match name {
        "openai_routes" => OPENAI_ROUTES.to_vec(),
        "anthropic_routes" => ANTHROPIC_ROUTES.to_vec(),
        "llm_api_routes" => [OPENAI_ROUTES, ANTHROPIC_ROUTES].concat(),
        "info_routes" => INFO_ROUTES.to_vec(),
        "management_routes" => MANAGEMENT_ROUTES.to_vec(),
        "spend_tracking_routes" => SPEND_TRACKING_ROUTES.to_vec(),
        "global_spend_tracking_routes" => GLOBAL_SPEND_TRACKING_ROUTES.to_vec(),
        "public_routes" => PUBLIC_ROUTES.to_vec(),
        _ => return None,
    })
}

/// Whether `path` matches one pattern: a literal path, a template whose `{name}` segments
/// match any one segment, or a prefix ending in `*`.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('*') {
        return path.starts_with(prefix);
    }
    let trim = |s: &str| s.trim_end_matches('/').to_string();
    let (pattern, path) = (trim(pattern), trim(path));
    if !pattern.contains('{') {
        return pattern == path;
    }
    let (p, q): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    p.len() == q.len()
        && p.iter()
            .zip(&q)
            .all(|(p, q)| (p.starts_with('{') && p.ends_with('}') && !q.is_empty()) || p == q)
}

/// Whether a key with `allowed_routes` may call `path`. Empty allows every route; public
/// routes are always allowed.
pub fn route_allowed(allowed: &[String], path: &str) -> bool {
    if allowed.is_empty() || PUBLIC_ROUTES.iter().any(|p| path_matches(p, path)) {
        return true;
    }
    allowed.iter().any(|a| match route_group(a) {
        Some(routes) => routes.iter().any(|p| path_matches(p, path)),
        None => path_matches(a, path),
    })
}

/// Whether `model` is in a `models` list: empty means every model, as do
/// `all-proxy-models` and `*`; `prefix/*` matches by prefix.
pub fn model_allowed(models: &[String], model: &str) -> bool {
    models.is_empty()
        || models.iter().any(|m| {
            m == model
                || m == "*"
                || m == "all-proxy-models"
                || m.strip_suffix('*')
                    .is_some_and(|prefix| prefix.ends_with('/') && model.starts_with(prefix))
        })
}

/// Whether a `models` list lets its holder use `model`: directly (see [`model_allowed`]) or
/// through an access group (a deployment of `model` lists, in `model_info.access_groups`, a
/// name the list contains).
pub fn models_allow(models: &[String], model: &str, router: Option<&Router>) -> bool {
    if model_allowed(models, model) {
        return true;
    }
    let Some(router) = router else {
        return false;
    };
    router.deployments().iter().any(|d| {
        d.model_name == model
            && d.config
                .model_info
                .access_groups
                .as_ref()
                .is_some_and(|groups| groups.iter().any(|g| models.contains(g)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn route_patterns_match_like_litellm() {
        assert!(path_matches("/v1/chat/completions", "/v1/chat/completions"));
        assert!(path_matches(
            "/v1/chat/completions",
            "/v1/chat/completions/"
        ));
        assert!(!path_matches("/v1/chat/completions", "/v1/embeddings"));
        assert!(path_matches(
            "/openai/deployments/{model}/chat/completions",
            "/openai/deployments/gpt-4o/chat/completions"
        ));
        assert!(!path_matches(
            "/openai/deployments/{model}/chat/completions",
            "/openai/deployments/chat/completions"
        ));
        assert!(path_matches("/key/*", "/key/info"));
        assert!(!path_matches("/key/*", "/team/info"));
    }

    #[test]
    fn allowed_routes_take_groups_paths_and_prefixes() {
        assert!(route_allowed(&[], "/key/generate"), "empty allows all");
        let llm = l(&["llm_api_routes"]);
        assert!(route_allowed(&llm, "/v1/chat/completions"));
        assert!(route_allowed(&llm, "/v1/messages"));
        assert!(route_allowed(&llm, "/engines/m/embeddings"));
        assert!(!route_allowed(&llm, "/key/generate"));
        assert!(route_allowed(&llm, "/health/liveliness"), "public");
        let info = l(&["info_routes", "/spend/logs"]);
        assert!(route_allowed(&info, "/key/info"));
        assert!(route_allowed(&info, "/spend/logs"));
        assert!(!route_allowed(&info, "/v1/chat/completions"));
        assert!(route_allowed(&l(&["/global/*"]), "/global/spend/report"));
    }

    #[test]
    fn models_allow_without_router_is_the_plain_check() {
        assert!(models_allow(&l(&["a"]), "a", None));
        assert!(!models_allow(&l(&["group-x"]), "a", None));
    }
}
