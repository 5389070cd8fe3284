//! Locating the workspace on disk and asking cargo about it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::Result;

/// The workspace root: the parent of the `xtask` package directory.
pub fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

/// The cargo binary to use: `$CARGO` when cargo started us, otherwise `cargo` from `PATH`.
pub fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}

/// Runs `cargo metadata --format-version 1 --no-deps` for the workspace and parses its output.
pub fn metadata(root: &Path) -> Result<Value> {
    let output = Command::new(cargo())
        .arg("metadata")
        .args(["--format-version", "1", "--no-deps", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .output()
        .map_err(|err| format!("could not run `cargo metadata`: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo metadata` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let value = serde_json::from_slice(&output.stdout)
        .map_err(|err| format!("`cargo metadata` printed invalid JSON: {err}"))?;
    Ok(value)
}

/// The build output directory (`target_directory` in cargo metadata).
pub fn target_dir(metadata: &Value, root: &Path) -> PathBuf {
    metadata
        .get("target_directory")
        .and_then(Value::as_str)
        .map_or_else(|| root.join("target"), PathBuf::from)
}
