//! Claude Code itself against the real binary: the `@anthropic-ai/claude-code` CLI (pinned in
//! `tests/clients/claude-code/package.json`, installed from npm into `target/clients-claude` on
//! first use) runs headless (`claude -p ... --output-format json`) with `ANTHROPIC_BASE_URL` at
//! the proxy and a virtual key as `ANTHROPIC_AUTH_TOKEN`. A scripted fake upstream answers a
//! two-step tool loop: a `tool_use` of Claude Code's `Read` tool for a file in its working
//! directory, then (after Claude Code ran the tool and sent its result) the default text reply.
//! Every upstream request passes the fake's history validation (the fakes refuse what the real
//! APIs refuse), the run exits 0 with the scripted answer, and the key's spend is recorded.
//!
//! Three upstreams: Anthropic (native mode: the body as Claude Code sent it), Bedrock Converse
//! and an OpenAI-compatible model (translated mode), each with the CLI's default model and,
//! for Anthropic, an explicit older model.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use litellm_test_support::{
    AnthropicScript, BedrockFrame, BedrockScript, FakeAnthropic, FakeBedrock, FakeOpenAi,
    RecordedRequest, Scripted,
};
use serde_json::{json, Value};

use crate::clients::{installed, run_ok};
use crate::harness::{repo, ProxyProcess, TempDir};

const MASTER: &str = "sk-claude-code-master";

/// `target/clients-claude` with the pinned Claude Code installed; returns the `claude` binary.
fn claude_binary() -> PathBuf {
    let dir = repo().join("target/clients-claude");
    let manifest = std::fs::read_to_string(repo().join("tests/clients/claude-code/package.json"))
        .expect("tests/clients/claude-code/package.json");
    installed(&dir, &manifest, |dir| {
        std::fs::write(dir.join("package.json"), &manifest).expect("package.json");
        let npm = || {
            let mut c = Command::new("npm");
            c.args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(dir);
            c
        };
        // The package is large (a native binary of ~400 MB): one retry for a registry hiccup.
        if !npm().status().is_ok_and(|s| s.success()) {
            run_ok(
                &mut npm(),
                "npm install @anthropic-ai/claude-code (node and npm are needed)",
            );
        }
    });
    dir.join("node_modules/.bin/claude")
}

/// A proxy whose every model (`*`) goes to `target` (a provider prefix with `*`), priced so
/// spend is recorded, and a virtual key for it.
async fn proxy_with_key(target: &str, extra_params: &str) -> (ProxyProcess, String) {
    let config = format!(
        r#"
model_list:
  - model_name: "*"
    litellm_params:
      model: "{target}"
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
{extra_params}
router_settings:
  num_retries: 0
general_settings:
  master_key: {MASTER}
"#
    );
    let p = ProxyProcess::start(&config, &[]).await;
    let key = p.new_key(MASTER, json!({"key_alias": "claude-code"})).await;
    (p, key)
}

/// A working directory holding `hello.txt`, and the file's path.
fn workdir() -> (TempDir, String) {
    let work = TempDir::new();
    let file = work.path().join("hello.txt");
    std::fs::write(&file, "the secret word is tangerine\n").unwrap();
    let path = file.to_str().expect("a UTF-8 path").to_string();
    (work, path)
}

/// Runs `claude -p` in `work`; returns its JSON result.
async fn run_claude(p: &ProxyProcess, key: &str, model: Option<&str>, work: &TempDir) -> Value {
    let claude = tokio::task::spawn_blocking(claude_binary)
        .await
        .expect("install");
    let home = TempDir::new();
    let mut cmd = tokio::process::Command::new(claude);
    cmd.args(["-p", "What does hello.txt say?", "--output-format", "json"]);
    if let Some(m) = model {
        cmd.args(["--model", m]);
    }
    let out = cmd
        .current_dir(work.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("ANTHROPIC_BASE_URL", format!("http://127.0.0.1:{}", p.port))
        .env("ANTHROPIC_AUTH_TOKEN", key)
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_ERROR_REPORTING", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(180), out)
        .await
        .expect("claude -p finished within 180 s")
        .expect("run claude");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "claude -p failed ({}):\n{stdout}\n{}\nproxy log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        p.stderr()
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("claude's output is not JSON ({e}):\n{stdout}"))
}

/// Asserts a run answered with the scripted reply after one tool round trip, and was billed.
async fn assert_run(p: &ProxyProcess, key: &str, result: &Value, reply: &str) {
    assert_eq!(result["is_error"], false, "{result}");
    assert_eq!(result["subtype"], "success", "{result}");
    assert_eq!(result["result"], reply, "{result}");
    assert_eq!(result["num_turns"], 2, "{result}");
    let rows = p.spend_rows(MASTER, key, 2).await;
    assert!(rows.iter().all(|r| r["status"] == "success"), "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r["spend"].as_f64().unwrap_or(0.0) > 0.0),
        "{rows:?}"
    );
}

/// The text of every `tool_result` block (Anthropic) in a request.
fn anthropic_tool_results(req: &RecordedRequest) -> String {
    req.body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .filter(|b| b["type"] == "tool_result")
        .map(|b| b["content"].to_string())
        .collect()
}

/// Anthropic events of a `Read` tool call for `path`.
fn read_tool_events(path: &str) -> Vec<Value> {
    let input = json!({"file_path": path}).to_string();
    vec![
        json!({"type": "message_start", "message": {"id": "msg_tool", "type": "message",
            "role": "assistant", "model": "claude-upstream", "content": [], "stop_reason": null,
            "stop_sequence": null, "usage": {"input_tokens": 120, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block":
            {"type": "tool_use", "id": "toolu_read_1", "name": "Read", "input": {}}}),
        json!({"type": "content_block_delta", "index": 0, "delta":
            {"type": "input_json_delta", "partial_json": input}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
            "usage": {"output_tokens": 20}}),
        json!({"type": "message_stop"}),
    ]
}

async fn anthropic_run(model: Option<&str>) {
    let fake = FakeAnthropic::start().await;
    let extra = format!(
        "      api_base: {}\n      api_key: sk-ant-upstream",
        fake.base_url()
    );
    let (p, key) = proxy_with_key("anthropic/*", &extra).await;
    let (work, file) = workdir();
    fake.push(AnthropicScript::Events(read_tool_events(&file)));
    let result = run_claude(&p, &key, model, &work).await;
    assert_run(&p, &key, &result, FakeAnthropic::DEFAULT_REPLY).await;

    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "{reqs:#?}");
    // Native mode: Claude Code's own body reached the upstream, beta headers and all.
    for r in &reqs {
        assert!(r.header("anthropic-beta").is_some(), "{r:?}");
        assert_eq!(r.header("x-api-key"), Some("sk-ant-upstream"));
    }
    let second = &reqs[1];
    let messages = second.body["messages"].as_array().unwrap();
    let tool_turn = messages
        .iter()
        .find(|m| m["role"] == "assistant")
        .expect("the tool call turn");
    assert_eq!(tool_turn["content"][0]["type"], "tool_use", "{messages:?}");
    assert!(
        anthropic_tool_results(second).contains("tangerine"),
        "Claude Code ran the tool and sent the file back: {messages:?}"
    );
    if model.is_none() {
        // The CLI's default model enables betas that put `system` turns inside `messages`.
        assert!(
            reqs.iter().any(|r| r.body["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["role"] == "system"))),
            "expected a mid-conversation system message"
        );
    }
}

#[tokio::test]
async fn claude_code_runs_a_tool_loop_against_an_anthropic_deployment() {
    anthropic_run(None).await;
}

#[tokio::test]
async fn claude_code_with_an_older_model_runs_a_tool_loop() {
    anthropic_run(Some("claude-sonnet-4-5-20250929")).await;
}

#[tokio::test]
async fn claude_code_runs_a_tool_loop_against_bedrock_converse() {
    let fake = FakeBedrock::start().await;
    let extra = format!(
        "      api_base: {}\n      aws_access_key_id: AKIDEXAMPLE\n      aws_secret_access_key: secret\n      aws_region_name: us-east-1",
        fake.base_url()
    );
    let (p, key) = proxy_with_key("bedrock/anthropic.*", &extra).await;
    let (work, file) = workdir();
    let input = json!({"file_path": file});
    fake.push(BedrockScript::Frames(vec![
        BedrockFrame::event("messageStart", json!({"role": "assistant"})),
        BedrockFrame::event(
            "contentBlockStart",
            json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "tooluse_read_1", "name": "Read"}}}),
        ),
        BedrockFrame::event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": input.to_string()}}}),
        ),
        BedrockFrame::event("contentBlockStop", json!({"contentBlockIndex": 0})),
        BedrockFrame::event("messageStop", json!({"stopReason": "tool_use"})),
        BedrockFrame::event(
            "metadata",
            json!({"usage": {"inputTokens": 120, "outputTokens": 20, "totalTokens": 140}, "metrics": {"latencyMs": 5}}),
        ),
    ]));
    let result = run_claude(&p, &key, None, &work).await;
    assert_run(&p, &key, &result, FakeBedrock::DEFAULT_REPLY).await;
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "{reqs:#?}");
    let second = reqs[1].body["messages"].to_string();
    assert!(
        second.contains("tooluse_read_1") && second.contains("tangerine"),
        "{second}"
    );
}

#[tokio::test]
async fn claude_code_runs_a_tool_loop_against_an_openai_compatible_model() {
    let fake = FakeOpenAi::start().await;
    let extra = format!(
        "      api_base: {}\n      api_key: sk-openai-upstream",
        fake.base_url()
    );
    let (p, key) = proxy_with_key("openai/*", &extra).await;
    let (work, file) = workdir();
    let args = json!({"file_path": file}).to_string();
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-tool", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": "gpt-upstream", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    fake.push(Scripted::StreamChunks(vec![
        chunk(json!({"role": "assistant", "content": null}), Value::Null),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_read_1", "type": "function",
                "function": {"name": "Read", "arguments": ""}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": args}}]}),
            Value::Null,
        ),
        chunk(json!({}), json!("tool_calls")),
        json!({"id": "chatcmpl-tool", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": "gpt-upstream", "choices": [],
            "usage": {"prompt_tokens": 120, "completion_tokens": 20, "total_tokens": 140}}),
    ]));
    let result = run_claude(&p, &key, None, &work).await;
    assert_run(&p, &key, &result, FakeOpenAi::DEFAULT_REPLY).await;
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "{reqs:#?}");
    let messages = reqs[1].body["messages"].as_array().unwrap().clone();
    let call = messages
        .iter()
        .position(|m| m["tool_calls"][0]["id"] == "call_read_1")
        .expect("the assistant tool call is kept");
    assert_eq!(messages[call + 1]["role"], "tool", "{messages:?}");
    assert!(messages[call + 1]["content"]
        .to_string()
        .contains("tangerine"));
}
