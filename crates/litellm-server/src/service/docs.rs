//! `/openapi.json` and the interactive `/docs` page. The page is a single self-contained HTML
//! file compiled into the binary (no CDN), so it also works on air-gapped deployments.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

/// The OpenAPI document.
pub async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::openapi_json(),
    )
        .into_response()
}

/// The interactive API page.
pub async fn docs_page() -> Html<&'static str> {
    Html(include_str!("../../assets/docs.html"))
}
