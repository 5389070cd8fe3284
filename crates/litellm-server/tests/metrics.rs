//! `GET /metrics`: auth by default, LiteLLM's metric names and labels after successful,
//! streamed and failed calls, per-deployment state, budgets, and the cache counters.
#![allow(clippy::unwrap_used)]

mod common;

use common::Proxy;
use serde_json::json;

use litellm_test_support::{FakeOpenAi, Scripted};

const MASTER: &str = "sk-master-1234";

fn config(base: &str, extra: &str) -> String {
    format!(
        "model_list:\n  - model_name: gpt\n    litellm_params:\n      model: openai/upstream-model\n      api_base: {base}\n      api_key: sk-upstream\n      input_cost_per_token: 0.5\n      output_cost_per_token: 1.0\n    model_info:\n      id: dep-1\ngeneral_settings:\n  master_key: {MASTER}\n{extra}"
    )
}

fn bearer() -> (&'static str, String) {
    ("authorization", format!("Bearer {MASTER}"))
}

/// The sum of the samples of `name` whose labels include every `labels` pair.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let (label_part, value) = match rest.strip_prefix('{') {
            Some(r) => match r.rsplit_once("} ") {
                Some((l, v)) => (l, v),
                None => continue,
            },
            None => match rest.strip_prefix(' ') {
                Some(v) => ("", v),
                None => continue,
            },
        };
        if labels
            .iter()
            .all(|(k, v)| label_part.contains(&format!("{k}=\"{v}\"")))
        {
            let v: f64 = value.trim().parse().unwrap();
            *found.get_or_insert(0.0) += v;
        }
    }
    found
}

/// A metric name, label pairs its samples must carry, and the expected sum of those samples.
type SampleCase<'a> = (&'a str, &'a [(&'a str, &'a str)], Option<f64>);

/// Asserts each `(name, labels, expected)`: the sum of the samples of `name` whose labels
/// include every `labels` pair ([`sample`]) is `expected`.
fn assert_samples(text: &str, cases: &[SampleCase<'_>]) {
    for &(name, labels, expected) in cases {
        assert_eq!(
            sample(text, name, labels),
            expected,
            "{name} {labels:?} in\n{text}"
        );
    }
}

/// A fake OpenAI whose next answer is `reply` and a proxy over it ([`config`] with `extra`).
async fn proxy_answering(reply: Scripted, extra: &str) -> (FakeOpenAi, Proxy) {
    let fake = FakeOpenAi::start().await;
    fake.push(reply);
    let p = Proxy::new(&config(&fake.base_url(), extra)).await;
    (fake, p)
}

async fn scrape(p: &Proxy) -> String {
    let (k, v) = bearer();
    let r = p.get("/metrics", &[(k, &v)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.text
}

#[tokio::test]
async fn metrics_need_an_admin_key_by_default() {
    let fake = FakeOpenAi::start().await;
    let p = Proxy::new(&config(&fake.base_url(), "")).await;
    let r = p.get("/metrics", &[]).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.text.contains("metrics endpoint"), "{}", r.text);
    let r = p
        .get("/metrics", &[("authorization", "Bearer sk-wrong")])
        .await;
    assert_eq!(r.status, 401);
    assert!(!r.text.contains("sk-wrong"), "{}", r.text);
    // A valid key that is not an admin's: the labels name other tenants.
    let key = p.new_key_as(MASTER, json!({})).await;
    let r = p
        .get("/metrics", &[("authorization", &format!("Bearer {key}"))])
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("admin key"), "{}", r.text);
    let (k, v) = bearer();
    let r = p.get("/metrics", &[(k, &v)]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    // Families appear with their first sample; these two have one from the start.
    assert!(
        r.text.contains("# TYPE litellm_deployment_state gauge"),
        "{}",
        r.text
    );
    assert!(r.text.contains("# TYPE litellm_in_flight_requests gauge"));
    // Deployments start healthy; the scrape itself is in flight.
    assert_eq!(
        sample(
            &r.text,
            "litellm_deployment_state",
            &[("model_id", "dep-1")]
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(&r.text, "litellm_in_flight_requests", &[]),
        Some(1.0)
    );
}

#[tokio::test]
async fn the_auth_requirement_can_be_turned_off_in_either_section() {
    let fake = FakeOpenAi::start().await;
    for extra in [
        "litellm_settings:\n  require_auth_for_metrics_endpoint: false\n",
        "  require_auth_for_metrics_endpoint: false\n",
    ] {
        let yaml = config(&fake.base_url(), extra);
        let loaded = litellm_server::parse_config(&yaml).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let p = Proxy::new(&yaml).await;
        assert_eq!(p.get("/metrics", &[]).await.status, 200, "{extra}");
    }
}

#[tokio::test]
async fn a_successful_call_is_counted_with_litellm_labels() {
    let (_fake, p) = proxy_answering(Scripted::reply_with_usage("hello", 10, 5), "").await;
    let (k, v) = bearer();
    let r = p
        .post_raw(
            "/v1/chat/completions",
            serde_json::to_vec(&json!({"model": "gpt", "user": "end-user-7",
                "messages": [{"role": "user", "content": "hi"}]}))
            .unwrap(),
            &[(k, &v), ("user-agent", "test-agent/1")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let text = scrape(&p).await;
    let ok = [
        ("requested_model", "gpt"),
        ("status_code", "200"),
        ("route", "/v1/chat/completions"),
        ("end_user", "end-user-7"),
        ("user_agent", "test-agent/1"),
        ("model_id", "dep-1"),
    ];
    assert_samples(
        &text,
        &[
            ("litellm_proxy_total_requests_metric_total", &ok, Some(1.0)),
            ("litellm_proxy_failed_requests_metric_total", &[], None),
        ],
    );
    let model = [("model", "upstream-model"), ("model_id", "dep-1")];
    assert_samples(
        &text,
        &[
            (
                "litellm_requests_metric_total",
                &[("model", "upstream-model"), ("api_provider", "openai")],
                Some(1.0),
            ),
            ("litellm_input_tokens_metric_total", &model, Some(10.0)),
            ("litellm_output_tokens_metric_total", &model, Some(5.0)),
            ("litellm_total_tokens_metric_total", &model, Some(15.0)),
            // 10 * 0.5 + 5 * 1.0
            ("litellm_spend_metric_total", &model, Some(10.0)),
        ],
    );
    let dep = [
        ("litellm_model_name", "openai/upstream-model"),
        ("model_id", "dep-1"),
        ("api_provider", "openai"),
        ("requested_model", "gpt"),
    ];
    assert_samples(
        &text,
        &[
            (
                "litellm_deployment_success_responses_total",
                &dep,
                Some(1.0),
            ),
            (
                "litellm_deployment_state",
                &[("model_id", "dep-1")],
                Some(0.0),
            ),
            ("litellm_llm_api_latency_metric_count", &model, Some(1.0)),
            (
                "litellm_request_total_latency_metric_count",
                &[("requested_model", "gpt")],
                Some(1.0),
            ),
            (
                "litellm_overhead_latency_metric_count",
                &[("model_group", "gpt")],
                Some(1.0),
            ),
            (
                "litellm_llm_api_time_to_first_token_metric_count",
                &[],
                None,
            ),
        ],
    );
    // The master key's hash labels the call; the key itself never appears.
    assert!(!text.contains(MASTER));
    assert!(!text.contains("sk-upstream"));
}

#[tokio::test]
async fn a_stream_records_time_to_first_token_and_its_usage() {
    let (_fake, p) = proxy_answering(Scripted::reply_with_usage("streamed words", 7, 3), "").await;
    let r = p
        .post_as(
            MASTER,
            "/v1/chat/completions",
            json!({"model": "gpt", "stream": true,
                "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("[DONE]"));
    let text = scrape(&p).await;
    let model = [("model", "upstream-model")];
    assert_samples(
        &text,
        &[
            (
                "litellm_llm_api_time_to_first_token_metric_count",
                &model,
                Some(1.0),
            ),
            ("litellm_llm_api_latency_metric_count", &model, Some(1.0)),
            ("litellm_input_tokens_metric_total", &model, Some(7.0)),
            ("litellm_output_tokens_metric_total", &model, Some(3.0)),
            (
                "litellm_proxy_total_requests_metric_total",
                &[("status_code", "200")],
                Some(1.0),
            ),
        ],
    );
}

#[tokio::test]
async fn failures_are_counted_per_proxy_request_and_per_deployment() {
    let fake = FakeOpenAi::start().await;
    fake.set_default(Scripted::error(429, "slow down", "rate_limit_error", None));
    let yaml = config(
        &fake.base_url(),
        "router_settings:\n  num_retries: 0\n  allowed_fails: 0\n  cooldown_time: 30\n",
    );
    let p = Proxy::new(&yaml).await;
    let (k, v) = bearer();
    let body = serde_json::to_vec(
        &json!({"model": "gpt", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .unwrap();
    let r = p
        .post_raw("/v1/chat/completions", body.clone(), &[(k, &v)])
        .await;
    assert_eq!(r.status, 429, "{}", r.text);
    // No key at all: an auth failure, counted too.
    let r = p.post_raw("/v1/chat/completions", body, &[]).await;
    assert_eq!(r.status, 401);
    let text = scrape(&p).await;
    assert_samples(
        &text,
        &[
            (
                "litellm_proxy_failed_requests_metric_total",
                &[
                    ("exception_status", "429"),
                    ("exception_class", "RateLimitError"),
                    ("requested_model", "gpt"),
                ],
                Some(1.0),
            ),
            (
                "litellm_proxy_failed_requests_metric_total",
                &[
                    ("exception_status", "401"),
                    ("exception_class", "AuthenticationError"),
                ],
                Some(1.0),
            ),
            ("litellm_proxy_total_requests_metric_total", &[], Some(2.0)),
            (
                "litellm_deployment_failure_responses_total",
                &[
                    ("model_id", "dep-1"),
                    ("exception_status", "429"),
                    ("exception_class", "Openai.RateLimitError"),
                ],
                Some(1.0),
            ),
        ],
    );
    // allowed_fails 0: the failure put the deployment in cooldown, a complete outage.
    assert_samples(
        &text,
        &[
            (
                "litellm_deployment_state",
                &[("model_id", "dep-1")],
                Some(2.0),
            ),
            ("litellm_requests_metric_total", &[], None),
        ],
    );
}

#[tokio::test]
async fn a_failure_without_cooldown_is_a_partial_outage() {
    let (_fake, p) = proxy_answering(
        Scripted::error(500, "boom", "server_error", None),
        "router_settings:\n  num_retries: 0\n",
    )
    .await;
    let r = p.chat(MASTER, "gpt").await;
    assert_eq!(r.status, 500, "{}", r.text);
    let text = scrape(&p).await;
    assert_eq!(
        sample(&text, "litellm_deployment_state", &[("model_id", "dep-1")]),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test]
async fn a_virtual_key_reports_its_remaining_budget() {
    let (_fake, p) = proxy_answering(Scripted::reply_with_usage("hello", 2, 2), "").await;
    let key = p
        .new_key_as(
            MASTER,
            json!({"key_alias": "budgeted", "max_budget": 100.0}),
        )
        .await;
    let r = p.chat(&key, "gpt").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let text = scrape(&p).await;
    // Spent 2 * 0.5 + 2 * 1.0 = 3 of 100.
    assert_eq!(
        sample(
            &text,
            "litellm_remaining_api_key_budget_metric",
            &[("api_key_alias", "budgeted")]
        ),
        Some(97.0),
        "{text}"
    );
    let hash = litellm_auth::hash_token(&key);
    assert_eq!(
        sample(
            &text,
            "litellm_requests_metric_total",
            &[("hashed_api_key", &hash), ("api_key_alias", "budgeted")]
        ),
        Some(1.0)
    );
    assert!(!text.contains(&key));
}

#[tokio::test]
async fn the_cache_counters_can_be_fed() {
    let fake = FakeOpenAi::start().await;
    let p = Proxy::new(&config(&fake.base_url(), "")).await;
    p.state.metrics.record_cache_hit("gpt", Some("dep-1"));
    p.state.metrics.record_cache_hit("gpt", Some("dep-1"));
    p.state.metrics.record_cache_miss("gpt", None);
    let text = scrape(&p).await;
    assert_samples(
        &text,
        &[
            (
                "litellm_cache_hits_metric_total",
                &[("model", "gpt"), ("model_id", "dep-1")],
                Some(2.0),
            ),
            (
                "litellm_cache_misses_metric_total",
                &[("model", "gpt"), ("model_id", "None")],
                Some(1.0),
            ),
        ],
    );
}

/// Labels a client chooses cannot grow `/metrics`: paths the app does not serve are not
/// counted, the `route` label is the matched template, user agents are clipped, a forwarded
/// address must be an address, and once a family holds its most series, new label sets go to
/// its one `other` series (counted in `litellm_rs_metric_series_overflow_total`).
#[tokio::test]
async fn client_chosen_labels_cannot_grow_the_metrics() {
    let fake = FakeOpenAi::start().await;
    let p = Proxy::new(&config(&fake.base_url(), "")).await;
    let body = serde_json::to_vec(&json!({"model": "gpt",
        "messages": [{"role": "user", "content": "hi"}]}))
    .unwrap();
    // Unknown paths ending like an LLM route, without a key, with huge user agents.
    let huge = "A".repeat(8 * 1024);
    for i in 0..20 {
        let path = format!("/x{i}/chat/completions");
        let r = p
            .post_raw(&path, body.clone(), &[("user-agent", &huge)])
            .await;
        assert_eq!(r.status, 404, "{}", r.text);
    }
    let text = scrape(&p).await;
    assert!(!text.contains("/x1/"), "{text}");
    assert!(!text.contains(&huge[..200]), "an 8 KB user agent was kept");

    // The route label is the template; the user agent is clipped; a bogus address is dropped.
    let (k, v) = bearer();
    let r = p
        .post_raw(
            "/openai/deployments/gpt/chat/completions",
            body.clone(),
            &[
                (k, &v),
                ("user-agent", &huge),
                ("x-forwarded-for", "not-an-ip"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let text = scrape(&p).await;
    let route = ("route", "/openai/deployments/{model}/chat/completions");
    let clipped = "A".repeat(128);
    let ua = ("user_agent", clipped.as_str());
    assert_samples(
        &text,
        &[(
            "litellm_proxy_total_requests_metric_total",
            &[route, ua, ("client_ip", "None")],
            Some(1.0),
        )],
    );

    // A family holds at most its cap of series; the rest are counted under `other`.
    p.state.metrics.set_series_cap(3);
    for i in 0..10 {
        let agent = format!("agent-{i}");
        let ip = format!("10.0.0.{i}");
        let r = p
            .post_raw(
                "/v1/chat/completions",
                body.clone(),
                &[(k, &v), ("user-agent", &agent), ("x-forwarded-for", &ip)],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let text = scrape(&p).await;
    let series = text
        .lines()
        .filter(|l| l.starts_with("litellm_proxy_total_requests_metric_total{"))
        .count();
    assert!(series <= 4, "{series} series:\n{text}");
    let other = [("user_agent", "other"), ("client_ip", "other")];
    let in_other = sample(&text, "litellm_proxy_total_requests_metric_total", &other).unwrap();
    assert!(in_other >= 8.0, "{in_other} in the other series");
    let overflowed = sample(&text, "litellm_rs_metric_series_overflow_total", &[]).unwrap();
    assert!(overflowed >= 8.0, "{overflowed}");
}
