//! Routing strategies, retry policies, limits, pre-call checks and wildcard groups with scripted
//! backends; and router state shared by two routers ("replicas") through the real Redis at
//! 127.0.0.1:6379 (`LITELLM_TEST_REDIS_URL` overrides it).
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::time::Duration;

use litellm_router::*;
use secrecy::SecretString;

mod common;
use common::*;

fn settings(strategy: &str) -> RouterSettings {
    RouterSettings {
        routing_strategy: strategy.into(),
        ..Default::default()
    }
}

fn minute() -> u64 {
    unix_now() / 60
}

/// Runs `body` until it ran entirely within one UTC minute (per-minute counters reset at the
/// boundary, which would change what the body observes); at most three times.
async fn within_one_minute<F, Fut>(mut body: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..3 {
        let start = minute();
        body().await;
        if minute() == start {
            return;
        }
    }
    panic!("three runs crossed a minute boundary");
}

#[tokio::test(start_paused = true)]
async fn least_busy_sends_concurrent_requests_to_idle_deployments() {
    let backends: Vec<_> = (0..3)
        .map(|i| Scripted::new(&format!("d{i}"), vec![Step::Sleep(Duration::from_secs(10))]))
        .collect();
    let r = router(
        backends
            .iter()
            .enumerate()
            .map(|(i, b)| (config("g", &format!("d{i}"), |_| {}), b.clone()))
            .collect(),
        settings("least-busy"),
    );
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let r = r.clone();
            tokio::spawn(async move { r.completion(req("g")).await })
        })
        .collect();
    for h in handles {
        h.await.unwrap().unwrap();
    }
    for b in &backends {
        assert_eq!(b.calls(), 1, "each deployment took exactly one request");
    }
}

#[tokio::test]
async fn usage_based_routing_enforces_rpm_then_answers_429_with_retry_after() {
    within_one_minute(|| async {
        let a = Scripted::new("a", vec![]);
        let b = Scripted::new("b", vec![]);
        let ida = format!("a-{}", rand::random::<u64>());
        let idb = format!("b-{}", rand::random::<u64>());
        let r = router(
            vec![
                (config("g", &ida, |p| p.rpm = Some(2)), a.clone()),
                (config("g", &idb, |p| p.rpm = Some(1)), b.clone()),
            ],
            settings("usage-based-routing-v2"),
        );
        for _ in 0..3 {
            r.completion(req("g")).await.unwrap();
        }
        assert_eq!((a.calls(), b.calls()), (2, 1));
        let err = r.completion(req("g")).await.unwrap_err().error;
        assert_eq!(err.kind, ErrorKind::RateLimited);
        assert_eq!(err.status, Some(429));
        assert!(err.message.contains("rpm/tpm limit"), "{}", err.message);
        assert!(err
            .retry_after
            .is_some_and(|d| d <= Duration::from_secs(60)));
        assert_eq!(
            a.calls() + b.calls(),
            3,
            "the refused request reached no upstream"
        );
    })
    .await;
}

#[tokio::test]
async fn usage_based_routing_counts_tokens_against_tpm() {
    within_one_minute(|| async {
        // Each scripted call uses 4 tokens; "hi" is estimated at 7 prompt tokens.
        let a = Scripted::new("a", vec![]);
        let id = format!("t-{}", rand::random::<u64>());
        let r = router(
            vec![(config("g", &id, |p| p.tpm = Some(10)), a.clone())],
            settings("usage-based-routing"),
        );
        r.completion(req("g")).await.unwrap();
        // The token count is added off the request path; let it land.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        let err = r.completion(req("g")).await.unwrap_err().error;
        assert_eq!(err.kind, ErrorKind::RateLimited, "{}", err.message);
        assert_eq!(a.calls(), 1);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn latency_based_routing_prefers_the_faster_deployment_once_both_are_measured() {
    let slow = Scripted::new("slow", vec![Step::Sleep(Duration::from_millis(400)); 100]);
    let fast = Scripted::new("fast", vec![Step::Sleep(Duration::from_millis(10)); 100]);
    let r = router(
        vec![
            (config("g", "slow", |_| {}), slow.clone()),
            (config("g", "fast", |_| {}), fast.clone()),
        ],
        settings("latency-based-routing"),
    );
    // Unmeasured deployments score 0, so both get tried first.
    for _ in 0..20 {
        if slow.calls() > 0 && fast.calls() > 0 {
            break;
        }
        r.completion(req("g")).await.unwrap();
    }
    assert!(slow.calls() > 0 && fast.calls() > 0);
    let slow_before = slow.calls();
    for _ in 0..10 {
        r.completion(req("g")).await.unwrap();
    }
    assert_eq!(
        slow.calls(),
        slow_before,
        "every later request went to the fast one"
    );
}

#[tokio::test]
async fn latency_buffer_spreads_load_over_near_equal_deployments() {
    let parsed = RoutingStrategy::parse(
        "latency-based-routing",
        &serde_json::from_value(
            serde_json::json!({"lowest_latency_buffer": 0.5, "max_latency_list_size": 3}),
        )
        .unwrap(),
    )
    .unwrap();
    match parsed {
        RoutingStrategy::LatencyBased {
            buffer,
            max_samples,
            ..
        } => assert_eq!((buffer, max_samples), (0.5, 3)),
        other => panic!("parsed as {other:?}"),
    }
    let a = config("g", "a", |_| {});
    let b = config("g", "b", |_| {});
    let deps: Vec<Deployment> = [a, b]
        .into_iter()
        .map(|c| Deployment::with_backend(c, Scripted::new("x", vec![])))
        .collect();
    let refs: Vec<&Deployment> = deps.iter().collect();
    let stats = [
        Stats {
            latency: Some(1.0),
            ..Default::default()
        },
        Stats {
            latency: Some(1.4),
            ..Default::default()
        },
    ];
    let mut picked = [0u32; 2];
    for _ in 0..400 {
        picked[parsed.pick(&refs, &stats, 0).unwrap()] += 1;
    }
    assert!(picked[0] > 100 && picked[1] > 100, "{picked:?}");
    let strict = RoutingStrategy::parse("latency-based-routing", &Default::default()).unwrap();
    for _ in 0..50 {
        assert_eq!(strict.pick(&refs, &stats, 0), Some(0));
    }
}

#[tokio::test]
async fn cost_based_routing_picks_the_cheapest_and_unpriced_deployments_last() {
    let dear = Scripted::new("dear", vec![]);
    let cheap = Scripted::new("cheap", vec![Step::Fail(ErrorKind::InternalServer)]);
    let unpriced = Scripted::new("unpriced", vec![]);
    let r = router(
        vec![
            (
                config("g", "dear", |p| {
                    p.input_cost_per_token = Some(1e-5);
                    p.output_cost_per_token = Some(3e-5);
                }),
                dear.clone(),
            ),
            (
                config("g", "cheap", |p| {
                    p.input_cost_per_token = Some(1e-7);
                    p.output_cost_per_token = Some(4e-7);
                }),
                cheap.clone(),
            ),
            (config("g", "unpriced", |_| {}), unpriced.clone()),
        ],
        settings("cost-based-routing"),
    );
    // The cheapest fails once: the retry goes to the next cheapest, not the unpriced one.
    let first = r.completion(req("g")).await.unwrap();
    assert_eq!(first.route.deployment_id, "dear");
    for _ in 0..10 {
        let c = r.completion(req("g")).await.unwrap();
        assert_eq!(c.route.deployment_id, "cheap");
    }
    assert_eq!(unpriced.calls(), 0);
}

#[tokio::test]
async fn an_unknown_strategy_is_a_clear_error() {
    let err = Router::from_deployments(vec![], settings("fastest-please")).unwrap_err();
    assert!(err.message.contains("fastest-please"), "{}", err.message);
    assert!(err.message.contains("least-busy"), "{}", err.message);
}

fn policy(pairs: &[(&str, u32)]) -> std::collections::BTreeMap<String, u32> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[tokio::test]
async fn retry_policy_sets_retries_per_error_kind_and_per_group() {
    // RateLimitErrorRetries: 0 -> a 429 is not retried.
    let (a, r) = single(
        vec![Step::Fail(ErrorKind::RateLimited); 5],
        RouterSettings {
            retry_policy: policy(&[("RateLimitErrorRetries", 0)]),
            ..Default::default()
        },
    );
    r.completion(req("g")).await.unwrap_err();
    assert_eq!(a.calls(), 1);

    // BadRequestErrorRetries: 1 -> a 400 (normally final) is retried once.
    let b = Scripted::new("b", vec![Step::Fail(ErrorKind::BadRequest)]);
    let r = router(
        vec![(config("g", "b", |_| {}), b.clone())],
        RouterSettings {
            retry_policy: policy(&[("BadRequestErrorRetries", 1)]),
            ..Default::default()
        },
    );
    let ok = r.completion(req("g")).await.unwrap();
    assert_eq!(ok.route.attempted_retries, 1);

    // model_group_retry_policy wins over retry_policy; DefaultRetries covers other kinds.
    let c = Scripted::new("c", vec![Step::Fail(ErrorKind::RateLimited); 5]);
    let d = Scripted::new("d", vec![Step::Fail(ErrorKind::InternalServer); 5]);
    let r = router(
        vec![
            (config("g", "c", |_| {}), c.clone()),
            (config("h", "d", |_| {}), d.clone()),
        ],
        RouterSettings {
            retry_policy: policy(&[("RateLimitErrorRetries", 0), ("DefaultRetries", 4)]),
            model_group_retry_policy: [("g".to_string(), policy(&[("RateLimitErrorRetries", 2)]))]
                .into_iter()
                .collect(),
            disable_cooldowns: true,
            ..Default::default()
        },
    );
    r.completion(req("g")).await.unwrap_err();
    assert_eq!(c.calls(), 3, "group policy: 1 call + 2 retries");
    r.completion(req("h")).await.unwrap_err();
    assert_eq!(d.calls(), 5, "DefaultRetries: 1 call + 4 retries");
}

#[tokio::test]
async fn a_misspelt_policy_key_is_rejected_at_start_up() {
    /// The message of the error a router with no deployments and `settings` fails with.
    fn start_up_error(settings: RouterSettings) -> String {
        Router::from_deployments(vec![], settings)
            .unwrap_err()
            .message
    }
    let err = start_up_error(RouterSettings {
        retry_policy: policy(&[("RateLimitRetries", 1)]),
        ..Default::default()
    });
    assert!(err.contains("retry_policy"), "{err}");
    assert!(err.contains("RateLimitRetries"), "{err}");
    let err = start_up_error(RouterSettings {
        allowed_fails_policy: policy(&[("TimeoutErrorRetries", 1)]),
        ..Default::default()
    });
    assert!(err.contains("TimeoutErrorAllowedFails"), "{err}");
}

#[tokio::test]
async fn per_request_num_retries_wins() {
    let (a, r) = single(
        vec![Step::Fail(ErrorKind::InternalServer); 5],
        RouterSettings {
            disable_cooldowns: true,
            ..Default::default()
        },
    );
    let mut one = req("g");
    one.extra.insert("num_retries".into(), serde_json::json!(0));
    r.completion(one).await.unwrap_err();
    assert_eq!(a.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn max_parallel_requests_caps_a_deployment_in_flight() {
    let busy = Scripted::new("busy", vec![Step::Sleep(Duration::from_secs(10))]);
    let r = router(
        vec![(
            config("g", "busy", |p| p.max_parallel_requests = Some(1)),
            busy.clone(),
        )],
        RouterSettings::default(),
    );
    let r1 = r.clone();
    let first = tokio::spawn(async move { r1.completion(req("g")).await });
    tokio::task::yield_now().await;
    let err = r.completion(req("g")).await.unwrap_err().error;
    assert_eq!(err.status, Some(429));
    assert!(
        err.message.contains("max_parallel_requests"),
        "{}",
        err.message
    );
    first.await.unwrap().unwrap();
    // The slot is free again.
    r.completion(req("g")).await.unwrap();
    assert_eq!(busy.calls(), 2);

    // With a second deployment, the request goes there instead.
    let a = Scripted::new("a", vec![Step::Sleep(Duration::from_secs(10)); 3]);
    let b = Scripted::new("b", vec![]);
    let r = router(
        vec![
            (
                config("g", "a", |p| p.max_parallel_requests = Some(1)),
                a.clone(),
            ),
            (
                config("g", "b", |p| {
                    p.max_parallel_requests = Some(1);
                    p.order = Some(2);
                }),
                b.clone(),
            ),
        ],
        RouterSettings::default(),
    );
    let r1 = r.clone();
    let first = tokio::spawn(async move { r1.completion(req("g")).await });
    tokio::task::yield_now().await;
    let second = r.completion(req("g")).await.unwrap();
    assert_eq!(second.route.deployment_id, "b");
    first.await.unwrap().unwrap();
}

#[tokio::test]
async fn pre_call_checks_skip_deployments_whose_context_window_is_too_small() {
    let small = Scripted::new("small", vec![]);
    let large = Scripted::new("large", vec![]);
    let huge = Scripted::new("huge", vec![]);
    let r = router(
        vec![
            (
                {
                    let mut c = config("g", "small", |_| {});
                    c.model_info.max_input_tokens = Some(16);
                    c
                },
                small.clone(),
            ),
            (
                {
                    let mut c = config("g", "large", |_| {});
                    c.model_info.max_tokens = Some(1_000);
                    c
                },
                large.clone(),
            ),
            (
                {
                    let mut c = config("big", "huge", |_| {});
                    c.model_info.max_input_tokens = Some(1_000_000);
                    c
                },
                huge.clone(),
            ),
        ],
        RouterSettings {
            enable_pre_call_checks: true,
            context_window_fallbacks: vec![[("g".to_string(), vec!["big".to_string()])]
                .into_iter()
                .collect()],
            ..Default::default()
        },
    );
    let mut medium = req("g");
    medium.messages = vec![Message::user("x".repeat(400))];
    for _ in 0..10 {
        let c = r.completion(medium.clone()).await.unwrap();
        assert_eq!(c.route.deployment_id, "large");
    }
    assert_eq!(small.calls(), 0);
    let mut long = req("g");
    long.messages = vec![Message::user("x".repeat(40_000))];
    let c = r.completion(long.clone()).await.unwrap();
    assert_eq!(c.route.deployment_id, "huge");
    assert_eq!(c.route.attempted_fallbacks, 1);
    assert_eq!(
        large.calls(),
        10,
        "the too-long prompt never reached the 1k deployment"
    );

    // Without a fallback the caller gets a context-window error.
    long.extra
        .insert("disable_fallbacks".into(), serde_json::json!(true));
    let err = r.completion(long).await.unwrap_err().error;
    assert_eq!(err.kind, ErrorKind::ContextWindowExceeded);
    assert!(err.message.contains("1000"), "{}", err.message);
}

fn mock_config(name: &str, model: &str) -> DeploymentConfig {
    let mut config = DeploymentConfig::new(name, model);
    config.litellm_params.provider.mock_response = Some(format!("from {name}"));
    config
}

#[tokio::test]
async fn wildcard_groups_serve_matching_models_most_specific_first() {
    let r = Router::new(vec![
        mock_config("*", "*"),
        mock_config("openai/*", "openai/*"),
        mock_config("team-a/*", "openai/*"),
    ])
    .unwrap();
    let c = r.completion(req("openai/gpt-4o-mini")).await.unwrap();
    assert_eq!(c.route.model, "openai/gpt-4o-mini");
    assert_eq!(c.route.model_group, "openai/gpt-4o-mini");
    assert_eq!(
        c.response.choices[0].message.content.as_deref(),
        Some("from openai/*")
    );
    let c = r.completion(req("team-a/gpt-4o")).await.unwrap();
    assert_eq!(
        c.route.model, "openai/gpt-4o",
        "the star part replaces the star"
    );
    let c = r.completion(req("anthropic/claude-x")).await.unwrap();
    assert_eq!(c.route.model, "anthropic/claude-x");
    assert_eq!(
        c.response.choices[0].message.content.as_deref(),
        Some("from *")
    );
    assert_eq!(r.resolve_group("openai/o3").as_deref(), Some("openai/*"));

    let plain = Router::new(vec![mock_config("openai/*", "openai/*")]).unwrap();
    let err = plain.completion(req("gpt-4o")).await.unwrap_err().error;
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert!(err.message.contains("model=gpt-4o"), "{}", err.message);
}

// ---- shared state on the real Redis ----

fn redis_url() -> String {
    std::env::var("LITELLM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn shared(strategy: &str) -> RouterSettings {
    RouterSettings {
        routing_strategy: strategy.into(),
        redis_url: Some(SecretString::from(redis_url())),
        ..Default::default()
    }
}

#[tokio::test]
async fn two_replicas_sharing_redis_enforce_one_deployment_rpm() {
    within_one_minute(|| async {
        let id = format!("shared-rpm-{}", rand::random::<u64>());
        let b1 = Scripted::new("r1", vec![]);
        let b2 = Scripted::new("r2", vec![]);
        let r1 = router(
            vec![(config("g", &id, |p| p.rpm = Some(3)), b1.clone())],
            shared("usage-based-routing-v2"),
        );
        let r2 = router(
            vec![(config("g", &id, |p| p.rpm = Some(3)), b2.clone())],
            shared("usage-based-routing-v2"),
        );
        assert_eq!(r1.state_kind(), "redis");
        r1.completion(req("g")).await.unwrap();
        r2.completion(req("g")).await.unwrap();
        r1.completion(req("g")).await.unwrap();
        let err = r2.completion(req("g")).await.unwrap_err().error;
        assert_eq!(err.kind, ErrorKind::RateLimited, "{}", err.message);
        let err = r1.completion(req("g")).await.unwrap_err().error;
        assert_eq!(err.kind, ErrorKind::RateLimited, "{}", err.message);
        assert_eq!(b1.calls() + b2.calls(), 3, "one limit, not one per replica");
    })
    .await;
}

#[tokio::test]
async fn a_cooldown_set_by_one_replica_keeps_the_other_off_the_deployment() {
    let bad = format!("bad-{}", rand::random::<u64>());
    let good = format!("good-{}", rand::random::<u64>());
    let settings = RouterSettings {
        allowed_fails: 0,
        cooldown_time: 30.0,
        ..shared("simple-shuffle")
    };
    let bad1 = Scripted::new("bad1", vec![Step::Fail(ErrorKind::InternalServer); 50]);
    let good1 = Scripted::new("good1", vec![]);
    let r1 = router(
        vec![
            (config("g", &bad, |_| {}), bad1.clone()),
            (config("g", &good, |_| {}), good1.clone()),
        ],
        settings.clone(),
    );
    // Replica 1 sends until it has hit the failing deployment once (then cools it down).
    for _ in 0..50 {
        if bad1.calls() > 0 {
            break;
        }
        r1.completion(req("g")).await.unwrap();
    }
    assert_eq!(bad1.calls(), 1);
    // Replica 2 has its own healthy backends under the same deployment ids, and has never
    // seen a failure: the shared cooldown still keeps it off `bad`.
    let bad2 = Scripted::new("bad2", vec![]);
    let good2 = Scripted::new("good2", vec![]);
    let r2 = router(
        vec![
            (config("g", &bad, |_| {}), bad2.clone()),
            (config("g", &good, |_| {}), good2.clone()),
        ],
        settings,
    );
    for _ in 0..20 {
        r2.completion(req("g")).await.unwrap();
    }
    assert_eq!(bad2.calls(), 0);
    assert_eq!(good2.calls(), 20);
}

#[tokio::test]
async fn an_unreachable_redis_degrades_to_local_state() {
    within_one_minute(|| async {
        let a = Scripted::new("a", vec![]);
        let r = router(
            vec![(config("g", "local-only", |p| p.rpm = Some(2)), a.clone())],
            RouterSettings {
                routing_strategy: "usage-based-routing".into(),
                // Nothing listens on port 1.
                redis_url: Some(SecretString::from(
                    "redis://:secret@127.0.0.1:1".to_string(),
                )),
                redis_timeout: Some(0.2),
                ..Default::default()
            },
        );
        assert!(!format!("{r:?}").contains("secret"), "no password in Debug");
        r.completion(req("g")).await.unwrap();
        r.completion(req("g")).await.unwrap();
        let err = r.completion(req("g")).await.unwrap_err().error;
        assert_eq!(
            err.kind,
            ErrorKind::RateLimited,
            "the local limit still holds"
        );
        assert_eq!(a.calls(), 2);
    })
    .await;
}
