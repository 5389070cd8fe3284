//! The JSON endpoint families on the one inference pipeline: `POST /v1/rerank` (and `/rerank`,
//! `/v2/rerank`, Cohere's format), `POST /v1/moderations` (and `/moderations`) and
//! `POST /v1/images/generations` (and `/images/generations`,
//! `/openai/deployments/{model}/images/generations`). Each family is a [`FamilyKind`] (its
//! checks and its budget estimate); the request travels as the client's JSON object to the
//! router's family call, and is billed by tokens and by [`litellm_core::Units`] (queries,
//! images, pixels).

use std::marker::PhantomData;

use axum::extract::Path;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use litellm_core::{Family, FamilyRequest, JsonMap};

use crate::error::ApiError;
use crate::pipeline::{self, Admission, Done, Endpoint, Inference, InferenceCall, RawBody};
use crate::state::AppState;
use crate::stream::estimate_tokens;

/// What differs between the JSON families.
pub trait FamilyKind: Send + Sync + 'static {
    const FAMILY: Family;

    /// The model when the body names none (OpenAI's moderations default).
    const DEFAULT_MODEL: Option<&'static str> = None;

    /// The family's own checks of the body (a 400 naming the field).
    fn validate(body: &JsonMap) -> Result<(), ApiError>;

    /// The text the call reads, for the budget hold's token estimate.
    fn input_chars(body: &JsonMap) -> usize;
}

/// A family request as the client sent it: `model`, `user`, and the rest as it is.
#[derive(Debug, Serialize, Deserialize)]
pub struct FamilyBody<K> {
    #[serde(default)]
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(flatten)]
    pub extra: JsonMap,
    #[serde(skip)]
    kind: PhantomData<K>,
}

/// `POST /v1/rerank`: Cohere's rerank format.
pub struct Rerank;
/// `POST /v1/moderations`.
pub struct Moderation;
/// `POST /v1/images/generations`.
pub struct ImageGeneration;

/// A 400 naming `field`.
fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(Some(field), message)
}

/// The length of a string field, 0 when absent.
fn text_len(body: &JsonMap, field: &str) -> usize {
    body.get(field).and_then(Value::as_str).map_or(0, str::len)
}

impl FamilyKind for Rerank {
    const FAMILY: Family = Family::Rerank;

    fn validate(body: &JsonMap) -> Result<(), ApiError> {
        if text_len(body, "query") == 0 {
            return Err(bad("query", "query must be a non-empty string"));
        }
        let docs = body.get("documents").and_then(Value::as_array);
        let Some(docs) = docs.filter(|d| !d.is_empty()) else {
            return Err(bad("documents", "documents must be a non-empty list"));
        };
        if !docs.iter().all(|d| d.is_string() || d.is_object()) {
            return Err(bad(
                "documents",
                "each document must be a string or an object",
            ));
        }
        match body.get("top_n") {
            None | Some(Value::Null) => Ok(()),
            Some(n) if n.as_u64().is_some_and(|n| n >= 1) => Ok(()),
            Some(_) => Err(bad("top_n", "top_n must be a positive integer")),
        }
    }

    fn input_chars(body: &JsonMap) -> usize {
        let docs = body.get("documents").and_then(Value::as_array);
        let docs: usize = docs.map_or(0, |d| d.iter().map(|d| d.to_string().len()).sum());
        text_len(body, "query") + docs
    }
}

impl FamilyKind for Moderation {
    const FAMILY: Family = Family::Moderation;
    const DEFAULT_MODEL: Option<&'static str> = Some("omni-moderation-latest");

    fn validate(body: &JsonMap) -> Result<(), ApiError> {
        match body.get("input") {
            Some(Value::String(_)) => Ok(()),
            Some(Value::Array(items)) if !items.is_empty() => Ok(()),
            _ => Err(bad(
                "input",
                "input must be a string, a list of strings or a list of text/image_url parts",
            )),
        }
    }

    fn input_chars(body: &JsonMap) -> usize {
        body.get("input").map_or(0, |i| i.to_string().len())
    }
}

impl FamilyKind for ImageGeneration {
    const FAMILY: Family = Family::ImageGeneration;

    fn validate(body: &JsonMap) -> Result<(), ApiError> {
        if text_len(body, "prompt") == 0 {
            return Err(bad("prompt", "prompt must be a non-empty string"));
        }
        if let Some(n) = body.get("n").filter(|n| !n.is_null()) {
            if !n.as_u64().is_some_and(|n| (1..=10).contains(&n)) {
                return Err(bad("n", "n must be an integer from 1 to 10"));
            }
        }
        match body.get("response_format").and_then(Value::as_str) {
            None | Some("url" | "b64_json") => Ok(()),
            Some(other) => Err(bad(
                "response_format",
                format!("response_format must be 'url' or 'b64_json', got '{other}'"),
            )),
        }
    }

    fn input_chars(body: &JsonMap) -> usize {
        text_len(body, "prompt")
    }
}

impl<K: FamilyKind> Inference for FamilyBody<K> {
    const CALL_TYPE: &'static str = K::FAMILY.call_type();

    crate::pipeline::openai_fields!();

    fn validate(&self) -> Result<(), ApiError> {
        K::validate(&self.extra)
    }

    fn budget_tokens(&self) -> (u64, Option<u64>) {
        (estimate_tokens(K::input_chars(&self.extra)), Some(0))
    }
}

impl<K: FamilyKind> Endpoint for FamilyBody<K> {
    fn parse(body: RawBody, path_model: Option<&str>) -> Result<Self, ApiError> {
        let mut req: Self = crate::routes::parse_body(body, path_model)?;
        if req.model.trim().is_empty() {
            if let Some(default) = K::DEFAULT_MODEL {
                req.model = default.to_string();
            }
        }
        Ok(req)
    }

    async fn serve(self, state: AppState, adm: Admission) -> Result<Response, ApiError> {
        let FamilyBody {
            model, user, extra, ..
        } = self;
        let mut body = extra;
        // OpenAI's image API takes `user`; the others would refuse it.
        if let (Family::ImageGeneration, Some(user)) = (K::FAMILY, user) {
            body.insert("user".into(), Value::String(user));
        }
        let image = (K::FAMILY == Family::ImageGeneration).then(|| {
            let size = litellm_providers::families::image_size(&body).to_string();
            let quality = body
                .get("quality")
                .and_then(Value::as_str)
                .map(str::to_string);
            (size, quality)
        });
        let req = FamilyRequest {
            family: K::FAMILY,
            body,
        };
        let routed =
            pipeline::routed(state.router.family(&model, req, adm.options.clone())).await?;
        let mut out = routed.output;
        // The answer names the model the client asked for; the spend log keeps the upstream's.
        if let Some(m) = out.body.get_mut("model") {
            *m = Value::String(adm.requested_model.clone());
        }
        let image = image.as_ref().map(|(s, q)| (s.as_str(), q.as_deref()));
        let upstream_model = out.model.clone();
        let mut done = Done::tokens(
            &routed.route,
            out.usage.as_ref(),
            upstream_model.unwrap_or_else(|| routed.route.model.clone()),
        );
        done.unit_cost = crate::spend::unit_cost(&routed.route, &out.units, image);
        Ok(pipeline::reply(&state, adm, done, &out.body).await)
    }
}

crate::routes::inference_route! {
    /// Cohere-format rerank: documents ordered by relevance to the query.
    rerank: FamilyBody<Rerank>, "/v1/rerank",
    request: "A rerank request in Cohere's format: `model`, `query`, `documents` (strings, or objects with `text`), `top_n`, `return_documents`, `max_tokens_per_doc`",
    ok: "`{id, results: [{index, relevance_score, document?}], meta}` (Cohere's shape), results most relevant first",
    refused: "Malformed request, unknown model, or a deployment whose provider has no rerank",
}

crate::routes::inference_route! {
    /// OpenAI Moderations (`model` defaults to `omni-moderation-latest`).
    moderations: FamilyBody<Moderation>, "/v1/moderations",
    request: "A moderations request: `input` (a string, a list of strings, or text/image_url parts) and `model`",
    ok: "`{id, model, results: [{flagged, categories, category_scores}]}`",
    refused: "Malformed request, unknown model, or a deployment whose provider has no moderations",
}

crate::routes::inference_route! {
    /// OpenAI Images: generation.
    image_generations: FamilyBody<ImageGeneration>, "/v1/images/generations",
    request: "An image generation request: `model`, `prompt`, `n` (1-10), `size`, `quality`, `style`, `response_format` (`url` or `b64_json`), `user`, and the provider's other fields",
    ok: "`{created, data: [{url | b64_json, revised_prompt?}], usage?}`",
    refused: "Malformed request, unknown model, or a deployment that cannot generate images",
}

/// Azure-style path: the model comes from the path.
pub async fn image_generations_for_model(
    Path(model): Path<String>,
    call: InferenceCall,
) -> Response {
    call.serve::<FamilyBody<ImageGeneration>>(Some(model)).await
}
