//! Starting the release proxy binary for the bench, waiting for it, and always killing it.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::Result;

/// The proxy child process, shared with the watchdog so a global timeout can kill it too.
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

/// A running proxy; dropping it kills the process (also when the bench fails or panics).
pub struct Proxy {
    child: SharedChild,
    pid: u32,
    port: u16,
    stderr_path: PathBuf,
}

/// A free port on 127.0.0.1 (bound, read, and released; the proxy binds it right after).
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// The bench config: one deployment `bench` in front of the fake upstream.
pub fn config_yaml(upstream_port: u16) -> String {
    format!(
        "model_list:\n  - model_name: bench\n    litellm_params:\n      model: openai/bench-model\n      \
         api_base: http://127.0.0.1:{upstream_port}/v1\n      api_key: sk-bench\n"
    )
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
        fs::create_dir_all(work_dir)?;
        let config_path = work_dir.join("config.yaml");
        fs::write(&config_path, config_yaml(upstream_port))?;
        let stderr_path = work_dir.join("proxy.stderr.log");
        let stderr = File::create(&stderr_path)?;
        let stdout = stderr.try_clone()?;
        let port = free_port()?;
        let child = Command::new(binary)
            .arg("--config")
            .arg(&config_path)
            .args(["--port", &port.to_string(), "--host", "127.0.0.1"])
            .env("LITELLM_LOG", "ERROR")
            .current_dir(work_dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", binary.display()))?;
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
        })
    }

    /// The proxy's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The base URL of the proxy.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the proxy wrote to stdout and stderr so far.
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

    /// Polls `GET /health/liveliness` until it answers 200; fails after `timeout` or when the
    /// process exits, with the proxy's output in the error.
    pub async fn wait_ready(&self, client: &reqwest::Client, timeout: Duration) -> Result<()> {
        let url = format!("{}/health/liveliness", self.base_url());
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                return Err(format!(
                    "the proxy exited before it was ready ({status}); its output:\n{}",
                    self.output()
                )
                .into());
            }
            if let Ok(response) = client.get(&url).send().await {
                if response.status() == reqwest::StatusCode::OK {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the proxy did not answer 200 on {url} within {}s; its output:\n{}",
                    timeout.as_secs(),
                    self.output()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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
}
