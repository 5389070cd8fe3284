//! `FakeGemini`: an in-process HTTP server on `127.0.0.1:0` speaking Google's Gemini wire formats,
//! for tests: Google AI Studio (`POST /v1beta/models/{model}:generateContent`,
//! `:streamGenerateContent?alt=sse`, `:batchEmbedContents`, key in `x-goog-api-key`), Vertex AI
//! (`POST /v1/projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent`,
//! `:streamGenerateContent?alt=sse`, `:predict`, and `publishers/anthropic/...:rawPredict` /
//! `:streamRawPredict` for Claude, bearer token required), and an OAuth2 token endpoint
//! (`POST /token`, the JWT-bearer grant) issuing the bearer tokens Vertex paths accept.
//!
//! Like the real API it answers errors as `{"error": {"code", "message", "status"}}`: a missing
//! key is 403 `PERMISSION_DENIED`, an unknown bearer token 401 `UNAUTHENTICATED`, a key in the
//! query string, an unknown top-level field or empty `contents` 400 `INVALID_ARGUMENT`; other
//! paths 404 `NOT_FOUND`. Streams are framed `data: <json>\r\n\r\n` as Google frames them;
//! without `alt=sse` a stream is one JSON array, as documented.
//!
//! A `generateContent` / `streamGenerateContent` history the real API refuses is refused with
//! 400 `INVALID_ARGUMENT` and Google's wording before any scripted answer is used (the request is
//! still recorded; see [`crate::history::gemini`]):
//! - a role other than `user` / `model` (or none): `Please use a valid role: user, model.`;
//! - a content without parts (`contents[i].parts: contents.parts must not be empty.`), or a
//!   `functionResponse` without a `name`;
//! - a turn with `functionResponse` parts not right after a `model` turn with `functionCall`
//!   parts, or with a different number of parts than that turn has calls;
//! - a `model` turn with `functionCall` parts not right after a user turn (a function-response
//!   turn is one).
//!
//! Claude on Vertex (`rawPredict`) checks its `messages` as [`crate::FakeAnthropic`] does
//! (Anthropic's 400 `invalid_request_error` body).
//!
//! The default answer is [`FakeGemini::DEFAULT_REPLY`] (one event per word when streamed, the
//! last with `finishReason: STOP` and the usage). Usage is ⌈chars/4⌉ of the text of every
//! content (at least 1) for the prompt and of the reply for the candidates.
//!
//! [`TEST_PRIVATE_KEY_PEM`] / [`TEST_PUBLIC_KEY_PEM`] are a throwaway RSA key pair generated for
//! these tests only (never used anywhere else); [`FakeGemini::service_account_json`] wraps the
//! private key in a service-account JSON whose `token_uri` is this fake.

use std::sync::{Arc, Mutex};

use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};

use crate::fake_script::{chat_script, Answer};
use crate::fake_server::{
    self, block_texts, estimate_tokens as tokens, event_frames, fake_handle, lock, FakeHeaders,
    Incoming, RecordedRequest, ServerState,
};
use crate::history;

/// TEST-ONLY RSA private key (PKCS#8), generated for the litellm-rs test suite. It protects
/// nothing: it only signs JWTs sent to [`FakeGemini`]'s token endpoint.
pub const TEST_PRIVATE_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----\n\
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCu8wvuQc6gXGr5\n\
6gVNGmDQgNQrhf1YbhND7YOew5RkX4CfCYAq64W83Y9bqc1ajEu9oH3/vuyFoiIk\n\
U6rjS6c0+kk6pjBeiqcggXugIglk3Faj3Aaj99/BDq/6d22LkPqWGqHizWKlUfGb\n\
7l9gxYIa57l9UNp8Fi1tw1J4WOjDaSEht85MT+xhN6CZlGsFyC6mjLgpjvuBv2Qw\n\
IULldKjt4vYZvMYsePt4nXuKEIpU3kISQ23G7BGKsXuWM6nDTFMgGJN1G72T7xy1\n\
XyIsWqQWgmHrJ+RXKBbn5o+tg1xenJ7ZhVOPG6poi8M7052uZzxuuFWuro+FR3wO\n\
q5noWGrzAgMBAAECggEAIEjdxMQEG3eyjhfvjoD1qMR9YuLBE9aMW5azGVNCSRuO\n\
osqgCkuYTHgegm3dZX5KY94AInfbMfXvkwCVoohNfOtLJDWS639uxALhC3X8gc5f\n\
drGd0BhoBDpvoyry3jSM6bJUeYQpVhS/H2Vn2HXaQpjMlCGdkBSPoZfP2kGeAqFP\n\
djINILYTtmXUF8Ct8XHelAWA+8XvFRV+h7tUmDU5oR0EqRCL1JCBPngkVzNmoeMR\n\
g6tIER7jwn/2zTVQV09o7lzI+G85TEdsAbT2WTxh5GzTwH2vIxKk1RfjEc9ckMtm\n\
63ysA1Wop1Mr0afdxxkxj/RfFsernRSM+lTTuOBSYQKBgQDocNpFcEzhl/W+casf\n\
3F+0cBo6zcabYAzBwp2UNx1RGoLuJzMDvQ7Fip+FWO2Y9Jcqcj2KPkCPfT3Gwa52\n\
pr22Ii/qh7wal2aUGN6q8y6uM1FfLjaOomk+JSHbs9fzzKJmWlqSlou7aq8/EwJl\n\
x2bNSUBl1zm/4spEUVGXBquGGwKBgQDArnZrt35a6pWySKmLIJs8kz5wStRLvzba\n\
4HT8NM0UjFK+HQRXxQ00Yo2sCOx2EbXPo9D5wFH+O/ETQTv4NdYcrdv5NgQy2fkD\n\
BTfcJVfsN83Q4b5p4kKjQUAQW1PPL+NH+Pk7fQkYwWkhCR1u9ba3AcgOFjkcPslg\n\
kwVMNk1cCQKBgQCJaQWwHSZmCuaM8jeeuzGcwtTOxI1PlyWTehCb6UUciBa04VmI\n\
MUDFSSDqvNqhHJ8syaJV0l1qNjjKAf+4RvRJ8sXu2NU7xxsuG9Gur9p9wvqs0O4R\n\
vjOHOH5eml/k0amD5pA6rmLmpbf6CqvVLV85pr86NVT/efvnDUe1h4zo1wKBgCTr\n\
yUlOuemV9eVZwxMjxltPI7HExPVWyJ4cUI5bV8jOMrS3PrPK0ILvN5J1i0n8jsgg\n\
7dRNo+iBd+pmn6UqO8L3FaWlUhykY/DOOSv4A+cBsnCKMUB82KQLxsjbly2mUXjj\n\
Hm7lwK57sTdhVcCDWOWsc7cvTvY4mcHlqig2Z5BxAoGAIi6hOPAbvMwZKGDF5YNt\n\
Pd0EC4awUuYzPA5z7sg/jffQlrSDZJq1Rqn1LQrDHNgz7i0+rLTfvHhBVKL5Y6WH\n\
jIn5T7lQFItb5f2rnh9WadWhnZYtXSXugf8rWFCivYWYuejWJIUHjU6GqEfamq9w\n\
EUA89LazDAFa7DK5+SAqBkE=\n\
-----END PRIVATE KEY-----\n";

/// The public half of [`TEST_PRIVATE_KEY_PEM`] (SPKI PEM), to verify signed assertions.
pub const TEST_PUBLIC_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArvML7kHOoFxq+eoFTRpg\n\
0IDUK4X9WG4TQ+2DnsOUZF+AnwmAKuuFvN2PW6nNWoxLvaB9/77shaIiJFOq40un\n\
NPpJOqYwXoqnIIF7oCIJZNxWo9wGo/ffwQ6v+ndti5D6lhqh4s1ipVHxm+5fYMWC\n\
Gue5fVDafBYtbcNSeFjow2khIbfOTE/sYTegmZRrBcgupoy4KY77gb9kMCFC5XSo\n\
7eL2GbzGLHj7eJ17ihCKVN5CEkNtxuwRirF7ljOpw0xTIBiTdRu9k+8ctV8iLFqk\n\
FoJh6yfkVygW5+aPrYNcXpye2YVTjxuqaIvDO9Odrmc8brhVrq6PhUd8DquZ6Fhq\n\
8wIDAQAB\n\
-----END PUBLIC KEY-----\n";

/// The grant type of the OAuth2 JWT-bearer flow (RFC 7523).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

chat_script! {
    /// A scripted answer; queued answers are used once each, first in first out, then the
    /// default.
    /// The token endpoint does not consume them.
    GeminiScript: "a response, its event stream, or embeddings",
    usage "(promptTokenCount, candidatesTokenCount)", default FakeGemini::DEFAULT_REPLY,
    /// An SSE stream of exactly these events (`data: <json>\r\n\r\n` each).
    Events(Vec<Value>)
}

impl GeminiScript {
    /// Google's error body with this HTTP status, RPC status and message.
    pub fn error(status: u16, google_status: &str, message: &str) -> Self {
        GeminiScript::Status {
            status,
            body: error_body(status, google_status, message),
            headers: Vec::new(),
        }
    }
}

fn error_body(code: u16, status: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message, "status": status}})
}

/// The token endpoint's state.
#[derive(Default)]
struct Tokens {
    issued: Mutex<Vec<String>>,
    failures: Mutex<u32>,
}

type Shared = ServerState<GeminiScript, Tokens>;

fake_handle!(FakeGemini(FakeServer<GeminiScript, Tokens>), start: (handle, Tokens::default()),
    base_url: "`http://127.0.0.1:PORT`: the `api_base` for `gemini/` and `vertex_ai/` deployments.",
    requests: "Token requests included; a token request's body is the raw form text.",
    push: "For a model request; token requests do not use them.",
    default_reply: "Hello from the fake Gemini upstream!");

impl FakeGemini {
    /// The project of [`FakeGemini::service_account_json`].
    pub const PROJECT: &'static str = "fake-project";

    /// The token endpoint: `http://127.0.0.1:PORT/token`.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.server.base_url())
    }

    /// A service-account JSON with the test key whose `token_uri` is this fake.
    pub fn service_account_json(&self) -> String {
        json!({
            "type": "service_account",
            "project_id": Self::PROJECT,
            "private_key_id": "test-key-1",
            "private_key": TEST_PRIVATE_KEY_PEM,
            "client_email": "litellm-test@fake-project.iam.gserviceaccount.com",
            "client_id": "1234567890",
            "token_uri": self.token_url(),
        })
        .to_string()
    }

    /// The requests other than token requests.
    pub fn model_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path != "/token")
            .collect()
    }

    /// The token requests received.
    pub fn token_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == "/token")
            .collect()
    }

    /// The access tokens issued so far.
    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.server.state().extra.issued).clone()
    }

    /// The next `n` token requests are refused with 400 `invalid_grant`.
    pub fn fail_token_requests(&self, n: u32) {
        *lock(&self.server.state().extra.failures) = n;
    }
}

fn parts_text(content: &Value) -> String {
    block_texts(content.get("parts").unwrap_or(&Value::Null))
}

fn prompt_tokens(body: &Value) -> u64 {
    let mut text = parts_text(body.get("systemInstruction").unwrap_or(&Value::Null));
    for c in body
        .get("contents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        text.push_str(&parts_text(c));
    }
    tokens(&text)
}

/// Decodes unpadded base64url (JWT segments).
fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            b'=' => continue,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

/// Percent-decodes a form value (`+` is a space).
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form_field(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (form_decode(k) == name).then(|| form_decode(v))
    })
}

/// The JWT-bearer grant: checks the form and the assertion's header and claims (the signature is
/// checked by tests with [`TEST_PUBLIC_KEY_PEM`]).
fn token_response(shared: &Shared, body: &str) -> Response {
    let refuse = |description: &str| {
        HEADERS.json(
            400,
            &json!({"error": "invalid_grant", "error_description": description}),
            &[],
        )
    };
    {
        let mut failures = lock(&shared.extra.failures);
        if *failures > 0 {
            *failures -= 1;
            return refuse("Invalid JWT Signature.");
        }
    }
    if form_field(body, "grant_type").as_deref() != Some(JWT_BEARER_GRANT) {
        return HEADERS.json(
            400,
            &json!({"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}),
            &[],
        );
    }
    let Some(assertion) = form_field(body, "assertion") else {
        return refuse("Missing assertion");
    };
    let segments: Vec<&str> = assertion.split('.').collect();
    if segments.len() != 3 || segments[2].is_empty() {
        return refuse("Invalid JWT: not a signed JWT");
    }
    let decode = |s: &str| b64url_decode(s).and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let (Some(header), Some(claims)) = (decode(segments[0]), decode(segments[1])) else {
        return refuse("Invalid JWT: segments are not base64url JSON");
    };
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return refuse("Invalid JWT: alg must be RS256");
    }
    let token_url = format!("http://{}/token", shared.addr);
    if claims.get("aud").and_then(Value::as_str) != Some(token_url.as_str()) {
        return refuse("Invalid JWT: audience does not match the token endpoint");
    }
    if claims.get("scope").and_then(Value::as_str).is_none()
        || claims.get("iss").and_then(Value::as_str).is_none()
    {
        return refuse("Invalid JWT: iss and scope are required");
    }
    match (
        claims.get("iat").and_then(Value::as_u64),
        claims.get("exp").and_then(Value::as_u64),
    ) {
        (Some(iat), Some(exp)) if exp > iat && exp - iat <= 3600 => {}
        _ => return refuse("Invalid JWT: iat/exp must span at most one hour"),
    }
    let mut issued = lock(&shared.extra.issued);
    let token = format!("ya29.fake-access-token-{}", issued.len() + 1);
    issued.push(token.clone());
    HEADERS.json(
        200,
        &json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}),
        &[],
    )
}

/// What a model path names.
struct Route {
    vertex: bool,
    publisher: String,
    model: String,
    method: String,
}

fn route(path: &str) -> Option<Route> {
    let (resource, method) = path.rsplit_once(':')?;
    let segments: Vec<&str> = resource.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["v1beta", "models", model] => Some(Route {
            vertex: false,
            publisher: "google".into(),
            model: (*model).to_string(),
            method: method.to_string(),
        }),
        ["v1", "projects", _, "locations", _, "publishers", publisher, "models", model] => {
            Some(Route {
                vertex: true,
                publisher: (*publisher).to_string(),
                model: (*model).to_string(),
                method: method.to_string(),
            })
        }
        _ => None,
    }
}

const KNOWN_FIELDS: &[&str] = &[
    "contents",
    "systemInstruction",
    "system_instruction",
    "generationConfig",
    "generation_config",
    "tools",
    "toolConfig",
    "tool_config",
    "safetySettings",
    "safety_settings",
    "cachedContent",
    "cached_content",
    "labels",
    "model",
];

fn invalid(message: &str) -> Response {
    HEADERS.json(400, &error_body(400, "INVALID_ARGUMENT", message), &[])
}

/// Google's validation of a `GenerateContentRequest`, the parts that matter for our tests: known
/// fields, `contents` present, then the history rules of [`history::gemini`].
fn validate_generate(body: &Value) -> Result<(), String> {
    let Some(map) = body.as_object() else {
        return Err("Invalid JSON payload received.".to_string());
    };
    for key in map.keys() {
        if !KNOWN_FIELDS.contains(&key.as_str()) {
            return Err(format!(
                "Invalid JSON payload received. Unknown name \"{key}\": Cannot find field."
            ));
        }
    }
    if map
        .get("contents")
        .and_then(Value::as_array)
        .is_none_or(|c| c.is_empty())
    {
        return Err("* GenerateContentRequest.contents: contents is not specified".to_string());
    }
    history::gemini(body)
}

async fn handle(shared: Arc<Shared>, req: Incoming) -> Response {
    let parsed = shared.record(&req);
    let body = req.text();
    let Incoming {
        method,
        uri,
        headers,
        ..
    } = req;
    if method == Method::POST && uri.path() == "/token" {
        return token_response(&shared, &body);
    }
    let not_found = || {
        HEADERS.json(
            404,
            &error_body(404, "NOT_FOUND", &format!("Not found: {}", uri.path())),
            &[],
        )
    };
    let Some(route) = route(uri.path()).filter(|_| method == Method::POST) else {
        return not_found();
    };
    let query = uri.query().unwrap_or("");
    if query.split('&').any(|kv| kv.starts_with("key=")) {
        return invalid("API keys must not be sent in the URL by this client (use x-goog-api-key)");
    }
    if route.vertex {
        let issued = lock(&shared.extra.issued).clone();
        let bearer = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !bearer.is_some_and(|t| issued.iter().any(|i| i == t)) {
            return HEADERS.json(
                401,
                &error_body(
                    401,
                    "UNAUTHENTICATED",
                    "Request had invalid authentication credentials. Expected OAuth 2 access \
                     token, login cookie or other valid authentication credential.",
                ),
                &[],
            );
        }
    } else if !headers.contains_key("x-goog-api-key") {
        return HEADERS.json(
            403,
            &error_body(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established \
                 identity). Please use API Key or other form of API consumer identity to call \
                 this API.",
            ),
            &[],
        );
    }
    let Ok(body) = parsed else {
        return invalid("Invalid JSON payload received.");
    };
    let sse = query.split('&').any(|kv| kv == "alt=sse");
    match (
        route.publisher.as_str(),
        route.method.as_str(),
        route.vertex,
    ) {
        ("google", "generateContent" | "streamGenerateContent", _) => {
            if let Err(message) = validate_generate(&body) {
                return invalid(&message);
            }
            let stream = route.method == "streamGenerateContent";
            let script = shared.pop().unwrap_or(GeminiScript::Default);
            script.answer().respond(
                &HEADERS,
                |events| sse_response(&events),
                || prompt_tokens(&body),
                |text, usage| {
                    let events = reply_events(&route.model, text, usage, stream);
                    if !stream {
                        HEADERS.json(200, &events[0], &[])
                    } else if sse {
                        sse_response(&events)
                    } else {
                        HEADERS.json(200, &Value::Array(events), &[])
                    }
                },
            )
        }
        ("google", "batchEmbedContents", false) => {
            let Some(requests) = body.get("requests").and_then(Value::as_array) else {
                return invalid("* BatchEmbedContentsRequest.requests: requests is required");
            };
            let expected = format!("models/{}", route.model);
            let mut embeddings = Vec::new();
            for (i, r) in requests.iter().enumerate() {
                if r.get("model").and_then(Value::as_str) != Some(expected.as_str()) {
                    return invalid(&format!(
                        "* BatchEmbedContentsRequest.requests[{i}].model: the model must be \
                         {expected}"
                    ));
                }
                let text = parts_text(r.get("content").unwrap_or(&Value::Null));
                let dims = r
                    .get("outputDimensionality")
                    .and_then(Value::as_u64)
                    .unwrap_or(8);
                embeddings.push(json!({ "values": vector(&text, dims) }));
            }
            if let Some(script) = shared.pop() {
                return scripted_json(script);
            }
            HEADERS.json(200, &json!({ "embeddings": embeddings }), &[])
        }
        ("google", "predict", true) => {
            let Some(instances) = body.get("instances").and_then(Value::as_array) else {
                return invalid("instances is required");
            };
            let dims = body
                .pointer("/parameters/outputDimensionality")
                .and_then(Value::as_u64)
                .unwrap_or(8);
            let predictions: Vec<Value> = instances
                .iter()
                .map(|i| {
                    let text = i.get("content").and_then(Value::as_str).unwrap_or("");
                    json!({"embeddings": {"values": vector(text, dims),
                        "statistics": {"token_count": tokens(text), "truncated": false}}})
                })
                .collect();
            if let Some(script) = shared.pop() {
                return scripted_json(script);
            }
            HEADERS.json(200, &json!({ "predictions": predictions }), &[])
        }
        ("anthropic", "rawPredict" | "streamRawPredict", true) => {
            if body.get("anthropic_version").and_then(Value::as_str) != Some("vertex-2023-10-16") {
                return invalid("anthropic_version: vertex-2023-10-16 is required");
            }
            if body.get("model").is_some() {
                return invalid("model: Extra inputs are not permitted");
            }
            if body.get("messages").is_none() || body.get("max_tokens").is_none() {
                return invalid("messages and max_tokens are required");
            }
            if let Err(message) = history::anthropic(&body, &headers) {
                let error = json!({"type": "error", "error":
                    {"type": "invalid_request_error", "message": message}});
                return HEADERS.json(400, &error, &[]);
            }
            let script = shared.pop().unwrap_or(GeminiScript::Default);
            match script {
                GeminiScript::Default | GeminiScript::Reply { .. } => {
                    claude_reply(&route.model, route.method == "streamRawPredict")
                }
                other => scripted_json(other),
            }
        }
        _ => not_found(),
    }
}

fn scripted_json(script: GeminiScript) -> Response {
    match script.answer().fixed(&HEADERS) {
        Ok(fixed) => fixed,
        Err(Answer::Stream(events)) => sse_response(&events),
        Err(_) => HEADERS.json(500, &error_body(500, "INTERNAL", "nothing to answer"), &[]),
    }
}

/// A deterministic vector of `dims` values for `text`.
fn vector(text: &str, dims: u64) -> Vec<f64> {
    let seed: u64 = text.bytes().map(u64::from).sum();
    (0..dims)
        .map(|i| ((seed + i * 31) % 100) as f64 / 100.0)
        .collect()
}

/// The answer: one response, or the stream's events (one per word, the last finishing).
fn reply_events(model: &str, text: &str, (prompt, output): (u64, u64), stream: bool) -> Vec<Value> {
    let usage = json!({"promptTokenCount": prompt, "candidatesTokenCount": output,
        "totalTokenCount": prompt + output,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]});
    if !stream {
        return vec![json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": "STOP", "index": 0}],
            "usageMetadata": usage, "modelVersion": model, "responseId": "fake-resp-1"
        })];
    }
    let mut pieces: Vec<String> = Vec::new();
    for (i, word) in text.split(' ').enumerate() {
        pieces.push(if i == 0 {
            word.to_string()
        } else {
            format!(" {word}")
        });
    }
    let last = pieces.len() - 1;
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            let mut candidate =
                json!({"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0});
            let usage = if i == last {
                candidate["finishReason"] = json!("STOP");
                usage.clone()
            } else {
                json!({"promptTokenCount": prompt, "totalTokenCount": prompt})
            };
            json!({"candidates": [candidate], "usageMetadata": usage,
                "modelVersion": model, "responseId": "fake-resp-1"})
        })
        .collect()
}

fn claude_reply(model: &str, stream: bool) -> Response {
    let text = FakeGemini::DEFAULT_REPLY;
    let output = tokens(text);
    if !stream {
        return HEADERS.json(
            200,
            &json!({"id": "msg_vrtx_01", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": output}}),
            &[],
        );
    }
    let events = [
        json!({"type": "message_start", "message": {"id": "msg_vrtx_01", "type": "message",
            "role": "assistant", "model": model, "content": [], "stop_reason": null,
            "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": text}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": output}}),
        json!({"type": "message_stop"}),
    ];
    fake_server::stream_response(
        event_frames(&events),
        &[("content-type", "text/event-stream")],
    )
}

/// The headers of every answer.
const HEADERS: FakeHeaders = FakeHeaders {
    json: &[
        ("content-type", "application/json; charset=UTF-8"),
        ("x-goog-request-id", "fake-req-1"),
    ],
    stream: &[
        ("content-type", "text/event-stream"),
        ("x-goog-request-id", "fake-req-1"),
    ],
};

fn sse_response(events: &[Value]) -> Response {
    HEADERS.framed(events, |e| format!("data: {e}\r\n\r\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_and_base64url_decoding() {
        assert_eq!(
            form_field(
                "grant_type=urn%3Aietf%3Aparams&assertion=a.b.c",
                "grant_type"
            )
            .as_deref(),
            Some("urn:ietf:params")
        );
        assert_eq!(form_field("a=1", "b"), None);
        assert_eq!(
            b64url_decode("eyJhIjoxfQ").as_deref(),
            Some(&b"{\"a\":1}"[..])
        );
    }

    #[test]
    fn paths_route_to_ai_studio_and_vertex() {
        let r = route("/v1beta/models/gemini-2.0-flash:generateContent").expect("route");
        assert!(!r.vertex && r.model == "gemini-2.0-flash" && r.method == "generateContent");
        let r = route("/v1/projects/p/locations/l/publishers/anthropic/models/claude-x:rawPredict")
            .expect("route");
        assert!(r.vertex && r.publisher == "anthropic" && r.model == "claude-x");
        assert!(route("/v1/chat/completions").is_none());
    }

    #[test]
    fn validation_refuses_unknown_fields_and_bad_roles() {
        assert!(validate_generate(
            &json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}]})
        )
        .is_ok());
        assert!(validate_generate(&json!({"contents": []})).is_err());
        assert!(validate_generate(
            &json!({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]})
        )
        .is_err());
        assert!(validate_generate(
            &json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}], "temperature": 1})
        )
        .is_err());
    }
}
