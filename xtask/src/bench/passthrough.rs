//! The bench's reference point: a bare hyper HTTP/1.1 reverse proxy with no logic of its own.
//!
//! `cargo xtask bench` starts it as a separate process (`xtask bench-passthrough --upstream URL
//! --port P`) so its CPU time can be read from `/proc/<pid>/stat` exactly like the proxy's. It
//! forwards every request (method, path and query, headers minus hop-by-hop ones, body streamed)
//! to the upstream over one pooled hyper client and streams the response back unchanged, so SSE
//! passes through chunk by chunk. It does no logging and no parsing.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{Either, Empty};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName};
use hyper::http::uri::{Authority, PathAndQuery, Scheme};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use crate::Result;

/// Options of the hidden `cargo xtask bench-passthrough`.
#[derive(Debug, Clone, clap::Args)]
pub struct PassthroughArgs {
    /// The upstream to forward to, e.g. `http://127.0.0.1:8081` (plain HTTP, no path).
    #[arg(long)]
    pub upstream: String,
    /// The port to listen on, on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

/// The body the pass-through answers with: the upstream's, untouched, or an empty error body.
pub type PassBody = Either<Incoming, Empty<Bytes>>;

/// Headers that describe one connection rather than the message (RFC 9110 section 7.6.1, plus
/// the non-standard `keep-alive` and `proxy-connection`); a proxy must not forward them.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// Removes the hop-by-hop headers from `headers`: the fixed list, `upgrade`, and every header
/// the `Connection` header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|token| HeaderName::from_bytes(token.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove(header::UPGRADE);
}

/// The scheme and authority of the upstream from `--upstream`: plain `http` with a host and
/// without a path, query or credentials.
pub fn parse_upstream(upstream: &str) -> Result<(Scheme, Authority)> {
    let uri: Uri = upstream
        .parse()
        .map_err(|err| format!("--upstream {upstream:?} is not a URL: {err}"))?;
    let parts = uri.into_parts();
    let scheme = parts
        .scheme
        .ok_or_else(|| format!("--upstream {upstream:?} has no scheme"))?;
    if scheme != Scheme::HTTP {
        return Err(format!("--upstream {upstream:?} must be plain http").into());
    }
    let authority = parts
        .authority
        .ok_or_else(|| format!("--upstream {upstream:?} has no host"))?;
    if authority.as_str().contains('@') {
        return Err(format!("--upstream {upstream:?} must not carry credentials").into());
    }
    if parts
        .path_and_query
        .is_some_and(|path| path.as_str() != "/" && !path.as_str().is_empty())
    {
        return Err(format!("--upstream {upstream:?} must not have a path").into());
    }
    Ok((scheme, authority))
}

/// The upstream URI for an incoming request URI: the upstream's scheme and authority with the
/// request's path and query.
pub fn upstream_uri(scheme: &Scheme, authority: &Authority, incoming: &Uri) -> Result<Uri> {
    let path = incoming
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    Ok(Uri::builder()
        .scheme(scheme.clone())
        .authority(authority.clone())
        .path_and_query(path)
        .build()?)
}

/// Forwards requests to one upstream over a pooled keep-alive client.
pub struct Forwarder {
    client: Client<HttpConnector, Incoming>,
    scheme: Scheme,
    authority: Authority,
}

/// A response with `status` and an empty body.
fn empty(status: StatusCode) -> Response<PassBody> {
    let mut response = Response::new(Either::Right(Empty::new()));
    *response.status_mut() = status;
    response
}

impl Forwarder {
    /// A forwarder to `upstream` (see [`parse_upstream`]); must be created inside a runtime.
    pub fn new(upstream: &str) -> Result<Self> {
        let (scheme, authority) = parse_upstream(upstream)?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self {
            client,
            scheme,
            authority,
        })
    }

    /// Sends `request` upstream and returns the upstream's response with its body streaming;
    /// answers 400 for a URI that cannot be forwarded and 502 when the upstream fails.
    pub async fn forward(&self, request: Request<Incoming>) -> Response<PassBody> {
        let (mut parts, body) = request.into_parts();
        parts.uri = match upstream_uri(&self.scheme, &self.authority, &parts.uri) {
            Ok(uri) => uri,
            Err(_) => return empty(StatusCode::BAD_REQUEST),
        };
        strip_hop_by_hop(&mut parts.headers);
        // The client sets `Host` to the upstream's authority when the request has none.
        parts.headers.remove(header::HOST);
        match self.client.request(Request::from_parts(parts, body)).await {
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                strip_hop_by_hop(&mut parts.headers);
                Response::from_parts(parts, Either::Left(body))
            }
            Err(_) => empty(StatusCode::BAD_GATEWAY),
        }
    }
}

/// Accepts connections on `listener` forever and serves each over HTTP/1.1 with `forwarder`.
pub async fn serve(listener: TcpListener, forwarder: Arc<Forwarder>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors or a connection reset before accept: back off briefly.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // Small responses must not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let forwarder = Arc::clone(&forwarder);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let forwarder = Arc::clone(&forwarder);
                async move { Ok::<_, Infallible>(forwarder.forward(request).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Runs the pass-through until the process is killed, on a multi-thread runtime with the default
/// worker count (like the proxy's).
pub fn run(args: PassthroughArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let forwarder = Arc::new(Forwarder::new(&args.upstream)?);
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)))
            .await
            .map_err(|err| format!("cannot listen on 127.0.0.1:{}: {err}", args.port))?;
        serve(listener, forwarder).await;
        Ok(())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Reason: a panic is the desired failure mode in tests.
mod tests {
    use super::*;
    use crate::bench::load::{self, Target};
    use crate::bench::upstream::Upstream;
    use axum::body::Body;
    use axum::extract::State;
    use axum::routing::{any, post};
    use hyper::header::HeaderValue;
    use tokio::sync::{mpsc, Mutex};

    fn value(text: &'static str) -> HeaderValue {
        HeaderValue::from_static(text)
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    /// Starts the pass-through in front of `upstream` on `rt`; returns its base URL.
    fn start(rt: &tokio::runtime::Runtime, upstream: SocketAddr) -> String {
        rt.block_on(async {
            let forwarder = Arc::new(Forwarder::new(&format!("http://{upstream}")).unwrap());
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(serve(listener, forwarder));
            format!("http://{addr}")
        })
    }

    #[test]
    fn strips_fixed_and_connection_named_hop_by_hop_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, value("keep-alive, X-Drop-Me ,upgrade"));
        headers.append(header::CONNECTION, value("x-also-dropped"));
        headers.insert("keep-alive", value("timeout=5"));
        headers.insert("x-drop-me", value("1"));
        headers.insert("x-also-dropped", value("1"));
        headers.insert(header::TRANSFER_ENCODING, value("chunked"));
        headers.insert(header::TE, value("trailers"));
        headers.insert(header::TRAILER, value("x-checksum"));
        headers.insert(header::UPGRADE, value("websocket"));
        headers.insert(header::PROXY_AUTHORIZATION, value("Basic abc"));
        headers.insert(header::PROXY_AUTHENTICATE, value("Basic"));
        headers.insert("proxy-connection", value("keep-alive"));
        headers.insert(header::AUTHORIZATION, value("Bearer sk-1"));
        headers.insert(header::CONTENT_TYPE, value("application/json"));
        headers.insert(header::CONTENT_LENGTH, value("42"));
        headers.insert("x-request-id", value("abc"));
        strip_hop_by_hop(&mut headers);
        let mut left: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(
            left,
            [
                "authorization",
                "content-length",
                "content-type",
                "x-request-id"
            ]
        );
    }

    #[test]
    fn ignores_garbage_in_the_connection_header() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, value("close, , bad header name"));
        headers.insert("x-keep", value("1"));
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers.len(), 1);
        assert!(headers.contains_key("x-keep"));
    }

    #[test]
    fn upstream_must_be_a_plain_http_origin() {
        let (scheme, authority) = parse_upstream("http://127.0.0.1:8081").unwrap();
        assert_eq!(
            (scheme.as_str(), authority.as_str()),
            ("http", "127.0.0.1:8081")
        );
        assert!(parse_upstream("http://127.0.0.1:8081/").is_ok());
        for bad in [
            "https://127.0.0.1:8081",
            "127.0.0.1:8081",
            "http://127.0.0.1:8081/v1",
            "http://user:pw@127.0.0.1:8081",
            "not a url",
        ] {
            assert!(parse_upstream(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn keeps_path_and_query_and_swaps_the_origin() {
        let (scheme, authority) = parse_upstream("http://10.0.0.1:9000").unwrap();
        let incoming: Uri = "/v1/chat/completions?x=1&y=two".parse().unwrap();
        assert_eq!(
            upstream_uri(&scheme, &authority, &incoming)
                .unwrap()
                .to_string(),
            "http://10.0.0.1:9000/v1/chat/completions?x=1&y=two"
        );
        let absolute: Uri = "http://elsewhere:1/models".parse().unwrap();
        assert_eq!(
            upstream_uri(&scheme, &authority, &absolute)
                .unwrap()
                .to_string(),
            "http://10.0.0.1:9000/models"
        );
    }

    #[test]
    fn forwards_the_bench_scenarios_like_the_upstream_answers_them() {
        let upstream = Upstream::start(1).unwrap();
        let rt = runtime();
        let base = start(&rt, upstream.addr());
        let client = load::client(4).unwrap();
        for stream in [false, true] {
            let body = crate::bench::request_body("bench-model", stream);
            let direct = rt.block_on(async {
                client
                    .post(format!("http://{}/v1/chat/completions", upstream.addr()))
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap()
            });
            let passed = rt.block_on(async {
                let response = client
                    .post(format!("{base}/v1/chat/completions"))
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::OK);
                let content_type = response.headers()[header::CONTENT_TYPE].clone();
                let expected = if stream {
                    "text/event-stream"
                } else {
                    "application/json"
                };
                assert_eq!(content_type, expected);
                response.bytes().await.unwrap()
            });
            assert_eq!(passed, direct, "stream={stream}: the body passes unchanged");
            // The load generator's own checks pass too, over several keep-alive connections.
            let target = Target {
                url: format!("{base}/v1/chat/completions"),
                body,
                stream,
            };
            let phase = rt
                .block_on(load::run_phase(&client, &target, 40, 4))
                .unwrap();
            assert_eq!(phase.latencies_us.len(), 40);
        }
    }

    /// Echoes what the upstream received: method, URI, selected headers and the body.
    async fn echo(request: Request<Body>) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .map(|value| value.to_str().unwrap().to_string())
        };
        let echoed = serde_json::json!({
            "method": parts.method.as_str(),
            "uri": parts.uri.to_string(),
            "host": header("host"),
            "x-bench": header("x-bench"),
            "x-drop-me": header("x-drop-me"),
            "proxy-authorization": header("proxy-authorization"),
            "body": String::from_utf8(body.to_vec()).unwrap(),
        });
        let mut response = Response::new(Body::from(echoed.to_string()));
        *response.status_mut() = StatusCode::IM_A_TEAPOT;
        response.headers_mut().insert("x-upstream", value("yes"));
        response
    }

    #[test]
    fn forwards_method_path_headers_and_body_and_keeps_the_status() {
        let rt = runtime();
        let upstream = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let app = axum::Router::new().route("/{*path}", any(echo));
            tokio::spawn(async move { axum::serve(listener, app).await });
            addr
        });
        let base = start(&rt, upstream);
        let client = load::client(1).unwrap();
        let (status, marker, echoed) = rt.block_on(async {
            let response = client
                .put(format!("{base}/some/path?q=1"))
                .header("x-bench", "kept")
                .header("connection", "x-drop-me")
                .header("x-drop-me", "dropped")
                .header("proxy-authorization", "Basic secret")
                .body("payload")
                .send()
                .await
                .unwrap();
            let status = response.status();
            let marker = response.headers().get("x-upstream").cloned();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, marker, body)
        });
        assert_eq!(status, StatusCode::IM_A_TEAPOT);
        assert_eq!(marker, Some(value("yes")));
        assert_eq!(echoed["method"], "PUT");
        assert_eq!(echoed["uri"], "/some/path?q=1");
        assert_eq!(echoed["host"], upstream.to_string());
        assert_eq!(echoed["x-bench"], "kept");
        assert_eq!(echoed["x-drop-me"], serde_json::Value::Null);
        assert_eq!(echoed["proxy-authorization"], serde_json::Value::Null);
        assert_eq!(echoed["body"], "payload");
    }

    /// Chunks the test feeds to the upstream's response, one at a time.
    type Feed = Arc<Mutex<Option<mpsc::Receiver<Bytes>>>>;

    async fn trickle(State(feed): State<Feed>) -> Response<Body> {
        let receiver = feed.lock().await.take().unwrap();
        let chunks = futures::stream::unfold(receiver, |mut receiver| async move {
            let chunk = receiver.recv().await?;
            Some((Ok::<_, Infallible>(chunk), receiver))
        });
        Response::new(Body::from_stream(chunks))
    }

    #[test]
    fn streams_each_chunk_before_the_upstream_finishes() {
        let rt = runtime();
        let (sender, receiver) = mpsc::channel::<Bytes>(1);
        let feed: Feed = Arc::new(Mutex::new(Some(receiver)));
        let upstream = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let app = axum::Router::new()
                .route("/stream", post(trickle))
                .with_state(feed);
            tokio::spawn(async move { axum::serve(listener, app).await });
            addr
        });
        let base = start(&rt, upstream);
        let client = load::client(1).unwrap();
        rt.block_on(async {
            let mut response = client.post(format!("{base}/stream")).send().await.unwrap();
            // Each chunk must arrive while the upstream still holds the stream open; a buffering
            // pass-through would never deliver it. The limit only turns a hang into a failure.
            for event in ["data: one\n\n", "data: two\n\n"] {
                sender
                    .send(Bytes::from_static(event.as_bytes()))
                    .await
                    .unwrap();
                let mut received = Vec::new();
                while received.len() < event.len() {
                    let chunk = tokio::time::timeout(Duration::from_secs(20), response.chunk())
                        .await
                        .expect("the chunk passes through before the stream ends")
                        .unwrap()
                        .expect("the stream is still open");
                    received.extend_from_slice(&chunk);
                }
                assert_eq!(received, event.as_bytes());
            }
            drop(sender);
            assert_eq!(response.chunk().await.unwrap(), None, "the stream ends");
        });
    }

    #[test]
    fn an_unreachable_upstream_is_a_bad_gateway() {
        let rt = runtime();
        // Bind and drop a listener so the port is (almost certainly) closed.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let base = start(&rt, closed);
        let client = load::client(1).unwrap();
        let status = rt.block_on(async {
            client
                .get(format!("{base}/v1/models"))
                .send()
                .await
                .unwrap()
                .status()
        });
        assert_eq!(status, StatusCode::BAD_GATEWAY);
    }
}
