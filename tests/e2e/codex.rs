//! Codex CLI itself against the real binary: the `@openai/codex` CLI (pinned in
//! `tests/clients/codex/package.json`, installed from npm into `target/clients-codex` on first
//! use) runs headless (`codex exec`) with a custom model provider at the proxy's `/v1`
//! (`wire_api = "responses"`) and a virtual key. Every turn is a streamed `/v1/responses` call
//! carrying Codex's real tool list (function tools, a `namespace` of sub-agent tools and a
//! hosted `web_search` tool), translated to chat completions for a fake OpenAI-compatible
//! upstream. The upstream first asks for Codex's `exec_command` tool on a file in the working
//! directory; Codex runs it and sends its output back; the upstream then answers with text.
//! The run exits 0 with that answer, the command's output reached the upstream as a `tool`
//! message, and both calls are billed as `aresponses`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use litellm_test_support::{FakeOpenAi, Scripted};
use serde_json::{json, Value};

use crate::clients::{installed, run_ok};
use crate::harness::{repo, ProxyProcess, TempDir};

const MASTER: &str = "sk-codex-master";

/// `target/clients-codex` with the pinned Codex CLI installed; returns the `codex` binary.
fn codex_binary() -> PathBuf {
    let dir = repo().join("target/clients-codex");
    let manifest = std::fs::read_to_string(repo().join("tests/clients/codex/package.json"))
        .expect("tests/clients/codex/package.json");
    installed(&dir, &manifest, |dir| {
        std::fs::write(dir.join("package.json"), &manifest).expect("package.json");
        run_ok(
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(dir),
            "npm install @openai/codex (node and npm are needed)",
        );
    });
    dir.join("node_modules/.bin/codex")
}

/// An OpenAI chunk with `delta` and `finish_reason`.
fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-codex", "object": "chat.completion.chunk", "created": 1,
           "model": "upstream-model",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

/// A streamed `exec_command` tool call running `cmd`, with usage.
fn exec_command_stream(cmd: &str) -> Vec<Value> {
    let args = json!({"cmd": cmd}).to_string();
    vec![
        chunk(
            json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_cat",
                "type": "function", "function": {"name": "exec_command", "arguments": ""}}]}),
            None,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": args}}]}),
            None,
        ),
        chunk(json!({}), Some("tool_calls")),
        json!({"id": "chatcmpl-codex", "object": "chat.completion.chunk", "created": 1,
               "model": "upstream-model", "choices": [],
               "usage": {"prompt_tokens": 900, "completion_tokens": 12, "total_tokens": 912}}),
    ]
}

#[tokio::test]
async fn codex_cli_runs_a_tool_loop_through_v1_responses() {
    let upstream = FakeOpenAi::start().await;
    upstream.push(Scripted::StreamChunks(exec_command_stream("cat hello.txt")));
    let config = format!(
        r#"
model_list:
  - model_name: "*"
    litellm_params:
      model: "openai/*"
      api_base: {}
      api_key: sk-upstream
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
router_settings:
  num_retries: 0
general_settings:
  master_key: {MASTER}
"#,
        upstream.base_url()
    );
    let p = ProxyProcess::start(&config, &[]).await;
    let key = p.new_key(MASTER, json!({"key_alias": "codex"})).await;

    let work = TempDir::new();
    std::fs::write(
        work.path().join("hello.txt"),
        "the secret word is tangerine\n",
    )
    .unwrap();
    let home = TempDir::new();
    let codex = tokio::task::spawn_blocking(codex_binary)
        .await
        .expect("install");
    let provider = format!(
        "model_providers.litellm={{name=\"litellm\",base_url=\"http://127.0.0.1:{}/v1\",\
         env_key=\"LITELLM_KEY\",wire_api=\"responses\"}}",
        p.port
    );
    let out = tokio::process::Command::new(codex)
        .args(["exec", "--skip-git-repo-check"])
        .arg("--dangerously-bypass-approvals-and-sandbox")
        .args(["-c", "model_provider=litellm", "-c", &provider])
        .args(["-m", "gpt-5-codex", "What does hello.txt say?"])
        .current_dir(work.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("LITELLM_KEY", &key)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(180), out)
        .await
        .expect("codex exec finished within 180 s")
        .expect("run codex");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "codex exec failed ({}):\n{stdout}\n{stderr}\nproxy log:\n{}",
        out.status,
        p.stderr()
    );
    assert!(
        stdout.contains(FakeOpenAi::DEFAULT_REPLY),
        "codex did not print the answer:\n{stdout}\n{stderr}"
    );

    let reqs = upstream.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    let tools: Vec<&str> = reqs[0].body["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert!(tools.contains(&"exec_command"), "{tools:?}");
    let tool_messages: Vec<&Value> = reqs[1].body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["role"] == "tool")
        .collect();
    assert_eq!(tool_messages.len(), 1, "{}", reqs[1].body);
    assert_eq!(tool_messages[0]["tool_call_id"], "call_cat");
    assert!(
        tool_messages[0]["content"]
            .to_string()
            .contains("tangerine"),
        "the command's output did not reach the upstream: {}",
        tool_messages[0]
    );

    let rows = p.spend_rows(MASTER, &key, 2).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in &rows {
        assert_eq!(row["call_type"], "aresponses", "{row}");
        assert_eq!(row["status"], "success", "{row}");
        assert!(row["spend"].as_f64().unwrap_or(0.0) > 0.0, "{row}");
    }
}
