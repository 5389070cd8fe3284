//! The response cache (`litellm_settings.cache: true` + `cache_params`): in memory (moka,
//! bounded by entries and bytes) or on Redis (shared by replicas). Keys are SHA-256 over the
//! model group and the request fields that change the answer, as LiteLLM's; per-request
//! `cache: {no-cache, no-store, ttl, s-maxage, namespace, use-cache}` controls apply.
//!
//! Architecture invariant: the cache never fails a request. A Redis error or timeout is a miss
//! (reads) or a dropped write, logged once per outage, and Redis is not tried again for
//! [`REDIS_BACKOFF`]. Writes happen off the request path. On Redis the cache runs on the
//! process's `RedisHandle` for that server (pool and breaker shared with the router's state and
//! the rate limiter when `cache_params` names no other Redis), each call bounded by
//! [`REDIS_TIMEOUT`].
//!
//! Files: this one holds the settings, keys and plans; `redis.rs` the Redis store; `stream.rs`
//! replaying a cached answer as a stream and capturing a streamed one.

mod redis;
mod stream;

pub use stream::{chat_response_as_sse, StreamCapture};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use litellm_router::RedisHandle;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use litellm_core::JsonMap;

/// Default time to live of a cached response (LiteLLM's in-memory default).
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);

/// The longest `ttl` a request's `cache` controls may set (a longer one is clamped to it, or
/// to `cache_params.ttl` when that is longer).
pub const MAX_CLIENT_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// Default bound on the in-memory cache's entries.
pub const DEFAULT_MAX_ENTRIES: u64 = 10_000;
/// Default bound on the in-memory cache's bytes (response bodies and keys).
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Responses larger than this are not cached in memory (LiteLLM's `max_size_per_item`, 1 MiB).
pub const DEFAULT_MAX_ITEM_BYTES: usize = 1024 * 1024;
/// Bound on one Redis call.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(200);
/// After a Redis failure the cache stops trying Redis for this long (the handle's breaker).
pub const REDIS_BACKOFF: Duration = litellm_router::redis::BREAKER_OPEN_FOR;
/// Prefix of every Redis key this cache writes.
pub const REDIS_PREFIX: &str = "litellm_rs:cache:";

pub use crate::config::CacheParams;

/// Whether requests use the cache unless they opt out, or only when they opt in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    DefaultOn,
    DefaultOff,
}

/// The cache's settings after validation.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    pub ttl: Duration,
    pub namespace: Option<String>,
    pub mode: CacheMode,
    /// Call types cached; `None` means all.
    pub call_types: Option<Vec<String>>,
    pub max_entries: u64,
    pub max_bytes: u64,
    pub max_item_bytes: usize,
}

/// Where cached responses live.
enum Store {
    Local(moka::sync::Cache<String, Entry>),
    Redis(redis::RedisCache),
}

#[derive(Clone)]
struct Entry {
    body: Bytes,
    /// Unix milliseconds the entry was written.
    stored_at: u64,
    ttl: Duration,
}

struct EntryExpiry;

impl moka::Expiry<String, Entry> for EntryExpiry {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Entry,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// The response cache shared by the handlers.
#[derive(Clone)]
pub struct ResponseCache {
    settings: Arc<CacheSettings>,
    store: Arc<Store>,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("kind", &self.kind())
            .field("settings", &self.settings)
            .finish()
    }
}

/// What one request does with the cache, decided before routing.
#[derive(Debug, Clone, PartialEq)]
pub struct CachePlan {
    /// `namespace:hash` or `hash`; returned as `x-litellm-cache-key`.
    pub key: String,
    /// Look the key up before calling the upstream.
    pub read: bool,
    /// Store the response afterwards.
    pub write: bool,
    /// Time to live of the write.
    pub ttl: Duration,
    /// Only accept entries younger than this (`s-maxage`).
    pub max_age: Option<Duration>,
}

/// The per-request `cache` object of a request body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RequestCacheControl {
    #[serde(rename = "no-cache")]
    pub no_cache: bool,
    #[serde(rename = "no-store")]
    pub no_store: bool,
    pub ttl: Option<f64>,
    #[serde(rename = "s-maxage")]
    pub s_maxage: Option<f64>,
    pub namespace: Option<String>,
    #[serde(rename = "use-cache")]
    pub use_cache: Option<bool>,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn seconds(v: Option<f64>, what: &str) -> Result<Option<Duration>, String> {
    match v {
        None => Ok(None),
        Some(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(format!(
            "{what} must be a positive number of seconds, got {s}"
        )),
    }
}

impl CacheSettings {
    /// Validates `cache_params` (the error names the field).
    pub fn from_params(p: &CacheParams) -> Result<CacheSettings, String> {
        let mode = match p.mode.as_deref() {
            None | Some("default_on") => CacheMode::DefaultOn,
            Some("default_off") => CacheMode::DefaultOff,
            Some(other) => {
                return Err(format!(
                    "litellm_settings.cache_params.mode: expected default_on or default_off, got {other:?}"
                ))
            }
        };
        Ok(CacheSettings {
            ttl: seconds(p.ttl, "litellm_settings.cache_params.ttl")?.unwrap_or(DEFAULT_TTL),
            namespace: p.namespace.clone().filter(|n| !n.is_empty()),
            mode,
            call_types: p.supported_call_types.clone(),
            max_entries: p.max_size_in_memory.unwrap_or(DEFAULT_MAX_ENTRIES).max(1),
            max_bytes: p.max_size_bytes.unwrap_or(DEFAULT_MAX_BYTES).max(1024),
            max_item_bytes: p.max_size_per_item.unwrap_or(DEFAULT_MAX_ITEM_BYTES),
        })
    }
}

/// Whether `kind` names the Redis cache (LiteLLM also accepts `redis-semantic`, which we do not
/// implement and refuse).
pub fn parse_kind(kind: Option<&str>) -> Result<bool, String> {
    match kind {
        None | Some("local") | Some("in-memory") | Some("memory") => Ok(false),
        Some("redis") => Ok(true),
        Some(other) => Err(format!(
            "litellm_settings.cache_params.type: {other:?} is not supported; use local or redis"
        )),
    }
}

/// The Redis URL from `cache_params` (url, or host/port/password).
pub fn redis_url_from_params(p: &CacheParams) -> Option<String> {
    if let Some(url) = p.url.as_ref().filter(|u| !u.expose_secret().is_empty()) {
        return Some(url.expose_secret().to_string());
    }
    let host = p.host.as_ref().filter(|h| !h.is_empty())?;
    let port = p.port.unwrap_or(6379);
    let auth = p
        .password
        .as_ref()
        .filter(|pw| !pw.expose_secret().is_empty())
        .map(|pw| {
            let enc: String = pw
                .expose_secret()
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            format!(":{enc}@")
        })
        .unwrap_or_default();
    Some(format!("redis://{auth}{host}:{port}"))
}

impl ResponseCache {
    /// An in-memory cache.
    pub fn local(settings: CacheSettings) -> ResponseCache {
        let per_entry_floor = (settings.max_bytes / settings.max_entries).max(1);
        // Weighing every entry at least max_bytes / max_entries bounds both the bytes and the
        // number of entries with moka's single weighted capacity.
        let cache = moka::sync::Cache::builder()
            .max_capacity(settings.max_bytes)
            .weigher(move |k: &String, v: &Entry| {
                let w = (k.len() + v.body.len()) as u64;
                w.max(per_entry_floor).min(u32::MAX as u64) as u32
            })
            .expire_after(EntryExpiry)
            .build();
        ResponseCache {
            settings: Arc::new(settings),
            store: Arc::new(Store::Local(cache)),
        }
    }

    /// A Redis cache at `url`; connects lazily, so a Redis that is down at start-up only makes
    /// every lookup a miss until it is back.
    pub fn redis(settings: CacheSettings, url: &str) -> Result<ResponseCache, String> {
        let handle = RedisHandle::new(url, REDIS_TIMEOUT)
            .map_err(|e| e.replacen("invalid Redis URL", "invalid Redis URL for the cache", 1))?;
        Ok(Self::on_redis(settings, &handle))
    }

    /// A Redis cache on an existing handle (shared with the router's state and the rate
    /// limiter: one pool, one breaker); its calls are bounded by [`REDIS_TIMEOUT`].
    pub fn on_redis(settings: CacheSettings, handle: &RedisHandle) -> ResponseCache {
        ResponseCache {
            settings: Arc::new(settings),
            store: Arc::new(Store::Redis(redis::RedisCache::new(
                handle.with_timeout(REDIS_TIMEOUT),
            ))),
        }
    }

    /// The Redis handle the cache runs on, if any.
    pub fn redis_handle(&self) -> Option<&RedisHandle> {
        match &*self.store {
            Store::Local(_) => None,
            Store::Redis(r) => Some(r.handle()),
        }
    }

    /// `local` or `redis`.
    pub fn kind(&self) -> &'static str {
        match &*self.store {
            Store::Local(_) => "local",
            Store::Redis(_) => "redis",
        }
    }

    pub fn settings(&self) -> &CacheSettings {
        &self.settings
    }

    /// Decides what a request does with the cache from its `cache` control object (taken out
    /// of `extra`, so it never reaches an upstream) and the settings. `None`: the cache is not
    /// used for this request. `fields` are the request's answer-changing fields as JSON.
    pub fn plan(
        &self,
        call_type: &str,
        group: &str,
        fields: &Value,
        control: Option<&Value>,
    ) -> Result<Option<CachePlan>, String> {
        if let Some(types) = &self.settings.call_types {
            let base = call_type.strip_prefix('a').unwrap_or(call_type);
            if !types
                .iter()
                .any(|t| t == call_type || t.strip_prefix('a').unwrap_or(t) == base)
            {
                return Ok(None);
            }
        }
        let control: RequestCacheControl = match control {
            None | Some(Value::Null) => RequestCacheControl::default(),
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|e| format!("cache: invalid cache controls: {e}"))?,
        };
        let enabled = match self.settings.mode {
            CacheMode::DefaultOn => control.use_cache != Some(false),
            CacheMode::DefaultOff => control.use_cache == Some(true),
        };
        if !enabled {
            return Ok(None);
        }
        // A client may shorten or lengthen an entry's life, but not past MAX_CLIENT_TTL (or
        // the configured ttl, when that is longer): entries are memory or Redis space.
        let longest = self.settings.ttl.max(MAX_CLIENT_TTL);
        let ttl = seconds(control.ttl, "cache.ttl")?.map_or(self.settings.ttl, |t| t.min(longest));
        let max_age = seconds(control.s_maxage, "cache.s-maxage")?;
        let namespace = control
            .namespace
            .as_deref()
            .filter(|n| !n.is_empty())
            .or(self.settings.namespace.as_deref());
        let hash = cache_key_hash(group, fields);
        let key = match namespace {
            Some(ns) => format!("{ns}:{hash}"),
            None => hash,
        };
        Ok(Some(CachePlan {
            key,
            read: !control.no_cache,
            write: !control.no_store,
            ttl,
            max_age,
        }))
    }

    /// The cached body for `plan`, if any (and young enough for `s-maxage`).
    pub async fn get(&self, plan: &CachePlan) -> Option<Bytes> {
        let entry = match &*self.store {
            Store::Local(c) => c.get(&plan.key)?,
            Store::Redis(r) => r.get(&plan.key).await?,
        };
        if let Some(max_age) = plan.max_age {
            if now_ms().saturating_sub(entry.stored_at) > max_age.as_millis() as u64 {
                return None;
            }
        }
        Some(entry.body)
    }

    /// Stores `body` under `plan`'s key: at once in memory, on a background task for Redis.
    pub fn put(&self, plan: &CachePlan, body: Bytes) {
        if !plan.write {
            return;
        }
        let entry = Entry {
            body,
            stored_at: now_ms(),
            ttl: plan.ttl,
        };
        match &*self.store {
            Store::Local(c) => {
                if entry.body.len() <= self.settings.max_item_bytes {
                    c.insert(plan.key.clone(), entry);
                }
            }
            Store::Redis(_) => {
                let this = self.clone();
                let key = plan.key.clone();
                tokio::spawn(async move {
                    if let Store::Redis(r) = &*this.store {
                        r.set(&key, entry).await;
                    }
                });
            }
        }
    }

    /// Deletes `keys`; returns how many existed.
    pub async fn delete(&self, keys: &[String]) -> Result<u64, String> {
        match &*self.store {
            Store::Local(c) => Ok(keys.iter().filter(|k| c.remove(*k).is_some()).count() as u64),
            Store::Redis(r) => r.delete(keys).await,
        }
    }

    /// Checks the backend: always fine in memory; a PING on Redis.
    pub async fn ping(&self) -> Result<(), String> {
        match &*self.store {
            Store::Local(_) => Ok(()),
            Store::Redis(r) => r.ping().await,
        }
    }

    /// Entries currently held in memory (`None` on Redis).
    pub fn local_entries(&self) -> Option<u64> {
        match &*self.store {
            Store::Local(c) => {
                c.run_pending_tasks();
                Some(c.entry_count())
            }
            Store::Redis(_) => None,
        }
    }
}

/// The cache `config` asks for, if any (`litellm_settings.cache: true`). The config loader has
/// already validated the settings; a Redis URL that cannot be used is logged and the proxy runs
/// without a cache rather than failing. A Redis cache on the same URL as `shared` (the router's
/// Redis) runs on that handle; one on another Redis gets a handle of its own.
pub fn from_config(
    config: &crate::config::ProxyConfig,
    shared: Option<&RedisHandle>,
) -> Option<ResponseCache> {
    let ls = &config.litellm_settings;
    if ls.cache != Some(true) {
        return None;
    }
    let params = ls.cache_params.clone().unwrap_or_default();
    let settings = match CacheSettings::from_params(&params) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("response cache disabled: {e}");
            return None;
        }
    };
    if !matches!(parse_kind(params.kind.as_deref()), Ok(true)) {
        return Some(ResponseCache::local(settings));
    }
    let url =
        redis_url_from_params(&params).or_else(|| config.router_settings.redis_connection_url())?;
    if let Some(handle) =
        shared.filter(|_| config.router_settings.redis_connection_url().as_ref() == Some(&url))
    {
        return Some(ResponseCache::on_redis(settings, &handle.share()));
    }
    match ResponseCache::redis(settings, &url) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::error!("response cache disabled: {e}");
            None
        }
    }
}

/// Plans a request's use of the cache from its body (without its `cache` field) and its `cache`
/// controls (`None` when the cache is not used for this call). A malformed `cache` object is a
/// 400 naming it.
pub fn plan_request(
    cache: &ResponseCache,
    call_type: &str,
    group: &str,
    body: &impl serde::Serialize,
    control: Option<Value>,
) -> Result<Option<CachePlan>, crate::error::ApiError> {
    let fields = match serde_json::to_value(body) {
        Ok(Value::Object(m)) => key_fields(&m),
        _ => return Ok(None),
    };
    cache
        .plan(call_type, group, &fields, control.as_ref())
        .map_err(|e| crate::error::ApiError::bad_request(Some("cache"), e))
}

/// Request fields that never change the answer: transport, routing and LiteLLM bookkeeping.
const IGNORED_FIELDS: &[&str] = &["stream", "stream_options", "model"];

/// The answer-changing fields of a request body: everything but the transport, routing and
/// bookkeeping fields, with the model replaced by its model group.
pub fn key_fields(body: &JsonMap) -> Value {
    let mut out = serde_json::Map::new();
    for (k, v) in body {
        if IGNORED_FIELDS.contains(&k.as_str()) || litellm_providers::is_internal_param(k) {
            continue;
        }
        if v.is_null() {
            continue;
        }
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

/// Hex SHA-256 over the model group and the fields, with object keys sorted so the order a
/// client sends them in does not matter.
pub fn cache_key_hash(group: &str, fields: &Value) -> String {
    let mut h = Sha256::new();
    h.update(b"model=");
    h.update(group.as_bytes());
    h.update(b"\n");
    let canonical = canonical(fields);
    h.update(canonical.to_string().as_bytes());
    hex::encode(h.finalize())
}

fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, Value> =
                m.iter().map(|(k, v)| (k, canonical(v))).collect();
            let mut out = serde_json::Map::new();
            for (k, v) in sorted {
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests: a panic is the failure report.
mod tests {
    use super::*;
    use secrecy::SecretString;
    use serde_json::json;

    fn settings() -> CacheSettings {
        CacheSettings::from_params(&CacheParams::default()).unwrap()
    }

    fn fields(v: Value) -> Value {
        key_fields(v.as_object().unwrap())
    }

    #[test]
    fn the_key_ignores_field_order_stream_and_bookkeeping_but_not_parameters() {
        let a = fields(
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.2, "stream": true, "metadata": {"x": 1}}),
        );
        let b = fields(
            json!({"temperature": 0.2, "messages": [{"content": "hi", "role": "user"}], "model": "alias"}),
        );
        assert_eq!(cache_key_hash("g", &a), cache_key_hash("g", &b));
        let c =
            fields(json!({"messages": [{"role": "user", "content": "hi"}], "temperature": 0.3}));
        assert_ne!(cache_key_hash("g", &a), cache_key_hash("g", &c));
        assert_ne!(cache_key_hash("g", &a), cache_key_hash("other-group", &a));
        assert_eq!(cache_key_hash("g", &a).len(), 64);
    }

    #[test]
    fn request_controls_shape_the_plan() {
        let cache = ResponseCache::local(settings());
        let f = json!({"messages": []});
        let p = cache.plan("acompletion", "g", &f, None).unwrap().unwrap();
        assert!(p.read && p.write);
        assert_eq!(p.ttl, DEFAULT_TTL);
        let p = cache
            .plan(
                "acompletion",
                "g",
                &f,
                Some(&json!({"no-cache": true, "ttl": 5, "namespace": "team-a", "s-maxage": 2})),
            )
            .unwrap()
            .unwrap();
        assert!(!p.read && p.write);
        assert_eq!(p.ttl, Duration::from_secs(5));
        assert_eq!(p.max_age, Some(Duration::from_secs(2)));
        // Thirty years from a client is clamped to a week.
        let long = cache
            .plan("acompletion", "g", &f, Some(&json!({"ttl": 9.4e8})))
            .unwrap()
            .unwrap();
        assert_eq!(long.ttl, MAX_CLIENT_TTL);
        assert!(p.key.starts_with("team-a:"));
        let p = cache
            .plan("acompletion", "g", &f, Some(&json!({"no-store": true})))
            .unwrap()
            .unwrap();
        assert!(p.read && !p.write);
        assert!(cache
            .plan("acompletion", "g", &f, Some(&json!({"ttl": -1})))
            .unwrap_err()
            .contains("cache.ttl"));
        assert!(cache
            .plan("acompletion", "g", &f, Some(&json!("yes")))
            .unwrap_err()
            .contains("cache"));
    }

    #[test]
    fn default_off_needs_use_cache_and_call_types_filter() {
        let mut s = settings();
        s.mode = CacheMode::DefaultOff;
        s.call_types = Some(vec!["embedding".into()]);
        let cache = ResponseCache::local(s);
        let f = json!({});
        assert_eq!(cache.plan("aembedding", "g", &f, None).unwrap(), None);
        assert!(cache
            .plan("aembedding", "g", &f, Some(&json!({"use-cache": true})))
            .unwrap()
            .is_some());
        assert_eq!(
            cache
                .plan("acompletion", "g", &f, Some(&json!({"use-cache": true})))
                .unwrap(),
            None
        );
    }

    #[test]
    fn settings_are_validated_with_the_field_named() {
        let e = CacheSettings::from_params(&CacheParams {
            mode: Some("sometimes".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.contains("cache_params.mode"), "{e}");
        let e = CacheSettings::from_params(&CacheParams {
            ttl: Some(0.0),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.contains("cache_params.ttl"), "{e}");
        assert!(parse_kind(Some("redis-semantic"))
            .unwrap_err()
            .contains("type"));
        assert!(parse_kind(Some("redis")).unwrap());
        assert_eq!(
            redis_url_from_params(&CacheParams {
                host: Some("h".into()),
                password: Some(SecretString::from("p@ss")),
                ..Default::default()
            })
            .as_deref(),
            Some("redis://:p%40ss@h:6379")
        );
    }

    #[tokio::test]
    async fn local_entries_expire_respect_s_maxage_and_are_bounded() {
        let mut s = settings();
        s.max_entries = 3;
        s.max_bytes = 3 * 100;
        let cache = ResponseCache::local(s);
        let f = json!({"n": 1});
        let mut plan = cache.plan("acompletion", "g", &f, None).unwrap().unwrap();
        plan.ttl = Duration::from_millis(200);
        cache.put(&plan, Bytes::from_static(b"body"));
        assert_eq!(cache.get(&plan).await.as_deref(), Some(&b"body"[..]));
        let mut young = plan.clone();
        young.max_age = Some(Duration::from_millis(1));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(cache.get(&young).await, None, "older than s-maxage");
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(cache.get(&plan).await, None, "expired");

        for i in 0..20 {
            let p = cache
                .plan("acompletion", "g", &json!({"i": i}), None)
                .unwrap()
                .unwrap();
            cache.put(&p, Bytes::from_static(b"x"));
        }
        assert!(cache.local_entries().unwrap() <= 3);
        // Too large for one item: not stored.
        let mut s = settings();
        s.max_item_bytes = 4;
        let cache = ResponseCache::local(s);
        cache.put(&plan, Bytes::from_static(b"12345"));
        assert_eq!(cache.get(&plan).await, None);
        assert_eq!(
            cache.delete(std::slice::from_ref(&plan.key)).await.unwrap(),
            0
        );
    }

    #[tokio::test]
    async fn redis_round_trips_and_a_dead_redis_is_a_miss_not_an_error() {
        let ns = format!("test-{}", uuid::Uuid::new_v4());
        let mut s = settings();
        s.namespace = Some(ns);
        let cache = ResponseCache::redis(s.clone(), "redis://127.0.0.1:6379").unwrap();
        cache
            .ping()
            .await
            .expect("Redis at 127.0.0.1:6379 is needed");
        let plan = cache
            .plan("acompletion", "g", &json!({"q": 1}), None)
            .unwrap()
            .unwrap();
        cache.put(&plan, Bytes::from_static(b"{\"a\":1}"));
        let mut got = None;
        for _ in 0..50 {
            got = cache.get(&plan).await;
            if got.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(got.as_deref(), Some(&b"{\"a\":1}"[..]));
        assert_eq!(
            cache.delete(std::slice::from_ref(&plan.key)).await.unwrap(),
            1
        );
        assert_eq!(cache.get(&plan).await, None);

        let dead = ResponseCache::redis(s, "redis://127.0.0.1:1").unwrap();
        assert!(dead.ping().await.is_err());
        assert_eq!(dead.get(&plan).await, None);
        dead.put(&plan, Bytes::from_static(b"x"));
    }
}
