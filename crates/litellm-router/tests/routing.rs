//! Router behaviour with scripted backends: deployment choice, retries, backoff, timeouts,
//! streams that fail before their first chunk, aliases, and the weighted shuffle's statistics.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use litellm_router::*;

mod common;
use common::*;

/// A router (default settings) whose group `g` has two deployments, ids `a` and `b`.
fn group_g_of(a: &Arc<Scripted>, b: &Arc<Scripted>) -> Router {
    router(
        vec![
            (config("g", "a", |_| {}), a.clone()),
            (config("g", "b", |_| {}), b.clone()),
        ],
        RouterSettings::default(),
    )
}

#[tokio::test]
async fn a_retry_lands_on_the_other_deployment() {
    // `a` always fails with a 500, `b` always answers. Whenever `a` is picked first, the retry
    // must go to `b` (never back to `a`), so every call succeeds with at most one retry.
    let mut a_first = 0;
    for _ in 0..40 {
        let a = Scripted::new("a", vec![Step::Fail(ErrorKind::InternalServer); 10]);
        let b = Scripted::new("b", vec![]);
        let r = group_g_of(&a, &b);
        let out = r.completion(req("g")).await.unwrap();
        assert_eq!(out.route.deployment_id, "b");
        assert!(a.calls() <= 1, "the failed deployment is not retried");
        assert_eq!(out.route.attempted_retries, a.calls());
        assert_eq!(b.calls(), 1);
        a_first += a.calls();
        assert_eq!(out.route.model_group, "g");
        assert_eq!(
            out.route.upstream_headers,
            vec![(
                "x-ratelimit-remaining-requests".to_string(),
                "9".to_string()
            )]
        );
    }
    assert!(
        a_first > 0,
        "with 40 draws `a` is picked first at least once"
    );
}

#[tokio::test]
async fn non_retryable_errors_are_returned_at_once() {
    for kind in [
        ErrorKind::BadRequest,
        ErrorKind::NotFound,
        ErrorKind::ContextWindowExceeded,
        ErrorKind::ContentPolicyViolation,
    ] {
        let (a, r) = single(vec![Step::Fail(kind)], RouterSettings::default());
        let err = r.completion(req("g")).await.unwrap_err();
        assert_eq!(err.error.kind, kind);
        assert_eq!(a.calls(), 1, "{kind:?} must not be retried");
        assert_eq!(err.route.unwrap().deployment_id, "a");
    }
}

#[tokio::test]
async fn retries_stop_after_num_retries() {
    let a = Scripted::new("a", vec![Step::Fail(ErrorKind::RateLimited); 10]);
    let settings = RouterSettings {
        num_retries: 3,
        ..Default::default()
    };
    let r = router(vec![(config("g", "a", |_| {}), a.clone())], settings);
    let err = r.completion(req("g")).await.unwrap_err();
    assert_eq!(err.error.kind, ErrorKind::RateLimited);
    assert_eq!(a.calls(), 4, "1 attempt + 3 retries");
    assert_eq!(err.route.unwrap().attempted_retries, 3);
}

#[tokio::test]
async fn deployment_num_retries_overrides_the_router_default() {
    let a = Scripted::new("a", vec![Step::Fail(ErrorKind::Timeout); 10]);
    let r = router(
        vec![(config("g", "a", |p| p.num_retries = Some(0)), a.clone())],
        RouterSettings::default(),
    );
    r.completion(req("g")).await.unwrap_err();
    assert_eq!(a.calls(), 1);
}

#[tokio::test]
async fn auth_errors_retry_only_when_the_group_has_another_deployment() {
    let a = Scripted::new("a", vec![Step::Fail(ErrorKind::Authentication); 3]);
    let single = router(
        vec![(config("g", "a", |_| {}), a.clone())],
        RouterSettings::default(),
    );
    single.completion(req("g")).await.unwrap_err();
    assert_eq!(a.calls(), 1);

    let multi = |settings: RouterSettings| {
        let a = Scripted::new("a", vec![Step::Fail(ErrorKind::Authentication)]);
        let b = Scripted::new("b", vec![Step::Fail(ErrorKind::Authentication)]);
        let r = router(
            vec![
                (config("g", "a", |_| {}), a.clone()),
                (config("g", "b", |_| {}), b.clone()),
            ],
            settings,
        );
        (r, a, b)
    };
    // Without cooldowns: both fail once; the third attempt (retry 2) goes back to one of them
    // and succeeds.
    let (r, _, _) = multi(RouterSettings {
        disable_cooldowns: true,
        ..Default::default()
    });
    let out = r.completion(req("g")).await.unwrap();
    assert_eq!(out.route.attempted_retries, 2);
    // With cooldowns (the default), a 401 in a multi-deployment group cools that deployment
    // down at once: after both failed there is nothing left to retry, and the last error is
    // returned instead of calling a refused deployment again.
    let (r, a, b) = multi(RouterSettings::default());
    let err = r.completion(req("g")).await.unwrap_err();
    assert_eq!(err.error.kind, ErrorKind::Authentication);
    assert_eq!((a.calls(), b.calls()), (1, 1));
}

#[tokio::test]
async fn retry_after_from_the_upstream_is_honoured_on_a_single_deployment() {
    tokio::time::pause();
    let a = Scripted::new(
        "a",
        vec![Step::FailRetryAfter(
            ErrorKind::RateLimited,
            Duration::from_secs(7),
        )],
    );
    let r = router(
        vec![(config("g", "a", |_| {}), a.clone())],
        RouterSettings::default(),
    );
    let start = tokio::time::Instant::now();
    let out = r.completion(req("g")).await.unwrap();
    assert_eq!(out.route.attempted_retries, 1);
    assert!(
        start.elapsed() >= Duration::from_secs(7),
        "slept {:?}",
        start.elapsed()
    );
}

#[test]
fn backoff_is_exponential_clamped_and_honours_retry_after() {
    let b = Backoff {
        initial: Duration::from_millis(500),
        max: Duration::from_secs(8),
        jitter: Duration::ZERO,
    };
    assert_eq!(b.delay(0, None, Duration::ZERO), Duration::from_millis(500));
    assert_eq!(b.delay(2, None, Duration::ZERO), Duration::from_secs(2));
    assert_eq!(b.delay(10, None, Duration::ZERO), Duration::from_secs(8));
    assert_eq!(
        b.delay(0, None, Duration::from_secs(3)),
        Duration::from_secs(3),
        "router retry_after is the minimum"
    );
    assert_eq!(
        b.delay(0, Some(Duration::from_secs(20)), Duration::ZERO),
        Duration::from_secs(20)
    );
    assert_eq!(
        b.delay(0, Some(Duration::from_secs(120)), Duration::ZERO),
        Duration::from_millis(500),
        "retry-after over 60 s is ignored"
    );
    let jittered = Backoff {
        jitter: Duration::from_millis(750),
        ..b
    }
    .delay(0, None, Duration::ZERO);
    assert!(jittered >= Duration::from_millis(500) && jittered < Duration::from_millis(1250));
}

#[tokio::test]
async fn a_slow_deployment_times_out_with_408_and_the_retry_succeeds() {
    tokio::time::pause();
    let a = Scripted::new("a", vec![Step::Sleep(Duration::from_secs(30))]);
    let r = router(
        vec![(config("g", "a", |p| p.timeout = Some(2.0)), a.clone())],
        RouterSettings::default(),
    );
    let out = r.completion(req("g")).await.unwrap();
    assert_eq!(out.route.attempted_retries, 1);
    assert_eq!(
        out.response.choices[0].message.content.as_deref(),
        Some("default")
    );

    let a = Scripted::new("a", vec![Step::Sleep(Duration::from_secs(30)); 3]);
    let r = router(
        vec![(config("g", "a", |p| p.timeout = Some(2.0)), a.clone())],
        RouterSettings::default(),
    );
    let err = r.completion(req("g")).await.unwrap_err().error;
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert_eq!(err.status, Some(408));
    assert_eq!(a.calls(), 3);
}

#[tokio::test]
async fn a_stream_failing_before_its_first_chunk_is_retried_elsewhere() {
    let mut a_first = 0;
    for _ in 0..40 {
        let a = Scripted::new(
            "a",
            vec![Step::StreamFailsFirst(ErrorKind::ServiceUnavailable); 10],
        );
        let b = Scripted::new("b", vec![]);
        let r = group_g_of(&a, &b);
        let out = r.completion_stream(req("g")).await.unwrap();
        assert_eq!(out.route.deployment_id, "b");
        assert_eq!(out.route.attempted_retries, a.calls());
        a_first += a.calls();
        let chunks: Vec<_> = out.stream.collect().await;
        let text: String = chunks
            .into_iter()
            .map(|c| c.unwrap().choices[0].delta.content.clone().unwrap())
            .collect();
        assert_eq!(text, "default!", "first chunk is replayed, then the rest");
    }
    assert!(a_first > 0);
}

#[tokio::test]
async fn stream_timeout_bounds_the_wait_for_the_first_chunk() {
    tokio::time::pause();
    let a = Scripted::new("a", vec![Step::Sleep(Duration::from_secs(30)); 5]);
    let settings = RouterSettings {
        stream_timeout: Some(1.0),
        num_retries: 0,
        ..Default::default()
    };
    let r = router(vec![(config("g", "a", |_| {}), a.clone())], settings);
    let err = r.completion_stream(req("g")).await.unwrap_err().error;
    assert_eq!(err.kind, ErrorKind::Timeout);
}

#[tokio::test]
async fn unknown_models_are_a_400_naming_the_model() {
    let a = Scripted::new("a", vec![]);
    let r = router(
        vec![(config("g", "a", |_| {}), a)],
        RouterSettings::default(),
    );
    let err = r.completion(req("nope")).await.unwrap_err().error;
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.param.as_deref(), Some("model"));
    assert!(err.message.contains("model=nope"), "{}", err.message);
}

#[tokio::test]
async fn aliases_resolve_and_hidden_ones_are_not_listed() {
    let a = Scripted::new("a", vec![]);
    let mut alias = JsonMap::new();
    alias.insert("gpt-4".into(), serde_json::json!("g"));
    alias.insert(
        "secret".into(),
        serde_json::json!({"model": "g", "hidden": true}),
    );
    let settings = RouterSettings {
        model_group_alias: alias,
        ..Default::default()
    };
    let r = router(vec![(config("g", "a", |_| {}), a)], settings);
    assert_eq!(r.model_names(), vec!["g".to_string(), "gpt-4".to_string()]);
    assert_eq!(
        r.completion(req("secret")).await.unwrap().route.model_group,
        "g"
    );
    assert_eq!(
        r.completion(req("gpt-4")).await.unwrap().route.model_group,
        "g"
    );
}

#[tokio::test]
async fn an_alias_to_a_missing_group_is_rejected() {
    let a = Scripted::new("a", vec![]);
    let mut alias = JsonMap::new();
    alias.insert("x".into(), serde_json::json!("missing"));
    let err = Router::from_deployments(
        vec![Deployment::with_backend(config("g", "a", |_| {}), a)],
        RouterSettings {
            model_group_alias: alias,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(err.message.contains("missing"), "{}", err.message);
}

#[tokio::test]
async fn lower_order_tiers_are_used_first_and_higher_ones_on_failure() {
    let a = Scripted::new("a", vec![Step::Fail(ErrorKind::InternalServer)]);
    let b = Scripted::new("b", vec![]);
    let r = router(
        vec![
            (config("g", "b", |p| p.order = Some(2)), b.clone()),
            (config("g", "a", |p| p.order = Some(1)), a.clone()),
        ],
        RouterSettings::default(),
    );
    let out = r.completion(req("g")).await.unwrap();
    assert_eq!(a.calls(), 1, "order 1 first");
    assert_eq!(out.route.deployment_id, "b", "then order 2");
    // Healthy again: order 1 serves.
    assert_eq!(
        r.completion(req("g")).await.unwrap().route.deployment_id,
        "a"
    );
}

/// Draws `n` picks and returns the share of each deployment id.
fn shares(configs: Vec<DeploymentConfig>, n: usize) -> HashMap<String, f64> {
    let deployments: Vec<Deployment> = configs
        .into_iter()
        .map(|c| Deployment::with_backend(c, Scripted::new("x", vec![])))
        .collect();
    let refs: Vec<&Deployment> = deployments.iter().collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for _ in 0..n {
        let i = SimpleShuffle.pick(&refs).unwrap();
        *counts.entry(refs[i].id.clone()).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(k, v)| (k, v as f64 / n as f64))
        .collect()
}

#[test]
fn simple_shuffle_follows_weight_then_rpm_then_tpm_then_uniform() {
    let n = 40_000;
    // 4 standard deviations of a binomial share at n = 40k is under 0.01.
    let tol = 0.015;
    let s = shares(
        vec![
            config("g", "a", |p| {
                p.weight = Some(3.0);
                p.rpm = Some(1);
            }),
            config("g", "b", |p| {
                p.weight = Some(1.0);
                p.rpm = Some(1000);
            }),
        ],
        n,
    );
    assert!((s["a"] - 0.75).abs() < tol, "weight wins over rpm: {s:?}");

    let s = shares(
        vec![
            config("g", "a", |p| p.rpm = Some(100)),
            config("g", "b", |p| p.rpm = Some(900)),
        ],
        n,
    );
    assert!((s["b"] - 0.9).abs() < tol, "rpm as weight: {s:?}");

    let s = shares(
        vec![
            config("g", "a", |p| p.tpm = Some(1000)),
            config("g", "b", |p| p.tpm = Some(1000)),
            config("g", "c", |p| p.tpm = Some(2000)),
        ],
        n,
    );
    assert!((s["c"] - 0.5).abs() < tol, "tpm as weight: {s:?}");

    let s = shares(
        vec![
            config("g", "a", |_| {}),
            config("g", "b", |_| {}),
            config("g", "c", |_| {}),
            config("g", "d", |_| {}),
        ],
        n,
    );
    for id in ["a", "b", "c", "d"] {
        assert!((s[id] - 0.25).abs() < tol, "uniform: {s:?}");
    }

    // A deployment without the field in use weighs zero and is never drawn.
    let s = shares(
        vec![
            config("g", "a", |p| p.rpm = Some(10)),
            config("g", "b", |_| {}),
        ],
        2_000,
    );
    assert_eq!(s.get("b"), None, "{s:?}");
}

#[test]
fn deployment_ids_are_stable_and_ignore_credentials() {
    let mut a = config("g", "x", |p| {
        p.provider.api_base = Some("http://h/v1".into());
        p.provider.api_key = Some("sk-one".to_string().into());
    });
    a.model_info.id = None;
    let mut b = a.clone();
    b.litellm_params.provider.api_key = Some("sk-two".to_string().into());
    assert_eq!(deployment_id(&a), deployment_id(&b));
    assert_eq!(deployment_id(&a).len(), 32);
    let mut c = a.clone();
    c.litellm_params.provider.api_base = Some("http://other/v1".into());
    assert_ne!(deployment_id(&a), deployment_id(&c));
    let debug = format!("{:?}", a);
    assert!(!debug.contains("sk-one"), "Debug leaks the key: {debug}");
}

/// `[{"from": ["to", ...]}]`.
fn fb(from: &str, to: &[&str]) -> Vec<FallbackMap> {
    vec![FallbackMap::from([(
        from.to_string(),
        to.iter().map(|s| s.to_string()).collect(),
    )])]
}

/// A router where group `g` (one deployment, `primary`: id and backend) falls back to group `h`
/// (one deployment, `backup`), under `settings` plus that fallback.
fn g_falls_back_to_h(
    primary: (&str, Arc<Scripted>),
    backup: (&str, Arc<Scripted>),
    settings: RouterSettings,
) -> Router {
    router(
        vec![
            (config("g", primary.0, |_| {}), primary.1),
            (config("h", backup.0, |_| {}), backup.1),
        ],
        RouterSettings {
            fallbacks: fb("g", &["h"]),
            ..settings
        },
    )
}

#[tokio::test]
async fn generic_fallbacks_run_after_the_groups_retries_are_spent() {
    let a = Scripted::new("a", vec![Step::Fail(ErrorKind::InternalServer); 10]);
    let b = Scripted::new("b", vec![]);
    let r = g_falls_back_to_h(("a", a.clone()), ("b", b), RouterSettings::default());
    let out = r.completion(req("g")).await.unwrap();
    assert_eq!(a.calls(), 3, "the primary group gets its 2 retries first");
    assert_eq!(out.route.model_group, "h");
    assert_eq!(out.route.attempted_fallbacks, 1);
    assert_eq!(
        out.route.attempted_retries, 0,
        "retries of the serving group"
    );
}

#[tokio::test]
async fn context_window_and_content_policy_errors_use_their_own_lists_first() {
    for (kind, expected) in [
        (ErrorKind::ContextWindowExceeded, "big"),
        (ErrorKind::ContentPolicyViolation, "lenient"),
        (ErrorKind::ServiceUnavailable, "other"),
    ] {
        let a = Scripted::new("a", vec![Step::Fail(kind); 10]);
        let settings = RouterSettings {
            fallbacks: fb("g", &["other"]),
            context_window_fallbacks: fb("g", &["big"]),
            content_policy_fallbacks: fb("g", &["lenient"]),
            num_retries: 0,
            ..Default::default()
        };
        let r = router(
            vec![
                (config("g", "a", |_| {}), a),
                (config("big", "b1", |_| {}), Scripted::new("b1", vec![])),
                (config("lenient", "b2", |_| {}), Scripted::new("b2", vec![])),
                (config("other", "b3", |_| {}), Scripted::new("b3", vec![])),
            ],
            settings,
        );
        let out = r.completion(req("g")).await.unwrap();
        assert_eq!(out.route.model_group, expected, "{kind:?}");
    }
}

#[tokio::test]
async fn the_star_entry_and_default_fallbacks_apply_to_unlisted_groups() {
    for settings in [
        RouterSettings {
            fallbacks: fb("*", &["h"]),
            num_retries: 0,
            ..Default::default()
        },
        RouterSettings {
            default_fallbacks: vec!["h".into()],
            num_retries: 0,
            ..Default::default()
        },
    ] {
        let r = router(
            vec![
                (
                    config("g", "a", |_| {}),
                    Scripted::new("a", vec![Step::Fail(ErrorKind::RateLimited)]),
                ),
                (config("h", "b", |_| {}), Scripted::new("b", vec![])),
            ],
            settings,
        );
        assert_eq!(r.completion(req("g")).await.unwrap().route.model_group, "h");
    }
}

#[tokio::test]
async fn max_fallbacks_caps_the_chain_and_the_last_error_is_returned() {
    let fails = |name: &str| Scripted::new(name, vec![Step::Fail(ErrorKind::Timeout); 10]);
    let (f1, f2, f3) = (fails("f1"), fails("f2"), fails("f3"));
    let settings = RouterSettings {
        fallbacks: fb("g", &["h1", "h2", "h3"]),
        max_fallbacks: 2,
        num_retries: 0,
        ..Default::default()
    };
    let r = router(
        vec![
            (config("g", "a", |_| {}), fails("a")),
            (config("h1", "f1", |_| {}), f1.clone()),
            (config("h2", "f2", |_| {}), f2.clone()),
            (config("h3", "f3", |_| {}), f3.clone()),
        ],
        settings,
    );
    let err = r.completion(req("g")).await.unwrap_err();
    assert_eq!((f1.calls(), f2.calls(), f3.calls()), (1, 1, 0));
    assert_eq!(err.error.kind, ErrorKind::Timeout);
    let route = err.route.unwrap();
    assert_eq!(route.model_group, "h2");
    assert_eq!(route.attempted_fallbacks, 2);
}

#[tokio::test]
async fn a_plain_bad_request_does_not_fall_back() {
    let b = Scripted::new("b", vec![]);
    let r = g_falls_back_to_h(
        (
            "a",
            Scripted::new("a", vec![Step::Fail(ErrorKind::BadRequest)]),
        ),
        ("b", b.clone()),
        RouterSettings::default(),
    );
    assert_eq!(
        r.completion(req("g")).await.unwrap_err().error.kind,
        ErrorKind::BadRequest
    );
    assert_eq!(b.calls(), 0);
}

#[tokio::test]
async fn per_request_fallbacks_override_the_config_and_can_be_disabled() {
    let make = || {
        router(
            vec![
                (
                    config("g", "a", |_| {}),
                    Scripted::new("a", vec![Step::Fail(ErrorKind::InternalServer); 10]),
                ),
                (config("h", "b", |_| {}), Scripted::new("b", vec![])),
                (config("k", "c", |_| {}), Scripted::new("c", vec![])),
            ],
            RouterSettings {
                fallbacks: fb("g", &["h"]),
                num_retries: 0,
                ..Default::default()
            },
        )
    };
    let mut with_list = req("g");
    with_list
        .extra
        .insert("fallbacks".into(), serde_json::json!(["k"]));
    assert_eq!(
        make()
            .completion(with_list)
            .await
            .unwrap()
            .route
            .model_group,
        "k"
    );
    let mut disabled = req("g");
    disabled
        .extra
        .insert("disable_fallbacks".into(), serde_json::json!(true));
    let err = make().completion(disabled).await.unwrap_err();
    assert_eq!(err.route.unwrap().attempted_fallbacks, 0);
}

#[tokio::test]
async fn a_stream_failing_before_its_first_chunk_falls_back() {
    let fails_first = Step::StreamFailsFirst(ErrorKind::ServiceUnavailable);
    let r = g_falls_back_to_h(
        ("a", Scripted::new("a", vec![fails_first])),
        ("b", Scripted::new("b", vec![])),
        RouterSettings {
            num_retries: 0,
            ..Default::default()
        },
    );
    let out = r.completion_stream(req("g")).await.unwrap();
    assert_eq!(out.route.model_group, "h");
    assert_eq!(out.route.attempted_fallbacks, 1);
    let chunks: Vec<_> = out.stream.collect().await;
    assert_eq!(chunks.len(), 2);
}

#[tokio::test]
async fn a_cooled_down_deployment_gets_no_traffic_until_its_cooldown_ends() {
    tokio::time::pause();
    let a = Scripted::new("a", vec![Step::Fail(ErrorKind::InternalServer); 2]);
    let b = Scripted::new("b", vec![]);
    let settings = RouterSettings {
        allowed_fails: 1,
        cooldown_time: 5.0,
        num_retries: 0,
        ..Default::default()
    };
    let r = router(
        vec![
            (config("g", "a", |p| p.order = Some(1)), a.clone()),
            (config("g", "b", |p| p.order = Some(2)), b.clone()),
        ],
        settings,
    );
    // `a` is tried first (lower order) and fails twice: the second failure exceeds
    // allowed_fails and cools it down.
    r.completion(req("g")).await.unwrap_err();
    r.completion(req("g")).await.unwrap_err();
    assert_eq!(a.calls(), 2);
    for _ in 0..10 {
        assert_eq!(
            r.completion(req("g")).await.unwrap().route.deployment_id,
            "b"
        );
    }
    assert_eq!(a.calls(), 2, "no traffic while cooling down");
    tokio::time::advance(Duration::from_secs(6)).await;
    assert_eq!(
        r.completion(req("g")).await.unwrap().route.deployment_id,
        "a",
        "back after cooldown_time"
    );
}

#[tokio::test]
async fn a_dead_single_deployment_fails_fast_and_goes_straight_to_its_fallback() {
    tokio::time::pause();
    let dead = Scripted::new("dead", vec![Step::Fail(ErrorKind::ServiceUnavailable); 100]);
    let backup = Scripted::new("backup", vec![]);
    let r = g_falls_back_to_h(
        ("dead", dead.clone()),
        ("backup", backup),
        RouterSettings::default(),
    );
    // First request: 1 attempt + 2 retries fail (3 failures = allowed_fails), then fallback.
    assert_eq!(r.completion(req("g")).await.unwrap().route.model_group, "h");
    assert_eq!(dead.calls(), 3);
    // Second request: the 4th failure exceeds allowed_fails and cools `dead` down mid-retries;
    // the request still falls back.
    assert_eq!(r.completion(req("g")).await.unwrap().route.model_group, "h");
    let after_cooldown = dead.calls();
    assert_eq!(
        after_cooldown, 4,
        "retries stop once the only deployment cools down"
    );
    // From now on the dead primary is not called at all while it cools down (LiteLLM #40405).
    for _ in 0..5 {
        let out = r.completion(req("g")).await.unwrap();
        assert_eq!(out.route.model_group, "h");
        assert_eq!(out.route.attempted_fallbacks, 1);
    }
    assert_eq!(dead.calls(), after_cooldown);

    // Without a fallback the client gets LiteLLM's 429 with the time to wait.
    let lonely = router(
        vec![(
            config("g", "dead", |_| {}),
            Scripted::new("dead", vec![Step::Fail(ErrorKind::InternalServer); 100]),
        )],
        RouterSettings {
            allowed_fails: 0,
            num_retries: 0,
            ..Default::default()
        },
    );
    lonely.completion(req("g")).await.unwrap_err();
    let err = lonely.completion(req("g")).await.unwrap_err().error;
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert!(
        err.message.contains("No deployments available"),
        "{}",
        err.message
    );
    assert_eq!(err.retry_after, Some(Duration::from_secs(5)));
}

#[tokio::test]
async fn disabled_cooldowns_keep_every_deployment_in_rotation() {
    let (a, r) = single(
        vec![Step::Fail(ErrorKind::RateLimited); 100],
        RouterSettings {
            disable_cooldowns: true,
            allowed_fails: 0,
            num_retries: 0,
            ..Default::default()
        },
    );
    for _ in 0..5 {
        assert_eq!(
            r.completion(req("g")).await.unwrap_err().error.kind,
            ErrorKind::RateLimited
        );
    }
    assert_eq!(a.calls(), 5);
}
