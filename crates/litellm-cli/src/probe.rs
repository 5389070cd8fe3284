//! `litellm-rs healthcheck`: a dependency-free HTTP probe for container `HEALTHCHECK`s and
//! scripts. It GETs one URL (default: this machine's `/health/liveliness` on port 4000) and
//! exits 0 on a 2xx status, so a runtime image needs neither curl nor wget.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The URL probed when none is given.
pub const DEFAULT_PROBE_URL: &str = "http://127.0.0.1:4000/health/liveliness";

/// A parsed `http://host[:port]/path` URL (plain HTTP only: the probe targets the proxy itself).
#[derive(Debug, PartialEq, Eq)]
pub struct ProbeUrl {
    pub host: String,
    pub port: u16,
    pub path: String,
}

/// Parses `url`; only `http://` is accepted.
pub fn parse_url(url: &str) -> Result<ProbeUrl, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("healthcheck: only http:// URLs are supported, got {url:?}"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("healthcheck: no host in {url:?}"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
            let port = p
                .parse::<u16>()
                .map_err(|_| format!("healthcheck: bad port {p:?} in {url:?}"))?;
            (h, port)
        }
        _ => (authority, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok(ProbeUrl {
        host: host.to_string(),
        port,
        path: path.to_string(),
    })
}

/// GETs `url` with `timeout` for connecting and for the whole answer; returns the HTTP status.
pub fn probe(url: &str, timeout: Duration) -> Result<u16, String> {
    let target = parse_url(url)?;
    let addr = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|e| format!("healthcheck: cannot resolve {}: {e}", target.host))?
        .next()
        .ok_or_else(|| format!("healthcheck: no address for {}", target.host))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("healthcheck: cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| format!("healthcheck: {e}"))?;
    let host_header = if target.host.contains(':') {
        format!("[{}]:{}", target.host, target.port)
    } else {
        format!("{}:{}", target.host, target.port)
    };
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: litellm-rs-healthcheck\r\nConnection: close\r\n\r\n",
        target.path
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("healthcheck: cannot send to {addr}: {e}"))?;
    // The status line is all we need; read until it is complete.
    let mut head = Vec::with_capacity(128);
    let mut buf = [0u8; 128];
    while !head.contains(&b'\n') {
        let n = stream
            .read(&mut buf)
            .map_err(|e| format!("healthcheck: no answer from {addr}: {e}"))?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > 8192 {
            break;
        }
    }
    parse_status(&head).ok_or_else(|| format!("healthcheck: {addr} did not answer with HTTP"))
}

/// The status code of an HTTP/1.x status line.
fn parse_status(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// Runs the probe and turns the answer into an exit status: 0 for 2xx, 1 otherwise.
pub fn run(url: &str, timeout: Duration, out: &mut impl Write) -> i32 {
    match probe(url, timeout) {
        Ok(status) if (200..300).contains(&status) => {
            let _ = writeln!(out, "healthy: {url} answered {status}");
            0
        }
        Ok(status) => {
            let _ = writeln!(out, "unhealthy: {url} answered {status}");
            1
        }
        Err(e) => {
            let _ = writeln!(out, "unhealthy: {e}");
            1
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests: a panic is the failure report.
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn serve_once(answer: &'static str) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 256];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                req.extend_from_slice(&buf[..n]);
            }
            s.write_all(answer.as_bytes()).unwrap();
            String::from_utf8(req).unwrap()
        });
        (format!("http://127.0.0.1:{port}/health/liveliness"), handle)
    }

    #[test]
    fn urls_parse_with_and_without_port_and_path() {
        assert_eq!(
            parse_url("http://127.0.0.1:4000/health/liveliness").unwrap(),
            ProbeUrl {
                host: "127.0.0.1".into(),
                port: 4000,
                path: "/health/liveliness".into()
            }
        );
        assert_eq!(
            parse_url("http://proxy").unwrap(),
            ProbeUrl {
                host: "proxy".into(),
                port: 80,
                path: "/".into()
            }
        );
        assert_eq!(parse_url("http://[::1]:9/x").unwrap().host, "::1");
        assert!(parse_url("https://x/")
            .unwrap_err()
            .contains("only http://"));
        assert!(parse_url("http://h:99999/")
            .unwrap_err()
            .contains("bad port"));
    }

    /// Probes a server that answers `answer` once: the exit code, the probe's output and the
    /// request the server got.
    fn probe_answering(answer: &'static str) -> (i32, String, String) {
        let (url, server) = serve_once(answer);
        let mut out = Vec::new();
        let code = run(&url, Duration::from_secs(5), &mut out);
        let req = server.join().unwrap();
        (code, String::from_utf8(out).unwrap(), req)
    }

    #[test]
    fn a_2xx_answer_is_healthy_and_the_request_is_a_plain_get() {
        let (code, out, req) = probe_answering("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n\"\"");
        assert_eq!(code, 0);
        assert!(
            req.starts_with("GET /health/liveliness HTTP/1.1\r\n"),
            "{req}"
        );
        assert!(out.starts_with("healthy"));
    }

    #[test]
    fn a_5xx_answer_and_a_closed_port_are_unhealthy() {
        let (code, out, _) = probe_answering("HTTP/1.1 503 Service Unavailable\r\n\r\n");
        assert_eq!(code, 1);
        assert!(out.contains("answered 503"));

        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let mut out = Vec::new();
        let url = format!("http://127.0.0.1:{port}/");
        assert_eq!(run(&url, Duration::from_secs(2), &mut out), 1);
        assert!(String::from_utf8(out).unwrap().contains("cannot connect"));
    }

    #[test]
    fn a_non_http_answer_is_unhealthy() {
        let (code, out, _) = probe_answering("SSH-2.0-OpenSSH\r\n");
        assert_eq!(code, 1);
        assert!(out.contains("did not answer with HTTP"));
    }
}
