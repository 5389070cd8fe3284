//! In-process tests of the JSON endpoint families on the one pipeline, against fakes speaking
//! the providers' formats: rerank (`/v1/rerank`, `/v2/rerank`, Cohere v2 upstream), moderations
//! and image generation (OpenAI upstream): what goes upstream, what comes back, the cost (per
//! query, per pixel by size and quality, per token), the spend record's `call_type`, retries,
//! and the refusals (a provider or a `model_info.mode` that cannot serve the family, bad input)
//! with nothing sent upstream.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

use litellm_test_support::{FakeCohere, FakeOpenAi, Scripted};

/// A fake OpenAI, a fake Cohere, and a proxy with `rerank` (Cohere), `mod` (OpenAI
/// moderations), `img` (DALL·E 3), `gpt-image` (token-priced images), `gpt` (a chat model) and
/// `chat-only` (a mock declared `mode: chat`).
async fn env() -> (FakeOpenAi, FakeCohere, Proxy) {
    let openai = FakeOpenAi::start().await;
    let cohere = FakeCohere::start().await;
    let o = openai.base_url();
    let c = cohere.base_url();
    let entry = |name: &str, model: &str, base: &str, extra: &str| {
        format!(
            "  - model_name: {name}\n    litellm_params:\n      model: {model}\n      \
             api_base: {base}\n      api_key: sk-test\n      num_retries: 0\n{extra}"
        )
    };
    let models = [
        entry("rerank", "cohere/rerank-v3.5", &c, ""),
        entry("mod", "openai/omni-moderation-latest", &o, ""),
        entry("img", "openai/dall-e-3", &o, ""),
        entry("gpt-image", "openai/gpt-image-1", &o, ""),
        entry("gpt", "openai/gpt-4o", &o, ""),
        "  - model_name: chat-only\n    litellm_params:\n      model: mock/m\n    \
         model_info:\n      mode: chat\n"
            .to_string(),
    ]
    .concat();
    let proxy = Proxy::new(&config_yaml(&models, "", MASTER)).await;
    (openai, cohere, proxy)
}

fn cost(r: &Resp) -> f64 {
    r.parsed_header("x-litellm-response-cost")
}

#[tokio::test]
async fn rerank_goes_to_cohere_v2_and_is_billed_per_query() {
    let (_openai, cohere, proxy) = env().await;
    let r = proxy
        .post_as(
            MASTER,
            "/v2/rerank",
            json!({"model": "rerank", "query": "capital of France",
                   "documents": ["Berlin is in Germany", {"text": "Paris is the capital of France"},
                                 "France grows wine"],
                   "top_n": 2, "return_documents": true,
                   "metadata": {"tags": ["search"]}, "num_retries": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let b = r.json();
    assert_eq!(
        b["results"],
        json!([
            {"index": 1, "relevance_score": 1.0, "document": {"text": "Paris is the capital of France"}},
            {"index": 2, "relevance_score": 1.0 / 3.0, "document": {"text": "France grows wine"}}
        ])
    );
    assert_eq!(b["meta"]["billed_units"]["search_units"], 1);
    // rerank-v3.5: $0.002 per search unit (built-in price table).
    assert!((cost(&r) - 0.002).abs() < 1e-12, "{}", cost(&r));

    let sent = &cohere.requests()[0];
    assert_eq!(sent.path, "/v2/rerank");
    assert_eq!(
        sent.body,
        json!({"model": "rerank-v3.5", "query": "capital of France",
               "documents": ["Berlin is in Germany", "Paris is the capital of France",
                             "France grows wine"], "top_n": 2})
    );
    let rows = proxy.flushed_spend_logs(1).await;
    assert_eq!(rows[0].call_type, "arerank");
    assert!((rows[0].spend - 0.002).abs() < 1e-12);
}

#[tokio::test]
async fn moderations_pass_through_openai_with_the_default_model_name() {
    let (openai, _cohere, proxy) = env().await;
    let r = proxy
        .post_as(
            MASTER,
            "/v1/moderations",
            json!({"model": "mod", "input": ["hello", "I will kill the process"],
                   "metadata": {"a": 1}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let b = r.json();
    assert_eq!(b["results"][0]["flagged"], false);
    assert_eq!(b["results"][1]["flagged"], true);
    assert_eq!(b["results"][1]["categories"]["violence"], true);
    let sent = &openai.requests()[0];
    assert_eq!(sent.path, "/v1/moderations");
    assert_eq!(
        sent.body,
        json!({"model": "omni-moderation-latest", "input": ["hello", "I will kill the process"]})
    );
    assert_eq!(cost(&r), 0.0);
    let rows = proxy.flushed_spend_logs(1).await;
    assert_eq!(rows[0].call_type, "amoderation");

    // Without `model` the request asks for `omni-moderation-latest`, which this proxy does not
    // serve: a 400 naming the model.
    let r = proxy
        .post_as(MASTER, "/moderations", json!({"input": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("omni-moderation-latest"), "{}", r.text);
}

#[tokio::test]
async fn images_are_priced_per_pixel_by_size_and_quality() {
    let (openai, _cohere, proxy) = env().await;
    let r = proxy
        .post_as(
            MASTER,
            "/v1/images/generations",
            json!({"model": "img", "prompt": "a lighthouse", "n": 2, "size": "1024x1792",
                   "quality": "hd", "response_format": "url", "user": "u-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let b = r.json();
    assert_eq!(b["data"].as_array().unwrap().len(), 2);
    assert_eq!(b["data"][0]["url"], "https://fake-images.example/0.png");
    assert_eq!(b["data"][0]["revised_prompt"], "A picture of a lighthouse");
    // hd/1024-x-1792/dall-e-3 is $0.12 an image.
    assert!((cost(&r) - 0.24).abs() < 1e-9, "{}", cost(&r));
    let sent = &openai.requests()[0];
    assert_eq!(sent.path, "/v1/images/generations");
    assert_eq!(
        sent.body,
        json!({"model": "dall-e-3", "prompt": "a lighthouse", "n": 2, "size": "1024x1792",
               "quality": "hd", "response_format": "url", "user": "u-1"})
    );
    let rows = proxy.flushed_spend_logs(1).await;
    assert_eq!(rows[0].call_type, "aimage_generation");
    assert!((rows[0].spend - 0.24).abs() < 1e-9);

    // The Azure-style path names the model; gpt-image-1 bills its tokens.
    let r = proxy
        .post_as(
            MASTER,
            "/openai/deployments/gpt-image/images/generations",
            json!({"prompt": "a cat"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["usage"]["output_tokens"], 1056);
    // 2 input tokens × $5/M + 1056 output tokens × $40/M
    assert!(
        (cost(&r) - (2.0 * 5e-6 + 1056.0 * 4e-5)).abs() < 1e-12,
        "{}",
        cost(&r)
    );
}

#[tokio::test]
async fn an_upstream_failure_is_retried_like_any_call() {
    let (openai, _cohere, proxy) = env().await;
    openai.push(Scripted::error(429, "Rate limit reached", "requests", None));
    let r = proxy
        .post_as(
            MASTER,
            "/v1/images/generations",
            json!({"model": "img", "prompt": "x", "num_retries": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("x-litellm-attempted-retries"), Some("1"));
    assert_eq!(openai.request_count(), 2);
    // No num_retries: the upstream's 429 reaches the client in OpenAI's shape.
    openai.push(Scripted::error(429, "Rate limit reached", "requests", None));
    let r = proxy
        .post_as(
            MASTER,
            "/v1/moderations",
            json!({"model": "mod", "input": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert!(
        error_field(&r, "message").contains("Rate limit reached"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_family_the_deployment_cannot_serve_is_refused_before_anything_is_sent() {
    let (openai, cohere, proxy) = env().await;
    let cases = [
        (
            "/v1/rerank",
            json!({"model": "gpt", "query": "q", "documents": ["a"]}),
            "openai deployments do not serve rerank",
        ),
        (
            "/v1/moderations",
            json!({"model": "rerank", "input": "x"}),
            "cohere deployments do not serve moderations",
        ),
        (
            "/v1/images/generations",
            json!({"model": "chat-only", "prompt": "x"}),
            "is a chat model (model_info.mode), not image_generation",
        ),
        (
            "/v1/rerank",
            json!({"model": "rerank", "documents": ["a"]}),
            "query must be a non-empty string",
        ),
        (
            "/v1/rerank",
            json!({"model": "rerank", "query": "q", "documents": ["a"], "top_n": 0}),
            "top_n must be a positive integer",
        ),
        (
            "/v1/images/generations",
            json!({"model": "img", "prompt": "x", "n": 11}),
            "n must be an integer from 1 to 10",
        ),
        (
            "/v1/images/generations",
            json!({"model": "img", "prompt": "x", "response_format": "png"}),
            "response_format must be 'url' or 'b64_json'",
        ),
        (
            "/v1/moderations",
            json!({"model": "mod"}),
            "input must be a string",
        ),
    ];
    for (path, body, message) in cases {
        let r = proxy.post_as(MASTER, path, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {}",
            r.text
        );
        let got = error_field(&r, "message");
        assert!(got.contains(message), "{path} {body}: {got}");
    }
    assert_eq!(openai.request_count(), 0);
    assert_eq!(cohere.requests().len(), 0);
}
