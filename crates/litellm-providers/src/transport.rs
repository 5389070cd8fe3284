//! The HTTP transport: the only code in litellm-rs that sends requests to providers.
//!
//! One pooled `reqwest::Client` per process (rustls, HTTP/1.1 and HTTP/2 by ALPN, idle
//! connections kept 90 s, `TCP_NODELAY`), shared by every backend through [`Transport::shared`].
//! There is no global timeout: each call passes its own. A non-streaming call's timeout covers the
//! whole exchange, body included; a streaming call's covers only the wait for the response head,
//! since a healthy stream may last far longer (the router bounds the first chunk separately).
//!
//! Redirects are not followed: a 3xx is the upstream's answer, mapped as any other non-2xx status
//! (a redirected call would carry the provider's key to the host the redirect names).
//!
//! `reqwest` failures become `LlmError`s: a timeout is `Timeout`, anything else (connect, TLS,
//! reset, a body cut short) is `ApiConnection`. Messages never include the URL (which could carry
//! a credential for some providers) nor any header.

use std::pin::Pin;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::HeaderMap;

use litellm_core::{debug_fields, ErrorKind, LlmError};

use crate::upstream::UpstreamRequest;

/// A body that arrives piece by piece; an error item ends it.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, LlmError>> + Send>>;

/// A complete upstream response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// An upstream response whose head has arrived; the body streams.
pub struct StreamingResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: ByteStream,
}

debug_fields!(StreamingResponse { status, headers });

/// A handle on the pooled HTTP client. Cloning is cheap and shares the pool.
#[derive(Debug, Clone)]
pub struct Transport {
    client: reqwest::Client,
}

static SHARED: OnceLock<Transport> = OnceLock::new();

impl Transport {
    /// The process-wide transport, created on first use.
    pub fn shared() -> Result<Transport, LlmError> {
        if let Some(t) = SHARED.get() {
            return Ok(t.clone());
        }
        let built = Transport::new()?;
        // If another thread won the race, use its client so there is only one pool.
        Ok(SHARED.get_or_init(|| built).clone())
    }

    /// A new transport with its own connection pool (tests and embedders; backends use
    /// [`Transport::shared`]).
    pub fn new() -> Result<Transport, LlmError> {
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .tcp_keepalive(Duration::from_secs(60))
            .user_agent(concat!("litellm-rs/", env!("CARGO_PKG_VERSION")))
            // A redirect is the upstream's answer, never followed: following one would send the
            // provider key (`x-api-key`, `api-key`, ...) to whatever host it names.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                LlmError::internal(format!("could not build the HTTP client: {}", describe(&e)))
            })?;
        Ok(Transport { client })
    }

    /// A transport over a given client (custom TLS roots, proxies, ...).
    pub fn from_client(client: reqwest::Client) -> Transport {
        Transport { client }
    }

    fn request(&self, req: UpstreamRequest) -> reqwest::RequestBuilder {
        self.client
            .request(req.method, req.url)
            .headers(req.headers)
            .body(req.body)
    }

    /// Sends a request and reads the whole response, all within `timeout`.
    pub async fn send(
        &self,
        req: UpstreamRequest,
        timeout: Option<Duration>,
    ) -> Result<HttpResponse, LlmError> {
        let mut builder = self.request(req);
        if let Some(t) = timeout {
            builder = builder.timeout(t);
        }
        let resp = builder
            .send()
            .await
            .map_err(|e| map_reqwest_error(&e, timeout))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| map_reqwest_error(&e, timeout))?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    /// Sends a request and returns once the response head has arrived (within `timeout`); the
    /// body is then forwarded piece by piece as the network delivers it.
    pub async fn send_streaming(
        &self,
        req: UpstreamRequest,
        timeout: Option<Duration>,
    ) -> Result<StreamingResponse, LlmError> {
        let fut = self.request(req).send();
        let resp = match timeout {
            Some(t) => tokio::time::timeout(t, fut)
                .await
                .map_err(|_| timeout_error(Some(t)))?,
            None => fut.await,
        }
        .map_err(|e| map_reqwest_error(&e, timeout))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .bytes_stream()
            .map(|item| item.map_err(|e| map_stream_error(&e)));
        Ok(StreamingResponse {
            status,
            headers,
            body: Box::pin(body),
        })
    }
}

/// Reads a streaming body to the end (an error response's body), within `timeout`, keeping at
/// most `limit` bytes.
pub async fn read_body(mut body: ByteStream, timeout: Option<Duration>, limit: usize) -> Bytes {
    let read = async {
        let mut out = Vec::new();
        while let Some(Ok(piece)) = body.next().await {
            let room = limit.saturating_sub(out.len());
            out.extend_from_slice(&piece[..piece.len().min(room)]);
            if out.len() >= limit {
                break;
            }
        }
        Bytes::from(out)
    };
    match timeout {
        Some(t) => tokio::time::timeout(t, read).await.unwrap_or_default(),
        None => read.await,
    }
}

fn timeout_error(timeout: Option<Duration>) -> LlmError {
    let msg = match timeout {
        Some(t) => format!("Request timed out after {:.3}s", t.as_secs_f64()),
        None => "Request timed out".to_string(),
    };
    LlmError::upstream(ErrorKind::Timeout, msg)
}

/// Maps a `reqwest` failure of a request: timeout or connection error.
pub fn map_reqwest_error(e: &reqwest::Error, timeout: Option<Duration>) -> LlmError {
    if e.is_timeout() {
        return timeout_error(timeout);
    }
    let what = if e.is_connect() {
        "could not connect to the upstream"
    } else if e.is_body() || e.is_decode() {
        "the upstream response was cut off"
    } else {
        "the upstream request failed"
    };
    LlmError::upstream(ErrorKind::ApiConnection, format!("{what}: {}", describe(e)))
}

/// Maps a failure while reading a stream's body: the connection was lost mid-stream.
fn map_stream_error(e: &reqwest::Error) -> LlmError {
    if e.is_timeout() {
        return timeout_error(None);
    }
    LlmError::upstream(
        ErrorKind::ApiConnection,
        format!("the upstream stream was interrupted: {}", describe(e)),
    )
}

/// The error and its causes, joined by `: `, without the URL.
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut parts = Vec::new();
    let mut top = e.to_string();
    if let Some(url) = e.url() {
        top = top
            .replace(&format!(" for url ({url})"), "")
            .replace(url.as_str(), "<url>");
    }
    parts.push(top);
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
