//! Real clients against the real binary, unchanged: the official OpenAI Python SDK, the LiteLLM
//! Python SDK (`litellm_proxy/<model>`), the Anthropic Python SDK (`/v1/messages`) and the
//! official OpenAI Node SDK, the OpenAI Agents SDK on `/v1/responses`, and the Cohere Python
//! SDK on `/v2/rerank` (`tests/clients/`).
//! The Python clients are installed from PyPI into `target/clients-venv` and the Node SDK from
//! npm into `target/clients-node` on first use (rebuilt when `tests/clients/requirements.txt` or
//! `tests/clients/node/package.json` changes). A missing Python, Node or registry fails the
//! test; it never skips. The upstream is the in-repo mock provider and, for tools, `FakeOpenAi`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use litellm_test_support::{FakeOpenAi, Scripted};
use serde_json::json;

use crate::harness::{repo, ProxyProcess};

const MASTER_KEY: &str = "sk-client-test-key";

/// One proxy config for every client: mock models plus `tools-gpt` on a fake OpenAI upstream.
fn config(tools_api_base: &str) -> String {
    format!(
        r#"
model_list:
  - model_name: mock-gpt
    litellm_params:
      model: mock/gpt-4o
      mock_response: "Hello from the mock"
  - model_name: echo
    litellm_params:
      model: mock/echo
  - model_name: mock-embedding
    litellm_params:
      model: mock/text-embedding
  - model_name: mock-moderation
    litellm_params:
      model: mock/omni-moderation-latest
  - model_name: mock-image
    litellm_params:
      model: mock/dall-e-3
  - model_name: limited
    litellm_params:
      model: mock/x
      mock_response: litellm.RateLimitError
  - model_name: tools-gpt
    litellm_params:
      model: openai/gpt-4o
      api_key: sk-fake-upstream
      api_base: {tools_api_base}
general_settings:
  master_key: {MASTER_KEY}
router_settings:
  num_retries: 0
"#
    )
}

/// A fake OpenAI upstream that always answers with a `get_weather` tool call.
async fn tools_upstream() -> FakeOpenAi {
    let fake = FakeOpenAi::start().await;
    fake.set_default(Scripted::Json(json!({
        "id": "chatcmpl-tools",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o",
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}
                }]
            },
            "finish_reason": "tool_calls"
        }],
        "usage": {"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28}
    })));
    fake
}

/// Serializes installs: tests run in parallel and share the environments.
static INSTALL: Mutex<()> = Mutex::new(());

/// Creates `dir` with `install` unless its marker already records `wanted`.
pub fn installed(dir: &PathBuf, wanted: &str, install: impl FnOnce(&PathBuf)) {
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let marker = dir.join("installed-manifest.txt");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted) {
        return;
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("create install dir");
    install(dir);
    std::fs::write(&marker, wanted).expect("marker");
}

pub fn run_ok(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The venv's python, with `tests/clients/requirements.txt` installed.
pub fn client_python() -> PathBuf {
    let venv = repo().join("target/clients-venv");
    let reqs = repo().join("tests/clients/requirements.txt");
    let wanted = std::fs::read_to_string(&reqs).expect("requirements.txt");
    installed(&venv, &wanted, |venv| {
        let _ = std::fs::remove_dir_all(venv);
        run_ok(
            Command::new("python3").args(["-m", "venv"]).arg(venv),
            "python3 -m venv (python3 is needed for the client tests)",
        );
        run_ok(
            Command::new(venv.join("bin/python"))
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .arg(&reqs),
            "pip install -r tests/clients/requirements.txt",
        );
    });
    venv.join("bin/python")
}

/// `target/clients-node` with the OpenAI Node SDK installed and the check script beside it
/// (ES modules resolve packages from the script's own directory).
fn client_node_dir() -> PathBuf {
    let dir = repo().join("target/clients-node");
    let src = repo().join("tests/clients/node");
    let manifest = std::fs::read_to_string(src.join("package.json")).expect("package.json");
    installed(&dir, &manifest, |dir| {
        std::fs::write(dir.join("package.json"), &manifest).expect("package.json");
        run_ok(
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(dir),
            "npm install (node and npm are needed for the client tests)",
        );
    });
    std::fs::copy(src.join("openai_node.mjs"), dir.join("openai_node.mjs")).expect("copy script");
    dir
}

/// Runs one client script against a fresh proxy and asserts every check passed.
async fn drive(program: PathBuf, args: Vec<PathBuf>, what: &str) {
    let fake = tools_upstream().await;
    let p = ProxyProcess::start(&config(&fake.base_url()), &[]).await;
    // LiteLLM's docs point the SDKs at the bare proxy URL; they then call /chat/completions.
    let out = tokio::process::Command::new(program)
        .args(args)
        .env("PROXY_URL", format!("http://127.0.0.1:{}", p.port))
        .env("PROXY_KEY", MASTER_KEY)
        // The LiteLLM SDK: no network at import, no telemetry.
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("LITELLM_TELEMETRY", "False")
        .output()
        .await
        .unwrap_or_else(|e| panic!("run {what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what} checks failed:\n{stdout}\n{}\nproxy log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        p.stderr()
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
    // The tool checks reached the upstream with the tools the client sent.
    let reqs = fake.requests();
    assert!(!reqs.is_empty(), "{what}: tools-gpt was never called");
    assert_eq!(
        reqs[0].body["tools"][0]["function"]["name"], "get_weather",
        "{what}"
    );
}

#[tokio::test]
async fn the_official_openai_python_sdk_works_unchanged() {
    let python = tokio::task::spawn_blocking(client_python)
        .await
        .expect("venv setup");
    drive(
        python,
        vec![repo().join("tests/clients/openai_sdk.py")],
        "OpenAI Python SDK",
    )
    .await;
}

#[tokio::test]
async fn the_litellm_python_sdk_works_with_the_litellm_proxy_prefix() {
    let python = tokio::task::spawn_blocking(client_python)
        .await
        .expect("venv setup");
    drive(
        python,
        vec![repo().join("tests/clients/litellm_sdk.py")],
        "LiteLLM Python SDK",
    )
    .await;
}

#[tokio::test]
async fn the_anthropic_python_sdk_works_on_v1_messages() {
    let python = tokio::task::spawn_blocking(client_python)
        .await
        .expect("venv setup");
    drive(
        python,
        vec![repo().join("tests/clients/anthropic_sdk.py")],
        "Anthropic Python SDK",
    )
    .await;
}

#[tokio::test]
async fn the_official_openai_node_sdk_works_unchanged() {
    let dir = tokio::task::spawn_blocking(client_node_dir)
        .await
        .expect("node setup");
    drive(
        PathBuf::from("node"),
        vec![dir.join("openai_node.mjs")],
        "OpenAI Node SDK",
    )
    .await;
}

/// A config whose one model `name` is `model` on a fake upstream at `api_base`, with the master
/// key and no retries.
fn one_model(name: &str, model: &str, api_base: &str) -> String {
    format!(
        "model_list:\n  - model_name: {name}\n    litellm_params:\n      model: {model}\n      \
         api_key: sk-fake-upstream\n      api_base: {api_base}\ngeneral_settings:\n  \
         master_key: {MASTER_KEY}\nrouter_settings:\n  num_retries: 0\n"
    )
}

/// Runs the client script `tests/clients/{script}` with `envs` against proxy `p` and asserts
/// its `passed` checks all passed.
async fn run_checks(
    python: PathBuf,
    script: &str,
    envs: &[(&str, &str)],
    passed: usize,
    p: &ProxyProcess,
) {
    let out = tokio::process::Command::new(python)
        .arg(repo().join("tests/clients").join(script))
        .envs(envs.iter().copied())
        .output()
        .await
        .unwrap_or_else(|e| panic!("run {script}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(&format!("{passed} passed, 0 failed")),
        "{script} checks failed:\n{stdout}\n{}\nproxy log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        p.stderr()
    );
}

/// The OpenAI Agents SDK runs a one-tool agent through `/v1/responses` on a model group served
/// by a translated provider (Anthropic, behind its fake): the model asks for the tool, the SDK
/// runs it and sends its output back, the model answers.
#[tokio::test]
async fn the_openai_agents_sdk_runs_a_tool_agent_on_a_translated_provider() {
    use litellm_test_support::{AnthropicScript, FakeAnthropic};
    let python = tokio::task::spawn_blocking(client_python)
        .await
        .expect("venv setup");
    let anthropic = FakeAnthropic::start().await;
    anthropic.push(AnthropicScript::Json(json!({
        "id": "msg_tool", "type": "message", "role": "assistant", "model": "claude-upstream",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                     "input": {"city": "Paris"}}],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 40, "output_tokens": 9}
    })));
    let config = one_model(
        "claude",
        "anthropic/claude-sonnet-4-20250514",
        &anthropic.base_url(),
    );
    let p = ProxyProcess::start(&config, &[]).await;
    let url = format!("http://127.0.0.1:{}/v1", p.port);
    let envs = [
        ("PROXY_URL", url.as_str()),
        ("PROXY_KEY", MASTER_KEY),
        ("MODEL", "claude"),
        ("EXPECTED_REPLY", FakeAnthropic::DEFAULT_REPLY),
        ("OPENAI_AGENTS_DISABLE_TRACING", "1"),
    ];
    run_checks(python, "agents_sdk.py", &envs, 1, &p).await;
    // Both turns reached Anthropic; the second carried the tool's result after its tool_use.
    let reqs = anthropic.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(reqs[0].body["tools"][0]["name"], "get_weather");
    let second = reqs[1].body["messages"].to_string();
    assert!(
        second.contains("tool_result") && second.contains("18C and sunny in Paris"),
        "{second}"
    );
}

/// The Cohere Python SDK's v2 client reranks through `/v2/rerank` on a Cohere deployment (behind
/// its fake, which speaks v2 and refuses v1-only fields); the call is billed per search unit.
#[tokio::test]
async fn the_cohere_python_sdk_reranks_on_v2_rerank() {
    use litellm_test_support::FakeCohere;
    let python = tokio::task::spawn_blocking(client_python)
        .await
        .expect("venv setup");
    let cohere = FakeCohere::start().await;
    let config = one_model("rerank", "cohere/rerank-v3.5", &cohere.base_url());
    let p = ProxyProcess::start(&config, &[]).await;
    let key = p.new_key(MASTER_KEY, json!({})).await;
    let url = format!("http://127.0.0.1:{}", p.port);
    let envs = [("PROXY_URL", url.as_str()), ("PROXY_KEY", key.as_str())];
    run_checks(python, "cohere_sdk.py", &envs, 2, &p).await;
    let reqs = cohere.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0].path, "/v2/rerank");
    assert_eq!(reqs[0].body["model"], "rerank-v3.5");
    let rows = p.spend_rows(MASTER_KEY, &key, 1).await;
    assert_eq!(rows[0]["call_type"], "arerank", "{rows:?}");
    assert!(
        (rows[0]["spend"].as_f64().unwrap_or(0.0) - 0.002).abs() < 1e-12,
        "{rows:?}"
    );
}
