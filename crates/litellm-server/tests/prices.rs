//! Cost from the built-in price table through the proxy: a priced model served by `FakeOpenAi`
//! gets `x-litellm-response-cost` equal to the hand-computed cost of its scripted usage (cached
//! tokens at the cache price) and the same spend recorded; per-deployment prices win; an
//! unpriced model costs 0 without failing; `/model/info` shows prices without secrets.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use axum::http::StatusCode;
use common::*;
use litellm_test_support::{FakeOpenAi, Scripted};
use serde_json::{json, Value};

/// A chat completion whose usage has `cached` of `prompt` tokens from the cache and
/// `reasoning` of `completion` tokens spent reasoning (OpenAI's wire format).
fn completion_with_usage(prompt: u64, cached: u64, completion: u64, reasoning: u64) -> Scripted {
    Scripted::status(
        200,
        json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                         "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": reasoning}
            }
        }),
    )
}

fn config(base: &str, extra_params: &str) -> String {
    format!(
        "model_list:\n  - model_name: mini\n    litellm_params:\n      model: openai/gpt-4o-mini\n      \
         api_base: {base}\n      api_key: sk-upstream-secret\n{extra_params}\
         \n  - model_name: private\n    litellm_params:\n      model: openai/my-private-finetune\n      \
         api_base: {base}\n      api_key: sk-upstream-secret\n"
    )
}

async fn chat(p: &Proxy, model: &str) -> Resp {
    p.ask(model, "hi").await
}

fn response_cost(r: &Resp) -> f64 {
    r.parsed_header("x-litellm-response-cost")
}

fn assert_usd(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= expected.abs() * 1e-9,
        "cost {actual} != {expected}"
    );
}

#[tokio::test]
async fn a_priced_model_is_billed_from_the_table_with_cached_tokens_at_the_cache_price() {
    let fake = FakeOpenAi::start().await;
    fake.push(completion_with_usage(1000, 400, 500, 200));
    let p = Proxy::new(&config(&fake.base_url(), "")).await;
    let r = chat(&p, "mini").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // gpt-4o-mini: $0.15/M input, $0.075/M cached input, $0.60/M output (reasoning tokens are
    // part of the 500 completion tokens and have no price of their own):
    // 600 × 0.15e-6 + 400 × 0.075e-6 + 500 × 0.6e-6 = 0.00009 + 0.00003 + 0.0003
    let expected = 0.00042;
    assert_usd(response_cost(&r), expected);
    assert_eq!(r.header("x-litellm-response-cost"), Some("0.00042"));
    let rows = p.flushed_spend_logs(1).await;
    assert_eq!(rows.len(), 1);
    assert_usd(rows[0].spend, expected);
    assert_eq!(
        (rows[0].prompt_tokens, rows[0].completion_tokens),
        (1000, 500)
    );
}

#[tokio::test]
async fn deployment_prices_win_over_the_table_field_by_field() {
    let fake = FakeOpenAi::start().await;
    fake.push(completion_with_usage(1000, 400, 500, 0));
    let p = Proxy::new(&config(
        &fake.base_url(),
        "      cache_read_input_token_cost: 0.0\n    model_info:\n      output_cost_per_token: 0.000001\n",
    ))
    .await;
    let r = chat(&p, "mini").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Input from the table, cache reads free (litellm_params), output $1/M (model_info):
    // 600 × 0.15e-6 + 0 + 500 × 1e-6 = 0.00009 + 0.0005
    assert_usd(response_cost(&r), 0.00059);
    // The price keys are ours, never sent upstream.
    let sent = &fake.requests()[0].body;
    assert!(sent.get("cache_read_input_token_cost").is_none(), "{sent}");
}

#[tokio::test]
async fn an_unpriced_model_costs_nothing_and_is_served() {
    let fake = FakeOpenAi::start().await;
    fake.push(Scripted::reply_with_usage("hi", 100, 20));
    fake.push(Scripted::reply_with_usage("hi", 100, 20));
    let p = Proxy::new(&config(&fake.base_url(), "")).await;
    for _ in 0..2 {
        let r = chat(&p, "private").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.header("x-litellm-response-cost"), Some("0.0"));
    }
    let rows = p.flushed_spend_logs(2).await;
    assert!(rows.iter().all(|row| row.spend == 0.0));
}

#[tokio::test]
async fn model_info_lists_prices_and_context_windows_without_secrets() {
    let fake = FakeOpenAi::start().await;
    let yaml = config(
        &fake.base_url(),
        "      input_cost_per_token: 0.000002\n    model_info:\n      id: mini-1\n",
    )
        + "  - model_name: signed\n    litellm_params:\n      model: openai/gpt-4o\n      \
           api_base: https://example.invalid/v1?sig=query-secret\n      \
           aws_secret_access_key: aws-secret-value\n";
    let p = Proxy::new(&yaml).await;
    for path in ["/model/info", "/v1/model/info"] {
        let r = p.get(path, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(!r.text.contains("sk-upstream-secret"), "{}", r.text);
        assert!(!r.text.contains("query-secret"), "{}", r.text);
        assert!(!r.text.contains("aws-secret-value"), "{}", r.text);
        let body = r.json();
        let data = body["data"].as_array().unwrap();
        assert_eq!(data.len(), 3);
        assert_eq!(
            data[2]["litellm_params"]["api_base"],
            "https://example.invalid/v1"
        );
        let mini = &data[0];
        assert_eq!(mini["model_name"], "mini");
        assert_eq!(mini["litellm_params"]["model"], "openai/gpt-4o-mini");
        assert_eq!(mini["litellm_params"]["input_cost_per_token"], 0.000002);
        let info = &mini["model_info"];
        assert_eq!(info["id"], "mini-1");
        // The deployment's own price wins; the rest comes from the table.
        assert_eq!(info["input_cost_per_token"], 0.000002);
        assert_eq!(info["output_cost_per_token"], 6e-7);
        assert_eq!(info["cache_read_input_token_cost"], 7.5e-8);
        assert_eq!(info["max_input_tokens"], 128000);
        assert_eq!(info["max_output_tokens"], 16384);
        assert_eq!(info["litellm_provider"], "openai");
        assert_eq!(info["mode"], "chat");
        let private = &data[1];
        assert_eq!(private["model_info"]["input_cost_per_token"], Value::Null);
        assert_eq!(private["model_info"]["litellm_provider"], "openai");
        assert!(private["litellm_params"].get("api_key").is_none());
    }
    let one = p
        .get("/model/info?litellm_model_id=mini-1", &[])
        .await
        .json();
    assert_eq!(one["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn model_info_needs_a_key_when_a_master_key_is_set() {
    let yaml =
        "model_list:\n  - model_name: m\n    litellm_params:\n      model: openai/gpt-4o\n      \
                mock_response: hi\ngeneral_settings:\n  master_key: sk-master-0123\n";
    let p = Proxy::new(yaml).await;
    assert_eq!(
        p.get("/model/info", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = p
        .get("/model/info", &[("authorization", "Bearer sk-master-0123")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json()["data"][0]["model_info"]["input_cost_per_token"],
        2.5e-6
    );
}

#[test]
fn model_cost_map_path_is_a_known_setting() {
    let loaded = litellm_server::parse_config(
        "litellm_settings:\n  model_cost_map_path: /etc/litellm/prices.json\n",
    )
    .unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(
        loaded
            .config
            .litellm_settings
            .model_cost_map_path
            .as_deref(),
        Some(std::path::Path::new("/etc/litellm/prices.json"))
    );
}

#[tokio::test]
async fn cost_based_routing_uses_the_table() {
    // Neither deployment configures a price: the table has both, and gpt-4o-mini is cheaper.
    let yaml = "model_list:\n\
        \x20 - model_name: g\n    litellm_params:\n      model: openai/gpt-4o\n      mock_response: hi\n    model_info:\n      id: big\n\
        \x20 - model_name: g\n    litellm_params:\n      model: openai/gpt-4o-mini\n      mock_response: hi\n    model_info:\n      id: mini\n\
        router_settings:\n  routing_strategy: cost-based-routing\n";
    let p = Proxy::new(yaml).await;
    for _ in 0..10 {
        let r = chat(&p, "g").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.header("x-litellm-model-id"), Some("mini"));
    }
}

#[tokio::test]
async fn pre_call_checks_use_the_table_context_window() {
    // No model_info.max_input_tokens: gpt-3.5-turbo's window (16385) and gpt-4o-mini's
    // (128000) come from the table, so a ~20k-token prompt only fits gpt-4o-mini.
    let yaml = "model_list:\n\
        \x20 - model_name: g\n    litellm_params:\n      model: openai/gpt-3.5-turbo\n      mock_response: hi\n    model_info:\n      id: turbo\n\
        \x20 - model_name: g\n    litellm_params:\n      model: openai/gpt-4o-mini\n      mock_response: hi\n    model_info:\n      id: wide\n\
        router_settings:\n  enable_pre_call_checks: true\n";
    let p = Proxy::new(yaml).await;
    let long = "hello ".repeat(20_000);
    for _ in 0..10 {
        let r = p.ask("g", long.as_str()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.header("x-litellm-model-id"), Some("wide"));
    }
}
