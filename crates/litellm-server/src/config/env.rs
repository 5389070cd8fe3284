//! Pre-processing of the raw YAML tree before it is deserialized: `null` entries are dropped,
//! `environment_variables` is taken out, and every `os.environ/NAME` string is replaced by the
//! variable's value (or removed, with a warning, when the variable is not set).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_yaml::{Mapping, Value};

/// The prefix LiteLLM uses for values read from the environment.
pub(crate) const ENV_PREFIX: &str = "os.environ/";

/// One step of a path into the YAML tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// Formats a path the way `serde_path_to_error` does: `model_list[0].litellm_params.api_key`.
pub(crate) fn fmt_path(segs: &[Seg]) -> String {
    let mut out = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// A mapping key as text (YAML allows non-string keys; LiteLLM configs use strings).
pub(crate) fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        _ => "?".to_string(),
    }
}

/// A value that came from the environment, remembered so that type errors at its path can be
/// retried with a number or boolean, and so that its text never appears in an error.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// Where the value sits after resolution (indices account for removed list items).
    pub path: Vec<Seg>,
    pub value: String,
}

/// An `os.environ/NAME` whose variable is not set; its value was removed from the tree.
#[derive(Debug, Clone)]
pub(crate) struct Missing {
    /// The path as written in the file (for the warning).
    pub user_path: Vec<Seg>,
    /// The path after earlier removals (comparable with deserializer paths).
    pub path: Vec<Seg>,
    pub var: String,
}

impl Missing {
    /// The warning for this variable.
    pub fn warning(&self) -> String {
        format!(
            "{}: environment variable {} is not set",
            fmt_path(&self.user_path),
            self.var
        )
    }
}

/// The result of resolving `os.environ/` references over a tree.
#[derive(Debug, Default)]
pub(crate) struct Resolution {
    pub missing: Vec<Missing>,
    pub resolved: Vec<Resolved>,
}

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
    let mut user_path = Vec::new();
    let mut path = Vec::new();
    resolve_at(value, &mut user_path, &mut path, lookup, out);
}

/// What to do with one string value.
enum Lookup {
    Keep,
    Replace(String),
    Remove(String),
}

fn lookup_string(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Lookup {
    match s.strip_prefix(ENV_PREFIX) {
        None => Lookup::Keep,
        Some(var) => {
            let var = var.trim();
            match lookup(var) {
                Some(v) => Lookup::Replace(v),
                None => Lookup::Remove(var.to_string()),
            }
        }
    }
}

/// Walks `value`. `user_path` is the path as written in the file (for warnings); `path` is the
/// path after removals (what the deserializer will report).
fn resolve_at(
    value: &mut Value,
    user_path: &mut Vec<Seg>,
    path: &mut Vec<Seg>,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut Resolution,
) {
    match value {
        Value::Mapping(map) => {
            let mut removed = Vec::new();
            for (k, v) in map.iter_mut() {
                let key = key_text(k);
                user_path.push(Seg::Key(key.clone()));
                path.push(Seg::Key(key));
                if let Some(action) = string_action(v, lookup) {
                    match action {
                        Lookup::Replace(s) => {
                            out.resolved.push(Resolved {
                                path: path.clone(),
                                value: s.clone(),
                            });
                            *v = Value::String(s);
                        }
                        Lookup::Remove(var) => {
                            out.missing.push(Missing {
                                user_path: user_path.clone(),
                                path: path.clone(),
                                var,
                            });
                            removed.push(k.clone());
                        }
                        Lookup::Keep => {}
                    }
                } else {
                    resolve_at(v, user_path, path, lookup, out);
                }
                user_path.pop();
                path.pop();
            }
            for k in removed {
                map.shift_remove(&k);
            }
        }
        Value::Sequence(items) => {
            let old = std::mem::take(items);
            for (user_index, mut item) in old.into_iter().enumerate() {
                user_path.push(Seg::Index(user_index));
                path.push(Seg::Index(items.len()));
                match string_action(&item, lookup) {
                    Some(Lookup::Replace(s)) => {
                        out.resolved.push(Resolved {
                            path: path.clone(),
                            value: s.clone(),
                        });
                        items.push(Value::String(s));
                    }
                    Some(Lookup::Remove(var)) => {
                        out.missing.push(Missing {
                            user_path: user_path.clone(),
                            path: path.clone(),
                            var,
                        });
                    }
                    Some(Lookup::Keep) => items.push(item),
                    None => {
                        resolve_at(&mut item, user_path, path, lookup, out);
                        items.push(item);
                    }
                }
                user_path.pop();
                path.pop();
            }
        }
        Value::Tagged(tagged) => resolve_at(&mut tagged.value, user_path, path, lookup, out),
        _ => {}
    }
}

/// `Some` for a string value (with what to do with it), `None` for anything else.
fn string_action(v: &Value, lookup: &dyn Fn(&str) -> Option<String>) -> Option<Lookup> {
    match v {
        Value::String(s) => Some(lookup_string(s, lookup)),
        _ => None,
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
