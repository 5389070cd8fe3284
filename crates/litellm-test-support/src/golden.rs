//! Golden-file helpers: compare a JSON value with the expected file (as values, so key order and
//! formatting do not matter), or rewrite the file when `UPDATE_EXPECT=1` is set.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Whether expected files are being rewritten (`UPDATE_EXPECT=1`).
pub fn update_mode() -> bool {
    std::env::var("UPDATE_EXPECT").is_ok_and(|v| v == "1")
}

/// Reads and parses a JSON file, panicking with the path on failure.
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("invalid JSON in {}: {e}", path.display()))
}

/// Reads a JSON-lines file (one value per non-empty line).
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| {
                panic!("invalid JSON on line {} of {}: {e}", i + 1, path.display())
            })
        })
        .collect()
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return;
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

fn missing(path: &Path) -> ! {
    panic!(
        "expected file {} is missing; run the test with UPDATE_EXPECT=1 to create it",
        path.display()
    )
}

/// Asserts that `actual` equals the JSON in `path` (compared as values). With
/// `UPDATE_EXPECT=1`, writes `actual` (pretty-printed) to `path` instead.
pub fn check_json(path: &Path, actual: &Value) {
    if update_mode() {
        write_if_changed(path, &(pretty(actual) + "\n"));
        return;
    }
    if !path.exists() {
        missing(path);
    }
    let expected = read_json(path);
    if &expected != actual {
        pretty_assertions::assert_eq!(
            pretty(&expected),
            pretty(actual),
            "{} differs (left: expected, right: actual); UPDATE_EXPECT=1 rewrites it",
            path.display()
        );
    }
}

/// As [`check_json`] for a JSON-lines file: one compact value per line.
pub fn check_jsonl(path: &Path, actual: &[Value]) {
    if update_mode() {
        let mut text = String::new();
        for v in actual {
            text.push_str(&v.to_string());
            text.push('\n');
        }
        write_if_changed(path, &text);
        return;
    }
    if !path.exists() {
        missing(path);
    }
    let expected = read_jsonl(path);
    if expected != actual {
        let lines = |vs: &[Value]| {
            vs.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        };
        pretty_assertions::assert_eq!(
            lines(&expected),
            lines(actual),
            "{} differs (left: expected, right: actual); UPDATE_EXPECT=1 rewrites it",
            path.display()
        );
    }
}

/// The case directories directly under `root`, sorted by name.
pub fn case_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", root.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_compare_regardless_of_key_order_and_formatting() {
        let dir = std::env::temp_dir().join(format!("golden-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("x.json");
        std::fs::write(&path, "{\"b\": 2,\n \"a\": [1, {\"c\": null}]}").expect("write");
        check_json(&path, &serde_json::json!({"a": [1, {"c": null}], "b": 2}));
        let lines = dir.join("x.jsonl");
        std::fs::write(&lines, "{\"a\":1}\n\n{\"b\":2}\n").expect("write");
        check_jsonl(
            &lines,
            &[serde_json::json!({"a": 1}), serde_json::json!({"b": 2})],
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
