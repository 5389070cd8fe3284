//! The router's hooks for the proxy: the observer sees every attempt and cooldown, and
//! deployments marked unhealthy are skipped while their group has a healthy one.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{config, req, router, Scripted, Step};
use litellm_router::*;

#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
}

impl RouterObserver for Recorder {
    fn on_attempt_end(
        &self,
        deployment: &Deployment,
        model_group: &str,
        kind: AttemptKind,
        outcome: Result<Duration, &LlmError>,
    ) {
        let what = match outcome {
            Ok(_) => "ok".to_string(),
            Err(e) => format!("{:?}", e.kind),
        };
        self.events
            .lock()
            .unwrap()
            .push(format!("{}:{model_group}:{kind:?}:{what}", deployment.id));
    }

    fn on_cooldown(&self, deployment: &Deployment, model_group: &str, error: &LlmError) {
        self.events.lock().unwrap().push(format!(
            "cooldown:{}:{model_group}:{:?}",
            deployment.id, error.kind
        ));
    }
}

#[tokio::test]
async fn the_observer_sees_each_attempt_and_the_cooldown() {
    let a = Scripted::new("a", vec![Step::Fail(ErrorKind::RateLimited)]);
    let settings = RouterSettings {
        routing_strategy: "simple-shuffle".into(),
        num_retries: 1,
        ..Default::default()
    };
    // One deployment: the 429 is retried on it (no cooldown below allowed_fails).
    let r = router(
        vec![(config("g", "a", |_| {}), a.clone())],
        settings.clone(),
    );
    let rec = Arc::new(Recorder::default());
    let r = r.with_observer(rec.clone());
    r.completion(req("g")).await.unwrap();
    assert_eq!(
        *rec.events.lock().unwrap(),
        ["a:g:Chat:RateLimited", "a:g:Chat:ok"]
    );

    // Two deployments: a 429 cools the failing one down at once.
    let x = Scripted::new("x", vec![Step::Fail(ErrorKind::RateLimited)]);
    let y = Scripted::new("y", vec![Step::Fail(ErrorKind::RateLimited)]);
    let r = router(
        vec![(config("h", "x", |_| {}), x), (config("h", "y", |_| {}), y)],
        RouterSettings {
            num_retries: 0,
            ..settings
        },
    );
    let rec = Arc::new(Recorder::default());
    r.set_observer(rec.clone());
    let err = r.completion(req("h")).await.unwrap_err();
    assert_eq!(err.error.kind, ErrorKind::RateLimited);
    let events = rec.events.lock().unwrap().clone();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events[0].ends_with(":h:Chat:RateLimited"), "{events:?}");
    assert!(events[1].starts_with("cooldown:") && events[1].ends_with(":h:RateLimited"));
}

#[tokio::test]
async fn unhealthy_deployments_are_skipped_while_a_healthy_one_exists() {
    let good = Scripted::new("good", vec![]);
    let bad = Scripted::new("bad", vec![]);
    let r = router(
        vec![
            (config("g", "good", |_| {}), good.clone()),
            (config("g", "bad", |_| {}), bad.clone()),
        ],
        RouterSettings::default(),
    );
    r.set_unhealthy(["bad".to_string()]);
    assert_eq!(r.unhealthy_deployments(), ["bad"]);
    for _ in 0..10 {
        let c = r.completion(req("g")).await.unwrap();
        assert_eq!(c.route.deployment_id, "good");
    }
    assert_eq!(bad.calls(), 0);

    // Every deployment unhealthy: they are still tried (the check may be stale).
    r.set_unhealthy(["bad".to_string(), "good".to_string()]);
    r.completion(req("g")).await.unwrap();

    r.set_unhealthy(Vec::new());
    assert!(r.unhealthy_deployments().is_empty());
}
