//! `Router::reload`: the new model list and settings serve new calls at once, calls and streams
//! already running finish on the configuration they started with, a bad configuration changes
//! nothing, and per-deployment state (cooldowns, in-flight counts) of deployments whose id is
//! unchanged carries over.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{
    chat_response, config, req, router, single, test_backend, text_chunk, Scripted, Step,
};
use futures::StreamExt;
use litellm_router::*;
use tokio::sync::{mpsc, Notify};

fn settings() -> RouterSettings {
    RouterSettings {
        num_retries: 0,
        ..Default::default()
    }
}

fn deployment(c: DeploymentConfig, b: Arc<dyn ModelBackend>) -> Deployment {
    Deployment::with_backend(c, b)
}

fn chunk(text: &str) -> ChatChunk {
    text_chunk("gated", text)
}

/// A backend that reports when a call reaches it and then waits for `release` before answering
/// (a chat call), or sends its first chunk at once and the second one after `release` (a
/// stream).
struct Gated {
    name: &'static str,
    entered: mpsc::UnboundedSender<&'static str>,
    release: Arc<Notify>,
}

test_backend!(Gated, |s| {
    chat: {
        s.entered.send(s.name).unwrap();
        s.release.notified().await;
        Ok(ChatOutput {
            response: chat_response("chatcmpl-gated", s.name, s.name),
            upstream_headers: vec![],
        })
    },
    stream: {
        s.entered.send(s.name).unwrap();
        let release = s.release.clone();
        let name = s.name;
        let first = futures::stream::once(async move { Ok(chunk(name)) });
        let second = futures::stream::once(async move {
            release.notified().await;
            Ok(chunk("-end"))
        });
        Ok(ChatStreamOutput {
            stream: Box::pin(first.chain(second)),
            upstream_headers: vec![],
        })
    },
    embed: Err(LlmError::upstream(ErrorKind::BadRequest, "no embeddings")),
});

fn gated(name: &'static str) -> (Arc<Gated>, mpsc::UnboundedReceiver<&'static str>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let g = Arc::new(Gated {
        name,
        entered: tx,
        release: Arc::new(Notify::new()),
    });
    (g, rx)
}

fn router_over(d: Deployment) -> Router {
    Router::from_deployments(vec![d], settings()).unwrap()
}

fn text(c: &Completion) -> String {
    c.response.choices[0]
        .message
        .content
        .clone()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_reload_swaps_the_model_groups() {
    let a = Scripted::new("a", vec![]);
    let r = router(vec![(config("alpha", "a", |_| {}), a.clone())], settings());
    let clone = r.clone();
    assert_eq!(r.model_names(), ["alpha"]);

    let b = Scripted::new("b", vec![]);
    let mut s = settings();
    s.model_group_alias
        .insert("beta-alias".into(), serde_json::json!("beta"));
    r.reload_deployments(vec![deployment(config("beta", "b", |_| {}), b.clone())], s)
        .unwrap();

    // Every clone sees the new configuration.
    assert_eq!(clone.model_names(), ["beta", "beta-alias"]);
    assert_eq!(clone.resolve_group("beta-alias").as_deref(), Some("beta"));
    let err = clone.completion(req("alpha")).await.unwrap_err();
    assert_eq!(err.error.kind, ErrorKind::BadRequest);
    assert!(err.error.message.contains("alpha"), "{}", err.error.message);
    let ok = clone.completion(req("beta-alias")).await.unwrap();
    assert_eq!(ok.route.deployment_id, "b");
    assert_eq!(ok.route.model_group, "beta");
    assert_eq!((a.calls(), b.calls()), (0, 1));
    assert_eq!(r.deployments().len(), 1);
}

#[tokio::test]
async fn reload_applies_new_router_settings() {
    let (a, r) = single(vec![Step::Fail(ErrorKind::InternalServer)], settings());
    assert_eq!(r.settings().num_retries, 0);
    let err = r.completion(req("g")).await.unwrap_err();
    assert_eq!(err.error.kind, ErrorKind::InternalServer);

    let a2 = Scripted::new("a", vec![Step::Fail(ErrorKind::InternalServer)]);
    let s = RouterSettings {
        num_retries: 1,
        routing_strategy: "least-busy".into(),
        ..Default::default()
    };
    r.reload_deployments(vec![deployment(config("g", "a", |_| {}), a2.clone())], s)
        .unwrap();
    assert_eq!(r.settings().num_retries, 1);
    assert_eq!(r.strategy().name(), "least-busy");
    // The new settings retry the failure; the new backend serves.
    let ok = r.completion(req("g")).await.unwrap();
    assert_eq!(ok.route.attempted_retries, 1);
    assert_eq!(a2.calls(), 2);
    assert_eq!(a.calls(), 1);
}

#[tokio::test]
async fn an_in_flight_call_and_stream_finish_on_the_old_deployment() {
    let (old, mut entered) = gated("old");
    let r = router_over(deployment(config("g", "old", |_| {}), old.clone()));

    let call = tokio::spawn({
        let r = r.clone();
        async move { r.completion(req("g")).await }
    });
    assert_eq!(entered.recv().await, Some("old"));
    let mut stream_req = req("g");
    stream_req.stream = Some(true);
    let mut stream = r.completion_stream(stream_req).await.unwrap();
    assert_eq!(entered.recv().await, Some("old"));
    assert_eq!(stream.route.deployment_id, "old");

    let new = Scripted::new("new", vec![]);
    r.reload_deployments(
        vec![deployment(config("g", "new", |_| {}), new.clone())],
        settings(),
    )
    .unwrap();
    assert_eq!(r.deployments()[0].id, "new");

    // A call made now goes to the new deployment while the old ones are still running.
    let fresh = r.completion(req("g")).await.unwrap();
    assert_eq!(fresh.route.deployment_id, "new");

    // Release the old calls: the chat answers from the old backend, the stream keeps flowing.
    old.release.notify_one();
    let done = call.await.unwrap().unwrap();
    assert_eq!(done.route.deployment_id, "old");
    assert_eq!(text(&done), "old");
    old.release.notify_one();
    let mut streamed = String::new();
    while let Some(item) = stream.stream.next().await {
        let c = item.unwrap();
        streamed.push_str(c.choices[0].delta.content.as_deref().unwrap_or_default());
    }
    assert_eq!(streamed, "old-end");
    assert_eq!(new.calls(), 1);
}

#[tokio::test]
async fn in_flight_counts_of_an_unchanged_deployment_carry_over() {
    // `max_parallel_requests: 1`: the slot held by a call started before the reload still
    // counts after it, because the deployment's id did not change.
    let (held, mut entered) = gated("x");
    let cap = |p: &mut LitellmParams| p.max_parallel_requests = Some(1);
    let r = router_over(deployment(config("g", "x", cap), held.clone()));
    let call = tokio::spawn({
        let r = r.clone();
        async move { r.completion(req("g")).await }
    });
    assert_eq!(entered.recv().await, Some("x"));

    let fresh = Scripted::new("x", vec![]);
    r.reload_deployments(
        vec![deployment(config("g", "x", cap), fresh.clone())],
        settings(),
    )
    .unwrap();
    let err = r.completion(req("g")).await.unwrap_err();
    assert_eq!(err.error.kind, ErrorKind::RateLimited);
    assert!(
        err.error.message.contains("max_parallel_requests"),
        "{}",
        err.error.message
    );
    assert_eq!(fresh.calls(), 0);

    held.release.notify_one();
    call.await.unwrap().unwrap();
    // The slot was released into the shared counter: the new backend now serves.
    r.completion(req("g")).await.unwrap();
    assert_eq!(fresh.calls(), 1);
}

#[tokio::test]
async fn a_bad_configuration_changes_nothing() {
    let (_a, r) = single(vec![], settings());

    // An unknown routing strategy.
    let b = Scripted::new("b", vec![]);
    let s = RouterSettings {
        routing_strategy: "fastest-please".into(),
        ..Default::default()
    };
    let err = r
        .reload_deployments(vec![deployment(config("h", "b", |_| {}), b.clone())], s)
        .unwrap_err();
    assert!(err.message.contains("fastest-please"), "{}", err.message);

    // An alias to a missing group.
    let mut s = settings();
    s.model_group_alias
        .insert("x".into(), serde_json::json!("missing"));
    let err = r
        .reload_deployments(vec![deployment(config("h", "b", |_| {}), b.clone())], s)
        .unwrap_err();
    assert!(
        err.message.contains("model_group_alias.x"),
        "{}",
        err.message
    );

    // A deployment whose backend cannot be built: the error names the entry.
    let mut bad = config("h", "c", |_| {});
    bad.litellm_params.provider.model = "nosuchprovider/some-model".into();
    let good = DeploymentConfig::new("h", "mock/echo");
    let err = r.reload(vec![good, bad], settings()).unwrap_err();
    assert!(err.message.contains("model_list[1]"), "{}", err.message);

    // The running configuration is untouched.
    assert_eq!(r.model_names(), ["g"]);
    assert_eq!(r.strategy().name(), "simple-shuffle");
    let ok = r.completion(req("g")).await.unwrap();
    assert_eq!(ok.route.deployment_id, "a");
    assert_eq!(b.calls(), 0);
}

/// A config without `model_info.id`: its id is the hash of the group and the params.
fn hashed(group: &str, model: &str) -> DeploymentConfig {
    DeploymentConfig::new(group, model)
}

#[tokio::test]
async fn the_cooldown_of_an_unchanged_deployment_survives_a_reload() {
    let settings = RouterSettings {
        num_retries: 0,
        cooldown_time: 60.0,
        ..Default::default()
    };
    let a = Scripted::new("a", vec![Step::Fail(ErrorKind::RateLimited)]);
    let b = Scripted::new("b", vec![]);
    let r = router(
        vec![
            (hashed("g", "scripted/a"), a.clone()),
            (hashed("g", "scripted/b"), b.clone()),
        ],
        settings.clone(),
    );
    let id_a = deployment_id(&hashed("g", "scripted/a"));
    // Until `a` has failed once (a 429 in a two-deployment group cools it down at once).
    let mut cooled = false;
    for _ in 0..50 {
        let _ = r.completion(req("g")).await;
        if a.calls() == 1 {
            cooled = true;
            break;
        }
    }
    assert!(cooled, "deployment a was never picked");

    // Same two deployments (fresh backends, so ids come from the unchanged configs), plus a
    // new group.
    let a2 = Scripted::new("a", vec![]);
    let b2 = Scripted::new("b", vec![]);
    let c = Scripted::new("c", vec![]);
    r.reload_deployments(
        vec![
            deployment(hashed("g", "scripted/a"), a2.clone()),
            deployment(hashed("g", "scripted/b"), b2.clone()),
            deployment(hashed("h", "scripted/c"), c.clone()),
        ],
        settings.clone(),
    )
    .unwrap();
    assert!(r.deployments().iter().any(|d| d.id == id_a));
    for _ in 0..20 {
        let ok = r.completion(req("g")).await.unwrap();
        assert_ne!(ok.route.deployment_id, id_a, "a is cooling down");
    }
    assert_eq!(a2.calls(), 0);
    assert_eq!(b2.calls(), 20);

    // A changed deployment is a new id: nothing carries over to it.
    let a3 = Scripted::new("a", vec![]);
    r.reload_deployments(
        vec![deployment(hashed("g", "scripted/a-v2"), a3.clone())],
        settings,
    )
    .unwrap();
    r.completion(req("g")).await.unwrap();
    assert_eq!(a3.calls(), 1);
}

#[derive(Default)]
struct Count(AtomicU32);

impl RouterObserver for Count {
    fn on_attempt_end(
        &self,
        _deployment: &Deployment,
        _model_group: &str,
        _kind: AttemptKind,
        _outcome: Result<Duration, &LlmError>,
    ) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[tokio::test]
async fn the_observer_and_the_unhealthy_set_survive_a_reload() {
    let (_a, r) = single(vec![], settings());
    let count = Arc::new(Count::default());
    r.set_observer(count.clone());
    r.set_unhealthy(["a".to_string(), "gone".to_string()]);

    let a2 = Scripted::new("a", vec![]);
    let b = Scripted::new("b", vec![]);
    r.reload_deployments(
        vec![
            deployment(config("g", "a", |_| {}), a2.clone()),
            deployment(config("g", "b", |_| {}), b.clone()),
        ],
        settings(),
    )
    .unwrap();
    // Ids no longer configured are dropped; `a` stays unhealthy, so `b` serves.
    assert_eq!(r.unhealthy_deployments(), ["a"]);
    for _ in 0..5 {
        assert_eq!(
            r.completion(req("g")).await.unwrap().route.deployment_id,
            "b"
        );
    }
    assert_eq!(count.0.load(Ordering::Relaxed), 5);
}
