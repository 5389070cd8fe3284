//! The fakes' answers for the JSON endpoint families, in the providers' documented formats:
//! OpenAI `POST /v1/moderations` and `POST /v1/images/generations`, the rerank of the
//! OpenAI-compatible hosts that have one (`POST /v1/rerank`, Jina's and Together's format: Cohere's
//! fields plus `return_documents`, answered with `usage`), all served by `FakeOpenAi`, and
//! Cohere `POST /v2/rerank` (served by `FakeCohere`). Like the real APIs they refuse a field
//! they do not know (OpenAI: `Unrecognized request argument supplied: <field>`; Cohere v2:
//! `unknown field`), so a gateway that leaks its own fields (`metadata`, `num_retries`, ...) or
//! sends v1-only rerank fields fails the test. A refusal is `Err(message)`, answered as 400.

use serde_json::{json, Value};

/// The fields OpenAI's moderations endpoint takes.
const MODERATION_FIELDS: &[&str] = &["input", "model"];

/// The fields OpenAI's image generation endpoint takes.
const IMAGE_FIELDS: &[&str] = &[
    "prompt",
    "model",
    "n",
    "quality",
    "response_format",
    "size",
    "style",
    "user",
    "background",
    "moderation",
    "output_compression",
    "output_format",
];

/// The fields Cohere's v2 rerank takes.
const RERANK_FIELDS: &[&str] = &["model", "query", "documents", "top_n", "max_tokens_per_doc"];

/// A field of `body` outside `known`, if any.
fn unknown_field<'a>(body: &'a Value, known: &[&str]) -> Option<&'a str> {
    body.as_object()?
        .keys()
        .map(String::as_str)
        .find(|k| !known.contains(k))
}

/// The strings a moderation `input` holds (a string, strings, or text parts).
fn moderation_inputs(input: &Value) -> Option<Vec<String>> {
    match input {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Some(s.clone()),
                part => part
                    .get("text")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| part.get("image_url").map(|_| "[image]".to_string())),
            })
            .collect(),
        _ => None,
    }
}

/// OpenAI's moderation answer: one result per input; an input containing `kill` is flagged
/// for violence (so a test can see the answer come back unchanged).
pub fn moderation(body: &Value) -> Result<Value, String> {
    if let Some(field) = unknown_field(body, MODERATION_FIELDS) {
        return Err(format!("Unrecognized request argument supplied: {field}"));
    }
    let inputs = body
        .get("input")
        .and_then(moderation_inputs)
        .ok_or("'input' is a required property")?;
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("omni-moderation-latest");
    let results: Vec<Value> = inputs
        .iter()
        .map(|text| {
            let violent = text.to_lowercase().contains("kill");
            json!({
                "flagged": violent,
                "categories": {"violence": violent, "harassment": false, "hate": false,
                               "self-harm": false, "sexual": false},
                "category_scores": {"violence": if violent { 0.91 } else { 0.0001 },
                                    "harassment": 0.0001, "hate": 0.0001,
                                    "self-harm": 0.0001, "sexual": 0.0001},
                "category_applied_input_types": {"violence": ["text"]}
            })
        })
        .collect();
    Ok(json!({"id": "modr-fake-0001", "model": format!("{model}-2024-09-26"), "results": results}))
}

/// OpenAI's image generation answer: `n` images as URLs or base64; `gpt-image-*` models also
/// report token usage, as the real API does.
pub fn image_generation(body: &Value) -> Result<Value, String> {
    if let Some(field) = unknown_field(body, IMAGE_FIELDS) {
        return Err(format!("Unrecognized request argument supplied: {field}"));
    }
    let prompt = body.get("prompt").and_then(Value::as_str).unwrap_or("");
    if prompt.is_empty() {
        return Err("'prompt' is a required property".into());
    }
    let n = body.get("n").and_then(Value::as_u64).unwrap_or(1);
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("dall-e-2");
    let b64 = body.get("response_format").and_then(Value::as_str) == Some("b64_json")
        || model.starts_with("gpt-image");
    let data: Vec<Value> = (0..n)
        .map(|i| {
            let mut image = if b64 {
                json!({"b64_json": "iVBORw0KGgo="})
            } else {
                json!({"url": format!("https://fake-images.example/{i}.png")})
            };
            if model == "dall-e-3" {
                image["revised_prompt"] = json!(format!("A picture of {prompt}"));
            }
            image
        })
        .collect();
    let mut answer = json!({"created": 1_700_000_000u64, "data": data});
    if model.starts_with("gpt-image") {
        let input = (prompt.len() as u64).div_ceil(4);
        let output = 1056 * n;
        answer["usage"] = json!({"input_tokens": input, "output_tokens": output,
            "total_tokens": input + output,
            "input_tokens_details": {"text_tokens": input, "image_tokens": 0}});
    }
    Ok(answer)
}

/// The fields Jina's and Together's rerank take.
const COMPAT_RERANK_FIELDS: &[&str] = &[
    "model",
    "query",
    "documents",
    "top_n",
    "return_documents",
    "rank_fields",
];

/// Jina's / Together's rerank answer: Cohere's scoring, documents returned when asked, and the
/// tokens read as `usage`.
pub fn compat_rerank(body: &Value) -> Result<Value, String> {
    if let Some(field) = unknown_field(body, COMPAT_RERANK_FIELDS) {
        return Err(format!("Unrecognized request argument supplied: {field}"));
    }
    let docs: Vec<String> = body
        .get("documents")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .map(|d| match d {
                    Value::String(s) => s.clone(),
                    other => other
                        .get("text")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut as_cohere = body.clone();
    if let Some(obj) = as_cohere.as_object_mut() {
        obj.remove("return_documents");
        obj.remove("rank_fields");
        obj.insert("documents".into(), json!(docs));
    }
    let mut answer = cohere_rerank(&as_cohere)?;
    if body.get("return_documents").and_then(Value::as_bool) == Some(true) {
        if let Some(results) = answer["results"].as_array_mut() {
            for r in results {
                let i = r["index"].as_u64().unwrap_or(0) as usize;
                r["document"] = json!({"text": docs.get(i).cloned().unwrap_or_default()});
            }
        }
    }
    let query = body.get("query").and_then(Value::as_str).unwrap_or("");
    let read: usize = docs.iter().map(String::len).sum::<usize>() + query.len();
    let tokens = (read as u64).div_ceil(4);
    Ok(json!({
        "object": "rerank",
        "id": "rerank-fake-compat",
        "model": body["model"],
        "results": answer["results"],
        "usage": {"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens}
    }))
}

/// Lower-case words of a text.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Cohere's v2 rerank answer: documents scored by the share of the query's words they hold,
/// most relevant first, `top_n` of them; one search unit billed.
pub fn cohere_rerank(body: &Value) -> Result<Value, String> {
    if let Some(field) = unknown_field(body, RERANK_FIELDS) {
        return Err(format!(
            "invalid request: unknown field: parameter {field} is not a valid field"
        ));
    }
    if body.get("model").and_then(Value::as_str).is_none() {
        return Err("invalid request: model must be provided".into());
    }
    let query = body.get("query").and_then(Value::as_str).unwrap_or("");
    if query.is_empty() {
        return Err("invalid request: query must not be empty".into());
    }
    let docs = body.get("documents").and_then(Value::as_array);
    let Some(docs) = docs.filter(|d| !d.is_empty()) else {
        return Err("invalid request: documents must not be empty".into());
    };
    let Some(docs) = docs
        .iter()
        .map(Value::as_str)
        .collect::<Option<Vec<&str>>>()
    else {
        return Err("invalid request: documents must be a list of strings".into());
    };
    let query = words(query);
    let mut scored: Vec<(usize, f64)> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let have = words(d);
            let hits = query.iter().filter(|w| have.contains(w)).count();
            (i, hits as f64 / query.len() as f64)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let top = body
        .get("top_n")
        .and_then(Value::as_u64)
        .map_or(docs.len(), |n| n as usize);
    let results: Vec<Value> = scored
        .into_iter()
        .take(top)
        .map(|(index, score)| json!({"index": index, "relevance_score": score}))
        .collect();
    Ok(json!({
        "id": "rerank-fake-0001",
        "results": results,
        "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}}
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_refused_like_the_real_apis() {
        let err = moderation(&json!({"input": "x", "metadata": {}})).expect_err("refused");
        assert_eq!(err, "Unrecognized request argument supplied: metadata");
        let err = image_generation(&json!({"prompt": "x", "num_retries": 1})).expect_err("no");
        assert!(err.contains("num_retries"));
        let err = cohere_rerank(&json!({"model": "m", "query": "q", "documents": ["a"],
                                        "return_documents": true}))
        .expect_err("v2 has no return_documents");
        assert!(err.contains("return_documents"));
    }

    #[test]
    fn rerank_scores_by_query_words() {
        let out = cohere_rerank(&json!({"model": "m", "query": "red apple",
            "documents": ["a green pear", "one red apple", "red car"], "top_n": 2}))
        .expect("answer");
        assert_eq!(
            out["results"],
            json!([{"index": 1, "relevance_score": 1.0},
                                           {"index": 2, "relevance_score": 0.5}])
        );
    }

    #[test]
    fn images_and_moderations_answer_in_openai_shape() {
        let out = image_generation(&json!({"model": "gpt-image-1", "prompt": "cat", "n": 2}))
            .expect("answer");
        assert_eq!(out["data"].as_array().map(Vec::len), Some(2));
        assert_eq!(out["usage"]["output_tokens"], 2112);
        let out = moderation(&json!({"input": ["hi", "I will kill it"]})).expect("answer");
        assert_eq!(out["results"][0]["flagged"], false);
        assert_eq!(out["results"][1]["flagged"], true);
    }
}
