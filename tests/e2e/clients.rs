//! Real clients against the real binary: the official OpenAI Python SDK (`tests/clients/`),
//! installed from PyPI into `target/clients-venv` on first use (rebuilt when
//! `tests/clients/requirements.txt` changes). A missing Python or PyPI fails the test; it never
//! skips.

use std::path::PathBuf;
use std::process::Command;

use crate::harness::{repo, ProxyProcess};

const CONFIG: &str = r#"
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
  - model_name: limited
    litellm_params:
      model: mock/x
      mock_response: litellm.RateLimitError
general_settings:
  master_key: sk-client-test-key
router_settings:
  num_retries: 0
"#;

/// The venv's python, creating the venv and installing the clients when needed.
fn client_python() -> PathBuf {
    let venv = repo().join("target/clients-venv");
    let python = venv.join("bin/python");
    let reqs = repo().join("tests/clients/requirements.txt");
    let wanted = std::fs::read_to_string(&reqs).expect("requirements.txt");
    let marker = venv.join("installed-requirements.txt");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) && python.exists()
    {
        return python;
    }
    let _ = std::fs::remove_dir_all(&venv);
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("python3 is needed for the client tests");
    assert!(status.success(), "python3 -m venv failed");
    let out = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&reqs)
        .output()
        .expect("pip");
    assert!(
        out.status.success(),
        "pip install -r tests/clients/requirements.txt failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&marker, wanted).expect("marker");
    python
}

#[tokio::test]
async fn the_official_openai_python_sdk_works_unchanged() {
    let python = tokio::task::spawn_blocking(client_python)
        .await
        .expect("venv setup");
    let p = ProxyProcess::start(CONFIG, &[]).await;
    let script = repo().join("tests/clients/openai_sdk.py");
    // LiteLLM's docs point the SDK at the bare proxy URL; the SDK then calls /chat/completions.
    let out = tokio::process::Command::new(python)
        .arg(script)
        .env("PROXY_URL", format!("http://127.0.0.1:{}", p.port))
        .env("PROXY_KEY", "sk-client-test-key")
        .output()
        .await
        .expect("run openai_sdk.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "OpenAI SDK checks failed:\n{stdout}\n{}\nproxy log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        p.stderr()
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
