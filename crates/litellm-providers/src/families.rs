//! The JSON endpoint families (rerank, moderations, image generation) over HTTP: the body sent
//! upstream (the client's, with the deployment's model and without LiteLLM's own fields), the
//! answer read back with what it bills ([`Units`], tokens), and Cohere's v2 rerank dialect. A
//! leaf module: which adapter serves which family, and at which URL, is the adapter's
//! (`HttpAdapter::family_request`); `backend_common` sends it.
//!
//! Wire formats: OpenAI `POST /moderations` (<https://platform.openai.com/docs/api-reference/moderations>)
//! and `POST /images/generations` (<https://platform.openai.com/docs/api-reference/images>);
//! rerank in Cohere's format (<https://docs.cohere.com/reference/rerank>: `query`,
//! `documents`, `top_n` in; `results[].index`/`relevance_score`, `meta.billed_units` out), which
//! Jina, Together and vLLM also speak (with `usage.total_tokens`).

use bytes::Bytes;
use serde_json::{json, Value};

use litellm_core::{
    ErrorKind, Family, FamilyOutput, FamilyRequest, JsonMap, LlmError, Units, Usage,
};

use crate::adapter_common::is_internal_param;

/// The image size OpenAI uses when the request names none.
pub const DEFAULT_IMAGE_SIZE: &str = "1024x1024";

/// The client's body for the upstream: `model` set to the deployment's, LiteLLM's own fields
/// and `metadata` left out.
pub fn upstream_body(req: &FamilyRequest, model: &str) -> JsonMap {
    let mut body: JsonMap = req
        .body
        .iter()
        .filter(|(k, _)| !is_internal_param(k) && k.as_str() != "metadata")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    body.insert("model".into(), Value::String(model.to_string()));
    body
}

/// `body` as the bytes of a JSON request.
pub fn to_bytes(body: &JsonMap) -> Result<Bytes, LlmError> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|e| LlmError::internal(format!("could not serialize the upstream request: {e}")))
}

/// Reads a family answer in its OpenAI (or Cohere) shape: the body as it is, the tokens it
/// reports and the units it bills.
pub fn answer(req: &FamilyRequest, body: &[u8], provider: &str) -> Result<FamilyOutput, LlmError> {
    let body: JsonMap = serde_json::from_slice(body).map_err(|e| {
        LlmError::upstream(
            ErrorKind::InternalServer,
            format!(
                "{provider} returned an unreadable {} answer: {e}",
                req.family.label()
            ),
        )
        .with_provider(provider.to_string())
    })?;
    let units = match req.family {
        Family::Rerank => Units {
            queries: body
                .get("meta")
                .and_then(|m| m.pointer("/billed_units/search_units"))
                .and_then(Value::as_u64)
                .unwrap_or(1),
            ..Units::default()
        },
        Family::ImageGeneration => {
            let images = body
                .get("data")
                .and_then(Value::as_array)
                .map_or(0, Vec::len) as u64;
            Units {
                images,
                pixels: images * pixels(image_size(&req.body)),
                ..Units::default()
            }
        }
        Family::Moderation => Units::default(),
    };
    Ok(FamilyOutput {
        usage: usage_of(&body),
        units,
        model: body
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_string),
        body,
        upstream_headers: Vec::new(),
    })
}

/// The tokens an answer reports: OpenAI's image `usage` (`input_tokens`/`output_tokens`),
/// rerank `usage.total_tokens` (Jina, Together), or Cohere's `meta.billed_units` tokens.
fn usage_of(body: &JsonMap) -> Option<Usage> {
    let usage = body
        .get("usage")
        .or_else(|| body.get("meta")?.get("billed_units"))?;
    let get = |k: &str| usage.get(k).and_then(Value::as_u64);
    match (
        get("input_tokens"),
        get("output_tokens"),
        get("total_tokens"),
    ) {
        (None, None, None) => None,
        (None, None, Some(total)) => Some(Usage::new(total, 0)),
        (input, output, _) => Some(Usage::new(input.unwrap_or(0), output.unwrap_or(0))),
    }
}

/// The request's `size` (OpenAI's default when absent).
pub fn image_size(body: &JsonMap) -> &str {
    body.get("size")
        .and_then(Value::as_str)
        .filter(|s| *s != "auto")
        .unwrap_or(DEFAULT_IMAGE_SIZE)
}

/// Width × height of a `WxH` size, 0 when it is not one.
pub fn pixels(size: &str) -> u64 {
    let mut parts = size.split('x').map(|p| p.trim().parse::<u64>().ok());
    match (parts.next().flatten(), parts.next().flatten(), parts.next()) {
        (Some(w), Some(h), None) => w * h,
        _ => 0,
    }
}

/// Cohere's v2 rerank body: documents as strings (an object's `text`, else its JSON), and
/// neither `return_documents` nor `rank_fields` (v2 has neither; the documents are put back
/// into the answer by [`cohere_rerank_answer`]).
pub fn cohere_rerank_body(req: &FamilyRequest, model: &str) -> JsonMap {
    let mut body = upstream_body(req, model);
    body.remove("return_documents");
    body.remove("rank_fields");
    body.remove("max_chunks_per_doc");
    if let Some(Value::Array(docs)) = body.get_mut("documents") {
        for doc in docs.iter_mut() {
            if !doc.is_string() {
                *doc = Value::String(document_text(doc));
            }
        }
    }
    body
}

/// Cohere's v2 rerank answer, with each result's `document` added when the client asked for
/// `return_documents` (LiteLLM's answer carries them).
pub fn cohere_rerank_answer(req: &FamilyRequest, out: &mut FamilyOutput) {
    let wants = req.body.get("return_documents").and_then(Value::as_bool) == Some(true);
    let docs = req.body.get("documents").and_then(Value::as_array);
    let (true, Some(docs)) = (wants, docs) else {
        return;
    };
    let Some(Value::Array(results)) = out.body.get_mut("results") else {
        return;
    };
    for result in results.iter_mut() {
        let doc = result
            .get("index")
            .and_then(Value::as_u64)
            .and_then(|i| docs.get(i as usize));
        if let (Some(doc), Some(obj)) = (doc, result.as_object_mut()) {
            obj.entry("document")
                .or_insert_with(|| json!({"text": document_text(doc)}));
        }
    }
}

/// A document's text: the string itself, an object's `text`, else the object as JSON.
fn document_text(doc: &Value) -> String {
    match doc {
        Value::String(s) => s.clone(),
        other => other
            .get("text")
            .and_then(Value::as_str)
            .map_or_else(|| other.to_string(), str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(family: Family, body: Value) -> FamilyRequest {
        FamilyRequest {
            family,
            body: body.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn the_upstream_body_has_the_deployment_model_and_no_gateway_fields() {
        let r = req(
            Family::Moderation,
            json!({"model": "mod", "input": "hi", "metadata": {"a": 1}, "num_retries": 2}),
        );
        let body = upstream_body(&r, "omni-moderation-latest");
        assert_eq!(
            Value::Object(body),
            json!({"model": "omni-moderation-latest", "input": "hi"})
        );
    }

    #[test]
    fn image_answers_bill_images_and_pixels() {
        let r = req(
            Family::ImageGeneration,
            json!({"prompt": "x", "size": "1024x1792"}),
        );
        let out = answer(
            &r,
            br#"{"created": 1, "data": [{"url": "u1"}, {"url": "u2"}]}"#,
            "openai",
        )
        .expect("answer");
        assert_eq!(out.units.images, 2);
        assert_eq!(out.units.pixels, 2 * 1024 * 1792);
        assert!(out.usage.is_none());
        let r = req(Family::ImageGeneration, json!({"prompt": "x"}));
        let out = answer(
            &r,
            br#"{"data": [{"b64_json": "AA=="}], "usage": {"input_tokens": 7, "output_tokens": 4160, "total_tokens": 4167}}"#,
            "openai",
        )
        .expect("answer");
        assert_eq!(out.units.pixels, 1024 * 1024);
        assert_eq!(out.usage, Some(Usage::new(7, 4160)));
    }

    #[test]
    fn rerank_answers_bill_search_units_or_one_query() {
        let r = req(Family::Rerank, json!({"query": "q", "documents": ["a"]}));
        let cohere =
            br#"{"id": "x", "results": [], "meta": {"billed_units": {"search_units": 3}}}"#;
        assert_eq!(answer(&r, cohere, "cohere").expect("ok").units.queries, 3);
        let jina =
            br#"{"model": "jina-reranker-v2", "results": [], "usage": {"total_tokens": 12}}"#;
        let out = answer(&r, jina, "jina_ai").expect("ok");
        assert_eq!(out.units.queries, 1);
        assert_eq!(out.usage, Some(Usage::new(12, 0)));
        assert_eq!(out.model.as_deref(), Some("jina-reranker-v2"));
        let err = answer(&r, b"<html>", "cohere").expect_err("unreadable");
        assert!(err
            .message
            .contains("cohere returned an unreadable rerank answer"));
    }

    #[test]
    fn cohere_v2_gets_string_documents_and_the_answer_gets_them_back() {
        let r = req(
            Family::Rerank,
            json!({"model": "r", "query": "q", "documents": ["a", {"text": "b"}, {"title": "c"}],
                   "return_documents": true, "rank_fields": ["text"], "top_n": 2}),
        );
        let body = cohere_rerank_body(&r, "rerank-v3.5");
        assert_eq!(
            Value::Object(body),
            json!({"model": "rerank-v3.5", "query": "q",
                   "documents": ["a", "b", "{\"title\":\"c\"}"], "top_n": 2})
        );
        let mut out = answer(
            &r,
            br#"{"id": "x", "results": [{"index": 1, "relevance_score": 0.9}, {"index": 0, "relevance_score": 0.1}]}"#,
            "cohere",
        )
        .expect("ok");
        cohere_rerank_answer(&r, &mut out);
        assert_eq!(
            out.body["results"],
            json!([{"index": 1, "relevance_score": 0.9, "document": {"text": "b"}},
                   {"index": 0, "relevance_score": 0.1, "document": {"text": "a"}}])
        );
    }

    #[test]
    fn sizes_parse_to_pixels() {
        assert_eq!(pixels("256x256"), 65_536);
        assert_eq!(pixels("auto"), 0);
        assert_eq!(pixels("1x2x3"), 0);
        assert_eq!(image_size(&JsonMap::new()), DEFAULT_IMAGE_SIZE);
    }
}
