//! The golden-file harness the `golden*` tests share: one directory per case under
//! `tests/golden/<provider>/`, each holding `params.json` and optional pairs of an input file and
//! the expected output file. A [`Case`] reads the inputs, translates them with the provider's
//! adapter (given as closures) and compares the result with the expected file
//! ([`check_json`] / [`check_jsonl`], rewritten with `UPDATE_EXPECT=1`), asserting on the way
//! that none of the case's secrets shows up in a request's `Debug`, a request body or an error.
//!
//! The shared file pairs:
//! - `request.openai.json` -> `request.upstream.json` ([`Case::check_request`]);
//! - `response.upstream.json` -> `response.openai.json` ([`Case::check_response`]);
//! - a stream (SSE, NDJSON or encoded frames) -> `stream.openai.jsonl`, decoded whole and byte
//!   by byte, which must agree ([`Case::check_stream`]);
//! - `embedding.openai.json` -> `embedding.upstream.json` and `embedding_response.upstream.json`
//!   -> `embedding_response.openai.json` ([`Case::check_embedding`]);
//! - `error.upstream.json` (`{"status", "headers", "body"}`) -> `error.openai.json`
//!   ([`Case::check_error`]).

use std::path::{Path, PathBuf};

use http::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use litellm_core::{ChatRequest, EmbeddingRequest, LlmError};
use litellm_providers::decoder::{ChunkDecoder, Items};
use litellm_providers::{ProviderParams, UpstreamRequest};
use litellm_test_support::golden::{case_dirs, check_json, check_jsonl, read_json};

/// Runs `run` on every case directory of `tests/golden/<provider>/`, after checking that there
/// are at least `min` of them.
pub fn run_cases(provider: &str, min: usize, mut run: impl FnMut(&Path)) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{provider}"));
    let cases = case_dirs(&root);
    assert!(
        cases.len() >= min,
        "expected the golden cases under {}",
        root.display()
    );
    for dir in &cases {
        run(dir);
    }
}

/// The golden form of an error.
pub fn error_json(e: &LlmError) -> Value {
    json!({
        "kind": e.kind.litellm_class(),
        "retryable": e.is_retryable(),
        "status": e.status,
        "message": e.message,
        "param": e.param,
        "provider": e.provider,
        "retry_after_ms": e.retry_after.map(|d| d.as_millis() as u64),
    })
}

/// A result as JSON: the value (through `normalize`), or `{"error": ...}`.
pub fn or_error<T: Serialize>(result: Result<T, LlmError>, normalize: fn(Value) -> Value) -> Value {
    match result {
        Ok(v) => normalize(serde_json::to_value(v).unwrap()),
        Err(e) => json!({ "error": error_json(&e) }),
    }
}

/// No normalization.
pub fn as_is(v: Value) -> Value {
    v
}

/// `created` is the time of translation: it is written as 0.
pub fn zero_created(mut v: Value) -> Value {
    if v.get("created").is_some() {
        v["created"] = json!(0);
    }
    v
}

/// `created` written as 0, and generated ids (`call_<uuid>`, `chatcmpl-<uuid>`), which are
/// random, as `<generated>`.
pub fn zero_generated(v: Value) -> Value {
    fn ids(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, val) in map.iter_mut() {
                    match val {
                        Value::String(s)
                            if k == "id" && s.starts_with("call_") && s.len() == 37 =>
                        {
                            *s = "call_<generated>".into();
                        }
                        Value::String(s)
                            if k == "id" && s.starts_with("chatcmpl-") && s.len() == 41 =>
                        {
                            *s = "chatcmpl-<generated>".into();
                        }
                        other => ids(other),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(ids),
            _ => {}
        }
    }
    let mut v = zero_created(v);
    ids(&mut v);
    v
}

/// A header map from a JSON object of names to string values (none when not an object).
pub fn headers_of(spec: &Value) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (k, v) in spec.as_object().into_iter().flatten() {
        headers.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v.as_str().unwrap()).unwrap(),
        );
    }
    headers
}

/// One case directory and the secrets its `params.json` holds.
pub struct Case<'a> {
    pub dir: &'a Path,
    secrets: &'a [&'a str],
    render: fn(&UpstreamRequest) -> Value,
}

impl<'a> Case<'a> {
    /// The case in `dir`, whose outputs must not contain any of `secrets`. Requests are written
    /// redacted ([`UpstreamRequest::to_redacted_json`]).
    pub fn new(dir: &'a Path, secrets: &'a [&'a str]) -> Self {
        Case {
            dir,
            secrets,
            render: UpstreamRequest::to_redacted_json,
        }
    }

    /// The same case writing requests with `render` instead.
    pub fn rendering(self, render: fn(&UpstreamRequest) -> Value) -> Self {
        Case { render, ..self }
    }

    /// The case's `params.json`.
    pub fn params(&self) -> ProviderParams {
        serde_json::from_value(read_json(&self.dir.join("params.json")))
            .unwrap_or_else(|e| panic!("{}: params.json: {e}", self.dir.display()))
    }

    /// The path of the case's file `name`, when it exists.
    pub fn file(&self, name: &str) -> Option<PathBuf> {
        let path = self.dir.join(name);
        path.exists().then_some(path)
    }

    /// The case's JSON file `name` as a `T`, when it exists.
    pub fn json<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        self.file(name)
            .map(|path| serde_json::from_value(read_json(&path)).unwrap())
    }

    /// The bytes of the case's file `name`, when it exists.
    pub fn bytes(&self, name: &str) -> Option<Vec<u8>> {
        self.file(name).map(|path| std::fs::read(path).unwrap())
    }

    /// Compares `actual` with the case's expected file `name`.
    pub fn check(&self, name: &str, actual: &Value) {
        check_json(&self.dir.join(name), actual);
    }

    /// Asserts that no secret of the case is in `text` (`what` names it in the failure).
    pub fn assert_no_secret(&self, text: &str, what: &str) {
        for secret in self.secrets {
            assert!(
                !text.contains(secret),
                "{}: secret in {what}: {text}",
                self.dir.display()
            );
        }
    }

    /// The golden form of a built request (no secret in its `Debug` or its body), or of the
    /// error refusing it.
    pub fn upstream(&self, result: Result<UpstreamRequest, LlmError>) -> Value {
        match result {
            Ok(upstream) => {
                self.assert_no_secret(&format!("{upstream:?}"), "Debug");
                let v = (self.render)(&upstream);
                self.assert_no_secret(&v["body"].to_string(), "body");
                v
            }
            Err(e) => json!({ "error": error_json(&e) }),
        }
    }

    /// `request.openai.json` -> `request.upstream.json`: `build` gets the request and whether it
    /// streams. Returns `options` of the request (the default without one).
    pub fn check_request<O: Default>(
        &self,
        options: impl FnOnce(&ChatRequest) -> O,
        build: impl FnOnce(ChatRequest, bool) -> Result<UpstreamRequest, LlmError>,
    ) -> O {
        let Some(req) = self.json::<ChatRequest>("request.openai.json") else {
            return O::default();
        };
        let options = options(&req);
        let stream = req.is_stream();
        self.check("request.upstream.json", &self.upstream(build(req, stream)));
        options
    }

    /// `response.upstream.json` -> `response.openai.json` (an error as `{"error": ...}`).
    pub fn check_response<T: Serialize>(
        &self,
        parse: impl FnOnce(&[u8]) -> Result<T, LlmError>,
        normalize: fn(Value) -> Value,
    ) {
        if let Some(bytes) = self.bytes("response.upstream.json") {
            self.check("response.openai.json", &or_error(parse(&bytes), normalize));
        }
    }

    /// A streamed answer (when the case has one) -> `stream.openai.jsonl`: one item per line,
    /// an error as `{"error": ...}`. Decoded whole and byte by byte with decoders from
    /// `decoder`; both must agree.
    pub fn check_stream(
        &self,
        bytes: Option<Vec<u8>>,
        decoder: impl Fn() -> Box<dyn ChunkDecoder>,
        normalize: fn(Value) -> Value,
    ) {
        let Some(bytes) = bytes else {
            return;
        };
        let items = |pieces: &[&[u8]]| -> Vec<Value> {
            let mut d = decoder();
            let mut out = Items::new();
            for piece in pieces {
                d.feed(piece, &mut out);
            }
            d.finish(&mut out);
            out.into_iter()
                .map(|item| or_error(item, normalize))
                .collect()
        };
        let whole = items(&[&bytes]);
        let pieces: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(
            items(&pieces),
            whole,
            "{}: byte-by-byte decoding differs",
            self.dir.display()
        );
        check_jsonl(&self.dir.join("stream.openai.jsonl"), &whole);
    }

    /// `embedding.openai.json` -> `embedding.upstream.json`, and with
    /// `embedding_response.upstream.json` -> `embedding_response.openai.json`.
    pub fn check_embedding<T: Serialize>(
        &self,
        build: impl FnOnce(&EmbeddingRequest) -> Result<UpstreamRequest, LlmError>,
        parse: impl FnOnce(&[u8], &EmbeddingRequest) -> Result<T, LlmError>,
    ) {
        let Some(req) = self.json::<EmbeddingRequest>("embedding.openai.json") else {
            return;
        };
        self.check("embedding.upstream.json", &self.upstream(build(&req)));
        if let Some(bytes) = self.bytes("embedding_response.upstream.json") {
            let actual = or_error(parse(&bytes, &req), as_is);
            self.check("embedding_response.openai.json", &actual);
        }
    }

    /// `error.upstream.json` -> `error.openai.json`, through `map(status, headers, body)`; the
    /// error carries no secret.
    pub fn check_error(&self, map: impl FnOnce(u16, &HeaderMap, &[u8]) -> LlmError) {
        let Some(spec) = self.json::<Value>("error.upstream.json") else {
            return;
        };
        let status = spec["status"].as_u64().unwrap() as u16;
        let body = match &spec["body"] {
            Value::String(s) => s.clone().into_bytes(),
            other => serde_json::to_vec(other).unwrap(),
        };
        let err = map(status, &headers_of(&spec["headers"]), &body);
        let actual = error_json(&err);
        self.assert_no_secret(&err.message, "message");
        self.assert_no_secret(&actual.to_string(), "error");
        self.check("error.openai.json", &actual);
    }
}
