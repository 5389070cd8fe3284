//! The `mock` provider's JSON families, answered locally and deterministically so a newcomer can
//! try every route without a key: rerank scores each document by the share of the query's words
//! it contains; moderations flag nothing; image generation returns `n` 1×1 PNGs (as `b64_json`,
//! or as `data:` URLs for `response_format: url`).

use serde_json::{json, Value};

use litellm_core::{Family, FamilyOutput, FamilyRequest, JsonMap, LlmError};

/// A transparent 1×1 PNG, base64.
const PIXEL_PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

/// OpenAI's moderation categories.
const CATEGORIES: [&str; 13] = [
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
];

/// The mock answer of a family call for `model`.
pub fn answer(req: &FamilyRequest, model: &str) -> Result<FamilyOutput, LlmError> {
    let body = match req.family {
        Family::Rerank => rerank(&req.body, model)?,
        Family::Moderation => moderation(&req.body, model),
        Family::ImageGeneration => images(&req.body),
    };
    let body = body.as_object().cloned().unwrap_or_default();
    crate::families::answer(req, &serde_json::to_vec(&body).unwrap_or_default(), "mock")
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn rerank(body: &JsonMap, model: &str) -> Result<Value, LlmError> {
    let query = body.get("query").and_then(Value::as_str).unwrap_or("");
    let docs = body
        .get("documents")
        .and_then(Value::as_array)
        .ok_or_else(|| LlmError::bad_param("documents", "documents must be a list"))?;
    let query = words(query);
    let mut scored: Vec<(usize, f64, String)> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let text = match d {
                Value::String(s) => s.clone(),
                other => other
                    .get("text")
                    .and_then(Value::as_str)
                    .map_or_else(|| other.to_string(), str::to_string),
            };
            let have = words(&text);
            let hits = query.iter().filter(|w| have.contains(w)).count();
            (i, hits as f64 / query.len().max(1) as f64, text)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let top = body
        .get("top_n")
        .and_then(Value::as_u64)
        .map_or(scored.len(), |n| n as usize);
    let with_docs = body.get("return_documents").and_then(Value::as_bool) == Some(true);
    let results: Vec<Value> = scored
        .into_iter()
        .take(top)
        .map(|(index, score, text)| {
            let mut r = json!({"index": index, "relevance_score": score});
            if with_docs {
                r["document"] = json!({"text": text});
            }
            r
        })
        .collect();
    Ok(json!({
        "id": format!("mock-rerank-{}", uuid::Uuid::new_v4()),
        "model": model,
        "results": results,
        "meta": {"billed_units": {"search_units": 1}},
    }))
}

fn moderation(body: &JsonMap, model: &str) -> Value {
    let inputs = match body.get("input") {
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_string) => {
            items.len()
        }
        _ => 1,
    };
    let categories: JsonMap = CATEGORIES
        .iter()
        .map(|c| (c.to_string(), json!(false)))
        .collect();
    let scores: JsonMap = CATEGORIES
        .iter()
        .map(|c| (c.to_string(), json!(0.0)))
        .collect();
    let result = json!({"flagged": false, "categories": categories, "category_scores": scores});
    json!({
        "id": format!("modr-mock-{}", uuid::Uuid::new_v4()),
        "model": model,
        "results": vec![result; inputs],
    })
}

fn images(body: &JsonMap) -> Value {
    let n = body
        .get("n")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, 10);
    let url = body.get("response_format").and_then(Value::as_str) == Some("url");
    let one = if url {
        json!({"url": format!("data:image/png;base64,{PIXEL_PNG}")})
    } else {
        json!({"b64_json": PIXEL_PNG})
    };
    json!({"created": litellm_core::unix_now(), "data": vec![one; n as usize]})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(family: Family, body: Value) -> FamilyOutput {
        let req = FamilyRequest {
            family,
            body: body.as_object().cloned().unwrap_or_default(),
        };
        answer(&req, "m").expect("mock answer")
    }

    #[test]
    fn rerank_orders_documents_by_query_words() {
        let out = call(
            Family::Rerank,
            json!({"query": "capital of France", "documents": ["Berlin is in Germany",
                   "Paris is the capital of France", "France has wine"],
                   "top_n": 2, "return_documents": true}),
        );
        let results = out.body["results"].as_array().expect("results");
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["index"], 1);
        assert_eq!(results[0]["relevance_score"], 1.0);
        assert_eq!(
            results[0]["document"]["text"],
            "Paris is the capital of France"
        );
        assert_eq!(results[1]["index"], 2);
        assert_eq!(out.units.queries, 1);
    }

    #[test]
    fn moderation_answers_one_result_per_input() {
        let out = call(Family::Moderation, json!({"input": ["a", "b"]}));
        let results = out.body["results"].as_array().expect("results");
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["flagged"], false);
        assert_eq!(results[0]["categories"]["violence/graphic"], false);
    }

    #[test]
    fn images_come_as_b64_or_data_urls() {
        let out = call(
            Family::ImageGeneration,
            json!({"prompt": "x", "n": 2, "size": "256x256"}),
        );
        assert_eq!(out.body["data"][1]["b64_json"], PIXEL_PNG);
        assert_eq!(out.units.images, 2);
        assert_eq!(out.units.pixels, 2 * 256 * 256);
        let out = call(
            Family::ImageGeneration,
            json!({"prompt": "x", "response_format": "url"}),
        );
        assert!(out.body["data"][0]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("data:image/png;base64,")));
    }
}
