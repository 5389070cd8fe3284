//! Durability of the spend ledger through the real binary: the proxy is killed with SIGTERM
//! while concurrent streaming and non-streaming requests are in flight (an upstream that
//! answers after 150 ms keeps every worker busy), and every request that got its full response
//! — before or after the signal — is then found in the spend logs of the SQLite file, with
//! the daily aggregates agreeing with the logs.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use litellm_test_support::{FakeOpenAi, Scripted};

use crate::harness::ProxyProcess;

/// Concurrent clients of each kind (streaming and not).
const WORKERS_PER_KIND: usize = 12;

/// One completed request: its call id, and whether it completed after SIGTERM was sent.
type Done = Arc<Mutex<Vec<(String, bool)>>>;

/// Sends requests until the proxy stops accepting them; records each one whose full response
/// arrived (a JSON completion, or a stream that ended with `[DONE]`).
async fn worker(url: String, stream: bool, signalled: Arc<AtomicBool>, done: Done) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let body = json!({
        "model": "slow",
        "stream": stream,
        "messages": [{"role": "user", "content": "count to three"}],
    });
    loop {
        let Ok(r) = client.post(&url).json(&body).send().await else {
            return; // The listener is closed: the proxy is shutting down.
        };
        if r.status() != 200 {
            return;
        }
        let id = r.headers()["x-litellm-call-id"]
            .to_str()
            .unwrap()
            .to_string();
        let Ok(text) = r.text().await else {
            continue; // Cut off mid-body: not a completed request.
        };
        let complete = if stream {
            text.trim_end().ends_with("data: [DONE]")
        } else {
            serde_json::from_str::<Value>(&text)
                .is_ok_and(|v| v["choices"][0]["message"]["content"].is_string())
        };
        if complete {
            let after = signalled.load(Ordering::SeqCst);
            done.lock().unwrap().push((id, after));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_loses_no_completed_request() {
    let upstream = FakeOpenAi::start().await;
    upstream.set_recording(false);
    upstream.set_default(Scripted::delay(Duration::from_millis(150)));
    // An hour between batch writes: rows reach the file only through full batches and the
    // shutdown flush.
    let config = format!(
        "model_list:\n  - model_name: slow\n    litellm_params:\n      model: openai/gpt-4o-mini\n      \
         api_base: {}\n      api_key: sk-upstream\n      input_cost_per_token: 0.000001\n      \
         output_cost_per_token: 0.000002\ngeneral_settings:\n  proxy_batch_write_at: 3600\n",
        upstream.base_url()
    );
    let mut p = ProxyProcess::start(&config, &[]).await;
    let url = p.url("/v1/chat/completions");
    let signalled = Arc::new(AtomicBool::new(false));
    let done: Done = Arc::default();
    let workers: Vec<_> = (0..2 * WORKERS_PER_KIND)
        .map(|i| {
            tokio::spawn(worker(
                url.clone(),
                i % 2 == 0,
                signalled.clone(),
                done.clone(),
            ))
        })
        .collect();

    // Let load build up (each worker completes several calls), then signal mid-flight.
    for _ in 0..200 {
        if done.lock().unwrap().len() >= 4 * WORKERS_PER_KIND {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    signalled.store(true, Ordering::SeqCst);
    p.sigterm();
    for w in workers {
        tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .expect("a client did not finish after the proxy stopped")
            .unwrap();
    }
    assert!(p.wait_exit().await, "clean exit:\n{}", p.stderr());

    let done = done.lock().unwrap().clone();
    let after = done.iter().filter(|(_, after)| *after).count();
    assert!(
        done.len() >= 4 * WORKERS_PER_KIND,
        "only {} calls completed",
        done.len()
    );
    assert!(
        after > 0,
        "no request was in flight when the signal came ({} completed before)",
        done.len()
    );

    let db = format!("sqlite://{}", p.dir.path().join("litellm-rs.db").display());
    let store = litellm_auth::Store::connect(&db).await.unwrap();
    let rows = store
        .spend_logs(&litellm_auth::SpendLogFilter::default())
        .await
        .unwrap();
    let stored: HashSet<&str> = rows.iter().map(|r| r.request_id.as_str()).collect();
    let missing: Vec<&String> = done
        .iter()
        .map(|(id, _)| id)
        .filter(|id| !stored.contains(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} completed calls ({after} after SIGTERM) have no spend log: {missing:?}",
        missing.len(),
        done.len()
    );
    assert!(rows.iter().all(|r| r.total_tokens > 0 && r.spend > 0.0));
    let streamed = rows
        .iter()
        .filter(|r| r.completion_start_time.is_some())
        .count();
    assert!(streamed > 0 && streamed < rows.len(), "both kinds recorded");

    // The daily aggregates were written in the same transactions as the logs.
    let (total, _) = store
        .daily_spend(&litellm_auth::DailyQuery::default())
        .await
        .unwrap();
    assert_eq!(total[0].metrics.api_requests as usize, rows.len());
    let logged: f64 = rows.iter().map(|r| r.spend).sum();
    assert!((total[0].metrics.spend - logged).abs() < 1e-9);
    store.close().await;
}
