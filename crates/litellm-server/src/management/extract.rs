//! The extractors management and service handlers take instead of reading headers themselves:
//!
//! - [`SignedIn`]: the authenticated caller, admin or not (routes where a key reads its own
//!   data: `/key/info`, `/spend/logs`, the spend reports, `/v1/models`, `/model/info`).
//! - [`AdminCaller`]: the caller, who must be the proxy admin (the master key, or a key of a
//!   `proxy_admin` user; anyone when no master key is set).
//! - [`Admin`]: the same plus the key database (503 without one): keys, users, teams,
//!   customers, budgets.
//! - [`PatchBody`]: a JSON body as a `T`, refused as "Invalid request body" when it does not fit.
//! - [`QueryParams`]: the query string by name (400 when it does not parse), with [`param`]
//!   and [`num_param`] to read it.
//!
//! All three caller extractors (and `reports::Reader`) go through [`caller`], so a request is
//! authenticated once: a [`Caller`] already in the request's extensions, else the outcome the
//! `pipeline::authenticate` layer left there (`crate::pipeline::auth::caller`, which runs
//! `Auth::check` on the headers when the layer did not run). Refusals are `Auth::check`'s (401,
//! 400 `expired_key`, 503) and, for the admin, a 403.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::{Caller, KeyDb};
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::state::AppState;

/// The request's caller: a [`Caller`] in its extensions, else the authentication layer's
/// outcome (or `Auth::check` on its headers without the layer).
pub use crate::pipeline::auth::caller;

/// The refusal of a caller who is not the proxy admin (`Auth::require_admin`'s).
pub fn not_admin() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "auth_error",
        "Authentication Error, only the proxy admin (the master key, or a key of a \
         proxy_admin user) may call this route.",
    )
}

/// The authenticated caller, admin or not (the inference routes' extractor, under the name
/// the management handlers use).
pub use crate::pipeline::Authed as SignedIn;

/// The proxy admin (403 for any other caller).
#[derive(Debug, Clone)]
pub struct AdminCaller(pub Caller);

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = caller(parts, state).await?;
        if !caller.is_admin {
            return Err(not_admin());
        }
        Ok(AdminCaller(caller))
    }
}

/// The proxy admin and the key database (503 when none is connected): what the key, user,
/// team, customer and budget routes need.
#[derive(Debug, Clone)]
pub struct Admin {
    pub caller: Caller,
    pub db: KeyDb,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AdminCaller(caller) = AdminCaller::from_request_parts(parts, state).await?;
        let db = state.auth.key_db().cloned().ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable_error",
                "No database is connected; key, user and team management needs one \
                 (general_settings.database_url).",
            )
        })?;
        Ok(Admin { caller, db })
    }
}

/// Query parameters by name.
pub type Params = HashMap<String, String>;

/// The query string by name (400 "Invalid query string: ..." when it does not parse).
#[derive(Debug, Clone, Default)]
pub struct QueryParams(pub Params);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<Params>::from_request_parts(parts, state)
            .await
            .map(|Query(p)| QueryParams(p))
            .map_err(|e| ApiError::bad_request(None, format!("Invalid query string: {e}")))
    }
}

/// A JSON body read as [`JsonBody`]`<Value>` (its refusals for what is not JSON), then as a
/// `T`: a value that does not fit is a 400 "Invalid request body: ..." naming no parameter
/// (the `/budget/*` and `/customer/*` bodies).
#[derive(Debug, Clone)]
pub struct PatchBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PatchBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let JsonBody(raw) = JsonBody::<Value>::from_request(req, state).await?;
        serde_json::from_value(raw)
            .map(PatchBody)
            .map_err(|e| ApiError::bad_request(None, format!("Invalid request body: {e}")))
    }
}

/// A non-empty query parameter.
pub fn param<'p>(p: &'p Params, name: &str) -> Option<&'p str> {
    p.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// A whole-number query parameter in `min..=max`, `default` when absent.
pub fn num_param(
    p: &Params,
    name: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ApiError> {
    let Some(raw) = param(p, name) else {
        return Ok(default);
    };
    match raw.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::bad_request(
            Some(name),
            format!("{name} must be a whole number from {min} to {max}, got {raw:?}"),
        )),
    }
}

/// The `page` (1-based, default 1) and page-size (`size_name`, `1..=max_size`, default
/// `default_size`) query parameters of a paged list, read in that order.
pub fn paging(
    p: &Params,
    size_name: &'static str,
    default_size: u64,
    max_size: u64,
) -> Result<(u64, u64), ApiError> {
    let page = num_param(p, "page", 1, 1, u64::from(u32::MAX))?;
    let size = num_param(p, size_name, default_size, 1, max_size)?;
    Ok((page, size))
}

#[cfg(test)]
mod tests {
    use axum::http::Request;
    use litellm_router::Router;

    use super::*;

    fn state(master_key: Option<&str>) -> AppState {
        let yaml = match master_key {
            Some(k) => format!("model_list: []\ngeneral_settings:\n  master_key: {k}\n"),
            None => "model_list: []\n".to_string(),
        };
        let config = crate::config::parse_config(&yaml).expect("config").config;
        let router = Router::new(Vec::new()).expect("router");
        AppState::new(&config, router, None)
    }

    fn parts(key: Option<&str>, caller: Option<Caller>) -> Parts {
        let mut req = Request::builder().uri("/key/list?page=2");
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        let (mut parts, ()) = req.body(()).expect("request").into_parts();
        if let Some(c) = caller {
            parts.extensions.insert(c);
        }
        parts
    }

    #[tokio::test]
    async fn the_admin_extractors_refuse_as_require_admin_does() {
        let st = state(Some("sk-master"));
        for key in [None, Some("sk-wrong"), Some("sk-master")] {
            let headers = parts(key, None).headers;
            let expected = st.auth.require_admin(&headers).await;
            let got = AdminCaller::from_request_parts(&mut parts(key, None), &st).await;
            match (expected, got) {
                (Ok(_), Ok(AdminCaller(c))) => assert!(c.is_admin),
                (Err(e), Err(g)) => {
                    assert_eq!((e.status, e.message), (g.status, g.message), "{key:?}")
                }
                (e, g) => panic!(
                    "{key:?}: require_admin {:?}, extractor {:?}",
                    e.is_ok(),
                    g.is_ok()
                ),
            }
        }
        // A non-admin caller the auth layer found: 403 with require_admin's words.
        let signed_in = Caller {
            key_hash: "h".into(),
            ..Caller::default()
        };
        let e = AdminCaller::from_request_parts(&mut parts(None, Some(signed_in.clone())), &st)
            .await
            .expect_err("not the admin");
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(e.message, not_admin().message);
        let SignedIn(c) = SignedIn::from_request_parts(&mut parts(None, Some(signed_in)), &st)
            .await
            .expect("a caller from the extensions");
        assert_eq!(c.key_hash, "h");
    }

    #[tokio::test]
    async fn admin_needs_the_key_database() {
        let st = state(None);
        let e = Admin::from_request_parts(&mut parts(None, None), &st)
            .await
            .expect_err("no database");
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        let QueryParams(p) = QueryParams::from_request_parts(&mut parts(None, None), &st)
            .await
            .expect("query");
        assert_eq!(num_param(&p, "page", 1, 1, 10).expect("page"), 2);
        assert!(num_param(&p, "size", 10, 1, 100).is_ok());
    }
}
