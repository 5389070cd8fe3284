//! Harness for the end-to-end tests: starts the real `litellm-rs` binary on a free loopback
//! port in its own temp directory, waits until it is live, and kills it on drop. Also a raw-TCP
//! upstream that answers slowly and reports when the proxy hangs up on it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// The binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_litellm-rs")
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A fresh temp directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let p = std::env::temp_dir().join(format!("litellm-rs-e2e-{}", uuid_like()));
        std::fs::create_dir_all(&p).expect("mkdir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A running proxy process.
pub struct ProxyProcess {
    pub child: Child,
    pub port: u16,
    pub dir: TempDir,
    stderr_path: PathBuf,
}

impl ProxyProcess {
    /// Starts `litellm-rs --config <config text> --port <free>` in a temp working directory.
    pub async fn start(config_yaml: &str, envs: &[(&str, &str)]) -> ProxyProcess {
        let dir = TempDir::new();
        let cfg = dir.path().join("config.yaml");
        std::fs::write(&cfg, config_yaml).expect("write config");
        let port = free_port();
        let stderr_path = dir.path().join("stderr.log");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut cmd = Command::new(binary());
        cmd.arg("--config")
            .arg(&cfg)
            .arg("--port")
            .arg(port.to_string())
            .arg("--host")
            .arg("127.0.0.1")
            .current_dir(dir.path())
            .env_remove("LITELLM_MASTER_KEY")
            .env_remove("DATABASE_URL")
            .env("LITELLM_LOG", "INFO")
            .stdout(Stdio::null())
            .stderr(stderr);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn litellm-rs");
        let mut p = ProxyProcess {
            child,
            port,
            dir,
            stderr_path,
        };
        p.wait_live().await;
        p
    }

    /// The proxy's base URL.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// A new virtual key made by `master` through `/key/generate` with `body`.
    pub async fn new_key(&self, master: &str, body: serde_json::Value) -> String {
        let r: serde_json::Value = reqwest::Client::new()
            .post(self.url("/key/generate"))
            .bearer_auth(master)
            .json(&body)
            .send()
            .await
            .expect("/key/generate")
            .json()
            .await
            .expect("/key/generate answers JSON");
        r["key"].as_str().expect("a key").to_string()
    }

    /// The spend-log rows of `key` (read with `master`), once at least `n` are written.
    pub async fn spend_rows(&self, master: &str, key: &str, n: usize) -> Vec<serde_json::Value> {
        let c = reqwest::Client::new();
        for _ in 0..400 {
            let rows: serde_json::Value = c
                .get(self.url(&format!("/spend/logs?api_key={key}")))
                .bearer_auth(master)
                .send()
                .await
                .expect("/spend/logs")
                .json()
                .await
                .expect("/spend/logs answers JSON");
            if rows.as_array().is_some_and(|r| r.len() >= n) {
                return rows.as_array().cloned().unwrap_or_default();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "the key's spend logs never reached {n} rows\nproxy log:\n{}",
            self.stderr()
        );
    }

    /// What the proxy printed on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    async fn wait_live(&mut self) {
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("litellm-rs exited early ({status}):\n{}", self.stderr());
            }
            if let Ok(r) = client.get(self.url("/health/liveliness")).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("litellm-rs did not become live:\n{}", self.stderr());
    }

    /// Sends SIGTERM (graceful shutdown).
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits for the process to exit and returns whether it exited with status 0.
    pub async fn wait_exit(&mut self) -> bool {
        for _ in 0..600 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("litellm-rs did not exit:\n{}", self.stderr());
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the slow upstream saw of one request.
#[derive(Debug)]
pub enum UpstreamEvent {
    /// A request arrived (sent before it is answered or abandoned).
    Received,
    /// The request was answered after the delay.
    Answered,
    /// The proxy closed the connection before the answer was due.
    HungUp,
}

/// A raw-TCP OpenAI-ish upstream that answers every chat request after `delay` with a fixed
/// completion, and reports on the channel whether each request was answered or abandoned.
pub async fn slow_upstream(delay: Duration) -> (String, mpsc::UnboundedReceiver<UpstreamEvent>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                if read_request(&mut sock).await.is_none() {
                    return;
                }
                let _ = tx.send(UpstreamEvent::Received);
                let mut buf = [0u8; 1];
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {
                        let body = r#"{"id":"chatcmpl-slow","object":"chat.completion","created":1,"model":"slow-model","choices":[{"index":0,"message":{"role":"assistant","content":"finally"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#;
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = sock.write_all(resp.as_bytes()).await;
                        let _ = tx.send(UpstreamEvent::Answered);
                    }
                    n = sock.read(&mut buf) => {
                        if matches!(n, Ok(0) | Err(_)) {
                            let _ = tx.send(UpstreamEvent::HungUp);
                        }
                    }
                }
            });
        }
    });
    (format!("http://{addr}/v1"), rx)
}

/// Reads one HTTP/1.1 request (headers and a content-length body).
async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = sock.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            while data.len() < end + 4 + len {
                let n = sock.read(&mut buf).await.ok()?;
                if n == 0 {
                    return None;
                }
                data.extend_from_slice(&buf[..n]);
            }
            return Some(data);
        }
    }
}
