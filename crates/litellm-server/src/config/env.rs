//! Pre-processing of the raw YAML tree before it is deserialized: `null` entries are dropped,
//! `environment_variables` is taken out, and every `os.environ/NAME` string is replaced by the
//! variable's value (or removed, with a warning, when the variable is not set).

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Value};

// The `os.environ/` resolver is the router's (`litellm_router::config::os_environ`), shared with
// the SDK's `Router::from_config_yaml`; the proxy drops a missing variable's value with a warning.
pub(crate) use litellm_router::config::os_environ::{
    fmt_path, key_text, Resolution, Seg, ENV_PREFIX,
};

/// Removes every mapping entry whose value is `null` (an empty `key:` in YAML), at any depth, so
/// that `null` means "not set" everywhere, as it does in LiteLLM.
pub(crate) fn strip_nulls(value: &mut Value) {
    match value {
        Value::Mapping(map) => {
            map.retain(|_, v| !v.is_null());
            for (_, v) in map.iter_mut() {
                strip_nulls(v);
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(strip_nulls),
        Value::Tagged(tagged) => strip_nulls(&mut tagged.value),
        _ => {}
    }
}

/// Takes the `environment_variables` section out of the top-level mapping and turns it into a
/// map of strings. Scalars are stringified; other values are skipped with a warning; an
/// `os.environ/NAME` value in this section reads the process environment.
pub(crate) fn take_environment_variables(
    root: &mut Mapping,
    process_env: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, String>, String> {
    let mut vars = BTreeMap::new();
    let Some(section) = root.shift_remove("environment_variables") else {
        return Ok(vars);
    };
    let Value::Mapping(section) = section else {
        return Err("expected a mapping of NAME: value".to_string());
    };
    for (key, value) in section {
        let name = key_text(&key);
        let path = format!("environment_variables.{name}");
        let text = match value {
            Value::String(s) => match s.strip_prefix(ENV_PREFIX) {
                Some(var) => match process_env(var.trim()) {
                    Some(v) => v,
                    None => {
                        warnings.push(format!(
                            "{path}: environment variable {} is not set",
                            var.trim()
                        ));
                        continue;
                    }
                },
                None => s,
            },
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                warnings.push(format!("{path}: not a string, number or boolean; ignored"));
                continue;
            }
        };
        vars.insert(name, text);
    }
    Ok(vars)
}

/// Replaces every `os.environ/NAME` string in `value` (at any depth) with the variable's value
/// from `lookup`. A variable that is not set removes the value and is recorded in
/// `out.missing` (the caller turns those into warnings, which never contain a value).
pub(crate) fn resolve_env(
    value: &mut Value,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut Resolution,
) {
    use litellm_router::config::os_environ::{resolve, OnMissing};
    // Dropping never fails.
    if let Ok(r) = resolve(value, lookup, OnMissing::Drop) {
        out.missing.extend(r.missing);
        out.resolved.extend(r.resolved);
    }
}

/// The value at `path`, mutably.
pub(crate) fn value_at_mut<'a>(root: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = root;
    for seg in path {
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Mapping(m)) => m.get_mut(k.as_str())?,
            (Seg::Index(i), Value::Sequence(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Whether a key names a credential whose value must never be shown.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("key")
        || k.contains("secret")
        || k.contains("password")
        || k.contains("token")
        || k.contains("credential")
        || k == "database_url"
        || k == "redis_url"
}

/// Collects the text of every scalar stored under a secret-looking key, at any depth.
pub(crate) fn collect_secrets(value: &Value, under_secret: bool, out: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            for (k, v) in map {
                let secret = under_secret || is_secret_key(&key_text(k));
                collect_secrets(v, secret, out);
            }
        }
        Value::Sequence(items) => items
            .iter()
            .for_each(|v| collect_secrets(v, under_secret, out)),
        Value::Tagged(tagged) => collect_secrets(&tagged.value, under_secret, out),
        Value::String(s) if under_secret && !s.is_empty() => out.push(s.clone()),
        Value::Number(n) if under_secret => out.push(n.to_string()),
        _ => {}
    }
}

/// Removes every secret from `message`: quoted forms as serde prints them (`string "..."`,
/// `` integer `...` ``), and bare occurrences of secrets long enough not to be mistaken for
/// ordinary words.
pub(crate) fn redact(message: &str, secrets: &[String]) -> String {
    let mut out = message.to_string();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(&format!("{s:?}"), "\"<redacted>\"");
        out = out.replace(&format!("`{s}`"), "`<redacted>`");
        if s.len() >= 6 {
            out = out.replace(s.as_str(), "<redacted>");
        }
    }
    out
}

/// Puts a `null` back at `path` (whose last step is a mapping key), for probing whether that
/// key would be read. Returns false when the parent is not a mapping.
pub(crate) fn insert_null_at(root: &mut Value, path: &[Seg]) -> bool {
    let Some((Seg::Key(key), parent)) = path.split_last() else {
        return false;
    };
    match value_at_mut(root, parent) {
        Some(Value::Mapping(map)) => {
            map.insert(Value::String(key.clone()), Value::Null);
            true
        }
        _ => false,
    }
}
