//! Starting the servers the bench measures (the release proxy binary and the bare hyper
//! pass-through), waiting for them, and always killing them.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::Result;

/// A server child process, shared with the watchdog so a global timeout can kill it too.
pub type SharedChild = Arc<Mutex<Option<Child>>>;

/// Kills and reaps the child in `slot`, if it is still there.
pub fn kill(slot: &SharedChild) {
    let child = match slot.lock() {
        Ok(mut guard) => guard.take(),
        Err(poisoned) => poisoned.into_inner().take(),
    };
    if let Some(mut child) = child {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A running server process (the proxy or the pass-through); dropping it kills the process (also
/// when the bench fails or panics).
pub struct Proxy {
    child: SharedChild,
    pid: u32,
    port: u16,
    stderr_path: PathBuf,
    kind: Kind,
}

/// Which server a [`Proxy`] runs, and how to tell it is ready.
#[derive(Debug, Clone, Copy)]
struct Kind {
    /// What the bench calls the server in messages.
    name: &'static str,
    /// The path polled until the server is ready.
    ready_path: &'static str,
    /// Whether readiness needs a 200; otherwise any HTTP answer will do.
    ready_needs_ok: bool,
}

/// The litellm-rs proxy: ready when its liveliness probe answers 200.
const PROXY: Kind = Kind {
    name: "proxy",
    ready_path: "/health/liveliness",
    ready_needs_ok: true,
};

/// The pass-through: ready as soon as it answers anything; a `GET` of the chat route reaches the
/// upstream through it, which answers 405.
/// A second proxy binary measured in the same run (`--baseline`), e.g. built from an older
/// commit.
const BASELINE: Kind = Kind {
    name: "baseline",
    ..PROXY
};

const PASSTHROUGH: Kind = Kind {
    name: "passthrough",
    ready_path: "/v1/chat/completions",
    ready_needs_ok: false,
};

/// A free port on 127.0.0.1 (bound, read, and released; the proxy binds it right after).
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// The master key of the bench config (used only to create the client's virtual key).
pub const BENCH_MASTER_KEY: &str = "sk-bench-master";

/// The virtual key the load generator sends (`Bearer sk-bench-client`), created with a budget
/// and rate limits so every per-request check runs: key lookup, budget reservation, rpm/tpm
/// and parallel-request limits, spend logging, metrics.
pub const BENCH_CLIENT_KEY: &str = "sk-bench-client";

/// The bench config: one deployment `bench` in front of the fake upstream, a master key, and
/// prices so every call has a cost.
pub fn config_yaml(upstream_port: u16) -> String {
    format!(
        "model_list:\n  - model_name: bench\n    litellm_params:\n      model: openai/bench-model\n      \
         api_base: http://127.0.0.1:{upstream_port}/v1\n      api_key: sk-bench\n      \
         input_cost_per_token: 0.000001\n      output_cost_per_token: 0.000002\n\
         general_settings:\n  master_key: {BENCH_MASTER_KEY}\n"
    )
}

/// The body of the `/key/generate` call that creates [`BENCH_CLIENT_KEY`]: limits far above
/// what the bench sends, so they are checked on every request and never refuse one.
pub fn client_key_request() -> String {
    format!(
        "{{\"key\": \"{BENCH_CLIENT_KEY}\", \"key_alias\": \"bench\", \"max_budget\": 1000000, \
         \"rpm_limit\": 100000000, \"tpm_limit\": 100000000000, \"max_parallel_requests\": 100000}}"
    )
}

/// The arguments that start the pass-through of the `xtask` binary on `port`, forwarding to the
/// upstream on `upstream_port`.
pub fn passthrough_args(upstream_port: u16, port: u16) -> [String; 5] {
    [
        "bench-passthrough".to_string(),
        "--upstream".to_string(),
        format!("http://127.0.0.1:{upstream_port}"),
        "--port".to_string(),
        port.to_string(),
    ]
}

impl Proxy {
    /// Spawns `binary` with a config pointing at the upstream; the config, the proxy's working
    /// directory (where a default SQLite ledger would land) and its stderr live in `work_dir`.
    pub fn spawn(
        binary: &Path,
        work_dir: &Path,
        upstream_port: u16,
        slot: &SharedChild,
    ) -> Result<Self> {
        Self::spawn_proxy(binary, work_dir, upstream_port, slot, PROXY)
    }

    /// Spawns the `--baseline` proxy binary, set up exactly as [`Proxy::spawn`] sets up ours.
    pub fn spawn_baseline(
        binary: &Path,
        work_dir: &Path,
        upstream_port: u16,
        slot: &SharedChild,
    ) -> Result<Self> {
        Self::spawn_proxy(binary, work_dir, upstream_port, slot, BASELINE)
    }

    fn spawn_proxy(
        binary: &Path,
        work_dir: &Path,
        upstream_port: u16,
        slot: &SharedChild,
        kind: Kind,
    ) -> Result<Self> {
        fs::create_dir_all(work_dir)?;
        // A fresh ledger every run: the client key is created anew, and old spend logs do not
        // grow the database the proxy writes to while it is measured.
        for file in ["litellm-rs.db", "litellm-rs.db-wal", "litellm-rs.db-shm"] {
            let _ = fs::remove_file(work_dir.join(file));
        }
        let config_path = work_dir.join("config.yaml");
        fs::write(&config_path, config_yaml(upstream_port))?;
        let port = free_port()?;
        let mut command = Command::new(binary);
        command
            .arg("--config")
            .arg(&config_path)
            .args(["--port", &port.to_string(), "--host", "127.0.0.1"])
            .env("LITELLM_LOG", "ERROR");
        Self::spawn_command(command, work_dir, port, slot, kind)
    }

    /// Spawns the bare hyper pass-through: `xtask bench-passthrough` of the `xtask` binary in
    /// front of the upstream, with its output in `work_dir`.
    pub fn spawn_passthrough(
        xtask: &Path,
        work_dir: &Path,
        upstream_port: u16,
        slot: &SharedChild,
    ) -> Result<Self> {
        fs::create_dir_all(work_dir)?;
        let port = free_port()?;
        let mut command = Command::new(xtask);
        command.args(passthrough_args(upstream_port, port));
        Self::spawn_command(command, work_dir, port, slot, PASSTHROUGH)
    }

    /// Spawns `command` in `work_dir` with stdout and stderr in `<name>.stderr.log` there, and
    /// puts the child in `slot`.
    fn spawn_command(
        mut command: Command,
        work_dir: &Path,
        port: u16,
        slot: &SharedChild,
        kind: Kind,
    ) -> Result<Self> {
        let name = kind.name;
        let stderr_path = work_dir.join(format!("{name}.stderr.log"));
        let stderr = File::create(&stderr_path)?;
        let stdout = stderr.try_clone()?;
        let child = command
            .current_dir(work_dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|err| {
                format!(
                    "cannot start the {name} ({}): {err}",
                    command.get_program().to_string_lossy()
                )
            })?;
        let pid = child.id();
        match slot.lock() {
            Ok(mut guard) => *guard = Some(child),
            Err(poisoned) => *poisoned.into_inner() = Some(child),
        }
        Ok(Self {
            child: Arc::clone(slot),
            pid,
            port,
            stderr_path,
            kind,
        })
    }

    /// What the bench calls this server: `proxy`, `baseline` or `passthrough`.
    pub fn name(&self) -> &'static str {
        self.kind.name
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The base URL of the server.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the server wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Whether the process has exited (and with what status).
    fn exited(&self) -> Option<String> {
        let mut guard = match self.child.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        match guard.as_mut().map(Child::try_wait) {
            None => Some("it was killed".to_string()),
            Some(Ok(Some(status))) => Some(status.to_string()),
            Some(Ok(None)) => None,
            Some(Err(err)) => Some(err.to_string()),
        }
    }

    /// Polls the readiness path (`GET /health/liveliness` for the proxy) until it answers (200
    /// for the proxy, anything for the pass-through); fails after `timeout` or when the process
    /// exits, with the server's output in the error.
    pub async fn wait_ready(&self, client: &reqwest::Client, timeout: Duration) -> Result<()> {
        let Kind {
            name,
            ready_path,
            ready_needs_ok,
        } = self.kind;
        let url = format!("{}{ready_path}", self.base_url());
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                return Err(format!(
                    "the {name} exited before it was ready ({status}); its output:\n{}",
                    self.output()
                )
                .into());
            }
            if let Ok(response) = client.get(&url).send().await {
                if !ready_needs_ok || response.status() == reqwest::StatusCode::OK {
                    if name != PASSTHROUGH.name {
                        self.create_client_key(client).await?;
                    }
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                let wanted = if ready_needs_ok { "200" } else { "at all" };
                return Err(format!(
                    "the {name} did not answer {wanted} on {url} within {}s; its output:\n{}",
                    timeout.as_secs(),
                    self.output()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Proxy {
    /// Creates the load generator's virtual key through `/key/generate`.
    async fn create_client_key(&self, client: &reqwest::Client) -> Result<()> {
        let response = client
            .post(format!("{}/key/generate", self.base_url()))
            .bearer_auth(BENCH_MASTER_KEY)
            .header("content-type", "application/json")
            .body(client_key_request())
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status != reqwest::StatusCode::OK || !body.contains(BENCH_CLIENT_KEY) {
            return Err(
                format!("creating the bench's virtual key failed ({status}): {body}").into(),
            );
        }
        Ok(())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        kill(&self.child);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Reason: a panic is the desired failure mode in tests.
mod tests {
    use super::*;

    #[test]
    fn config_points_at_the_upstream() {
        let yaml = config_yaml(4321);
        assert!(yaml.contains("model_name: bench"), "{yaml}");
        assert!(
            yaml.contains("api_base: http://127.0.0.1:4321/v1"),
            "{yaml}"
        );
        assert!(yaml.contains("model: openai/bench-model"), "{yaml}");
        assert!(yaml.contains("api_key: sk-bench"), "{yaml}");
        assert!(yaml.contains("master_key: sk-bench-master"), "{yaml}");
        let key: serde_json::Value = serde_json::from_str(&client_key_request()).unwrap();
        assert_eq!(key["key"], BENCH_CLIENT_KEY);
        assert!(key["max_budget"].as_f64().unwrap() > 0.0);
        assert!(key["rpm_limit"].as_u64().unwrap() > 0);
    }

    #[test]
    fn a_proxy_that_exits_is_reported_with_its_output() {
        let dir = std::env::temp_dir().join(format!("xtask-proxy-test-{}", std::process::id()));
        let slot: SharedChild = Arc::new(Mutex::new(None));
        // `echo` stands in for the proxy: it prints its arguments and exits at once. (A freshly
        // written script could hit ETXTBSY while other tests fork.)
        let echo = ["/bin/echo", "/usr/bin/echo"]
            .map(PathBuf::from)
            .into_iter()
            .find(|path| path.exists())
            .expect("an echo binary");
        let proxy = Proxy::spawn(&echo, &dir, 9, &slot).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let err = rt
            .block_on(proxy.wait_ready(&client, Duration::from_secs(20)))
            .expect_err("an exiting proxy is never ready");
        let message = err.to_string();
        assert!(message.contains("exited before it was ready"), "{message}");
        assert!(message.contains("--config"), "{message}");
        assert!(message.contains("--host 127.0.0.1"), "{message}");
        drop(proxy);
        assert!(
            slot.lock().unwrap().is_none(),
            "dropping the proxy reaps it"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_passthrough_that_exits_is_reported_by_name() {
        let dir =
            std::env::temp_dir().join(format!("xtask-passthrough-test-{}", std::process::id()));
        let slot: SharedChild = Arc::new(Mutex::new(None));
        let echo = ["/bin/echo", "/usr/bin/echo"]
            .map(PathBuf::from)
            .into_iter()
            .find(|path| path.exists())
            .expect("an echo binary");
        let passthrough = Proxy::spawn_passthrough(&echo, &dir, 9, &slot).unwrap();
        assert_eq!(passthrough.name(), "passthrough");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let err = rt
            .block_on(passthrough.wait_ready(&client, Duration::from_secs(20)))
            .expect_err("an exiting pass-through is never ready");
        let message = err.to_string();
        assert!(
            message.contains("the passthrough exited before it was ready"),
            "{message}"
        );
        assert!(
            message.contains("bench-passthrough --upstream http://127.0.0.1:9 --port"),
            "{message}"
        );
        drop(passthrough);
        let _ = fs::remove_dir_all(&dir);
    }
}
