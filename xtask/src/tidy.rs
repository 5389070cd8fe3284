//! Tidy checks: crate layering, module docs, no stubs, and the README's test command; the
//! submodules add no import circles between modules (`modules`), a size budget for non-test
//! code (`sizes`), and `serde_yaml` and `reqwest` confined to config loading and the transport
//! (`confined`).
//!
//! Each check is a pure function over its input (parsed `cargo metadata`, file text) that returns
//! the list of offences, so the unit tests below can feed it inputs that break every rule. The
//! `#[test]`s at the bottom run the checks over the real tree under `cargo test --workspace`;
//! `cargo xtask tidy` runs the same checks from the command line.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{workspace, Result};

mod confined;
mod modules;
mod paths;
mod sizes;
mod source;

/// The layer of every workspace crate: a crate may depend only on crates of a lower layer.
///
/// Keep this table in sync with the codemap in `docs/ARCHITECTURE.md`.
pub const LAYERS: &[(&str, u8)] = &[
    ("litellm-core", 0),
    ("litellm-providers", 1),
    ("litellm-router", 2),
    ("litellm-auth", 3),
    ("litellm-server", 4),
    ("litellm-cli", 5),
    ("litellm-rs", 6),
];

/// The crate of test fakes: it may depend only on `litellm-core`, and others may use it only as a
/// dev-dependency.
const TEST_SUPPORT: &str = "litellm-test-support";

/// The crate on which `TEST_SUPPORT` may depend.
const CORE: &str = "litellm-core";

/// Project tooling, exempt from every layering rule.
const EXEMPT: &str = "xtask";

/// Crates that do IO or bring an async runtime; `litellm-core` must not depend on them.
const IO_CRATES: &[&str] = &["tokio", "reqwest", "axum", "sqlx", "hyper"];

/// The only workspace crates that may depend on axum (besides the exempt xtask).
const AXUM_USERS: &[&str] = &["litellm-server", TEST_SUPPORT];

/// The directories whose `.rs` files must open with a module doc.
const DOC_DIRS: &[&str] = &["crates", "src", "tests", "xtask"];

/// The comment line in `.ci/run` just above the test command that README.md must show.
pub const README_MARKER: &str = "# README test command";

/// Runs every tidy check over the workspace and prints all offences.
pub fn run() -> Result<()> {
    let root = workspace::root();
    let mut failures = Vec::new();
    let metadata = workspace::metadata(&root)?;
    failures.extend(check_layers(&metadata));
    failures.extend(check_module_docs(&root)?);
    failures.extend(check_no_stubs(&root)?);
    failures.extend(check_readme_command(&root)?);
    failures.extend(modules::check(&root)?);
    failures.extend(sizes::check(&root)?);
    failures.extend(confined::check(&root)?);
    if failures.is_empty() {
        println!("tidy: all checks passed");
        Ok(())
    } else {
        for failure in &failures {
            eprintln!("tidy: {failure}");
        }
        Err(format!("{} tidy offence(s)", failures.len()).into())
    }
}

/// The layer of a workspace crate, or `None` when it is not in `LAYERS`.
fn layer_of(name: &str) -> Option<u8> {
    LAYERS
        .iter()
        .find(|(crate_name, _)| *crate_name == name)
        .map(|(_, layer)| *layer)
}

/// One dependency edge read from cargo metadata.
struct Dep<'a> {
    name: &'a str,
    kind: &'a str,
}

/// Checks the crate graph in parsed `cargo metadata --no-deps` output; returns every violation.
///
/// Rules: a crate depends (normal, build or dev) only on crates of a lower layer; the
/// test-support crate depends only on `litellm-core` and is only ever a dev-dependency; every
/// workspace crate is in `LAYERS`; `litellm-core` does no IO; only the server and test-support
/// know axum. `xtask` is exempt.
pub fn check_layers(metadata: &Value) -> Vec<String> {
    let mut violations = Vec::new();
    let Some(packages) = metadata.get("packages").and_then(Value::as_array) else {
        return vec!["cargo metadata has no `packages` array".to_string()];
    };
    let members: Option<BTreeSet<&str>> = metadata
        .get("workspace_members")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_str).collect());
    let mut crates: BTreeMap<&str, Vec<Dep<'_>>> = BTreeMap::new();
    for package in packages {
        let id = package.get("id").and_then(Value::as_str).unwrap_or("");
        if members
            .as_ref()
            .is_some_and(|members| !members.contains(id))
        {
            continue;
        }
        let Some(name) = package.get("name").and_then(Value::as_str) else {
            violations.push(format!("package `{id}` has no name in cargo metadata"));
            continue;
        };
        let deps = package
            .get("dependencies")
            .and_then(Value::as_array)
            .map(|deps| {
                deps.iter()
                    .filter_map(|dep| {
                        Some(Dep {
                            name: dep.get("name")?.as_str()?,
                            kind: dep.get("kind").and_then(Value::as_str).unwrap_or("normal"),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        crates.insert(name, deps);
    }

    for (&name, deps) in &crates {
        if name == EXEMPT {
            continue;
        }
        let layer = layer_of(name);
        if layer.is_none() && name != TEST_SUPPORT {
            violations.push(format!(
                "unknown workspace crate `{name}`: add it to the layer table (LAYERS in \
                 xtask/src/tidy.rs) and to the codemap in docs/ARCHITECTURE.md"
            ));
        }
        for dep in deps {
            let edge = format!("`{name}` -> `{}` ({} dependency)", dep.name, dep.kind);
            if name == CORE && IO_CRATES.contains(&dep.name) {
                violations.push(format!(
                    "{edge}: litellm-core does no IO and knows no async runtime"
                ));
            }
            if dep.name == "axum" && !AXUM_USERS.contains(&name) {
                violations.push(format!(
                    "{edge}: only litellm-server (and litellm-test-support) may know axum"
                ));
            }
            if !crates.contains_key(dep.name) {
                continue;
            }
            if dep.name == EXEMPT {
                violations.push(format!("{edge}: nothing may depend on xtask"));
            } else if name == TEST_SUPPORT {
                if dep.name != CORE {
                    violations.push(format!(
                        "{edge}: litellm-test-support may depend only on litellm-core"
                    ));
                }
            } else if dep.name == TEST_SUPPORT {
                if dep.kind != "dev" {
                    violations.push(format!(
                        "{edge}: litellm-test-support may only be a dev-dependency"
                    ));
                }
            } else if let (Some(own), Some(theirs)) = (layer, layer_of(dep.name)) {
                if theirs >= own {
                    violations.push(format!(
                        "{edge}: layer {own} may depend only on lower layers, not on layer {theirs}"
                    ));
                }
            }
        }
    }
    violations
}

/// All `.rs` files under `dir`, skipping `target` and hidden directories, sorted.
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(format!("cannot read {}: {err}", dir.display()).into()),
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            let file_name = entry.file_name();
            let file_name = file_name.to_string_lossy();
            if entry.file_type()?.is_dir() {
                if file_name != "target" && !file_name.starts_with('.') {
                    pending.push(path);
                }
            } else if file_name.ends_with(".rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Whether a source file opens (first non-blank line) with a `//!` doc or a `#!` attribute.
pub fn has_module_doc(text: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .find(|line| !line.is_empty())
        .is_some_and(|line| line.starts_with("//!") || line.starts_with("#!"))
}

/// Every `.rs` file under the documented directories that lacks a module doc.
pub fn check_module_docs(root: &Path) -> Result<Vec<String>> {
    let mut offenders = Vec::new();
    for dir in DOC_DIRS {
        for file in rust_files(&root.join(dir))? {
            let text = fs::read_to_string(&file)?;
            if !has_module_doc(&text) {
                offenders.push(format!(
                    "{}: the first line must be a `//!` module doc saying what the file is for",
                    relative(root, &file)
                ));
            }
        }
    }
    Ok(offenders)
}

/// The stub markers no committed source may contain.
///
/// They are assembled with `concat!` so that this file does not contain them verbatim.
fn stub_needles() -> [&'static str; 4] {
    [
        concat!("todo", "!("),
        concat!("unimplemented", "!("),
        concat!("#[", "ignore]"),
        concat!("#[", "ignore ="),
    ]
}

/// Every stub marker in `text`, as `(line number, needle)`.
pub fn find_stubs(text: &str) -> Vec<(usize, &'static str)> {
    let needles = stub_needles();
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        for needle in needles {
            if line.contains(needle) {
                found.push((index + 1, needle));
            }
        }
    }
    found
}

/// Every stub marker in any `.rs` file of the tree (outside `target` and hidden directories).
pub fn check_no_stubs(root: &Path) -> Result<Vec<String>> {
    let mut offenders = Vec::new();
    for file in rust_files(root)? {
        let text = fs::read_to_string(&file)?;
        for (line, needle) in find_stubs(&text) {
            offenders.push(format!(
                "{}:{line}: contains `{needle}`; finish the code or remove the test",
                relative(root, &file)
            ));
        }
    }
    Ok(offenders)
}

/// The test command in `.ci/run`: the first non-blank line after the `README_MARKER` comment.
pub fn readme_test_command(ci_script: &str) -> Option<String> {
    let mut lines = ci_script.lines().map(str::trim);
    lines.by_ref().find(|line| *line == README_MARKER)?;
    lines
        .find(|line| !line.is_empty())
        .filter(|line| !line.starts_with('#'))
        .map(str::to_string)
}

/// Checks that README.md shows the test command CI runs; returns the offences.
pub fn check_readme_command(root: &Path) -> Result<Vec<String>> {
    let ci_script = fs::read_to_string(root.join(".ci/run"))
        .map_err(|err| format!("cannot read .ci/run: {err}"))?;
    let readme = fs::read_to_string(root.join("README.md"))
        .map_err(|err| format!("cannot read README.md: {err}"))?;
    Ok(readme_command_offences(&ci_script, &readme))
}

/// The pure half of `check_readme_command`.
pub fn readme_command_offences(ci_script: &str, readme: &str) -> Vec<String> {
    match readme_test_command(ci_script) {
        None => vec![format!(
            ".ci/run: no command line after the marker comment `{README_MARKER}`"
        )],
        Some(command) if !readme.contains(&command) => vec![format!(
            "README.md does not show the test command CI runs: `{command}`"
        )],
        Some(_) => Vec::new(),
    }
}

/// `file` relative to `root`, for messages.
fn relative(root: &Path, file: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Reason: a panic is the desired failure mode in tests.
mod tests {
    use super::*;
    use serde_json::json;

    /// Crates as `(name, [(dependency, kind)])`; a kind of `None` is a normal dependency.
    type Crates = Vec<(&'static str, Vec<(&'static str, Option<&'static str>)>)>;

    /// Synthetic `cargo metadata --no-deps` output for `crates`.
    fn metadata(crates: &Crates) -> Value {
        let id = |name: &str| format!("path+file:///w/{name}#0.1.0");
        let packages: Vec<Value> = crates
            .iter()
            .map(|(name, deps)| {
                let deps: Vec<Value> = deps
                    .iter()
                    .map(|(dep, kind)| json!({ "name": dep, "kind": kind, "req": "*" }))
                    .collect();
                json!({ "name": name, "id": id(name), "dependencies": deps })
            })
            .collect();
        let members: Vec<String> = crates.iter().map(|(name, _)| id(name)).collect();
        json!({ "packages": packages, "workspace_members": members })
    }

    /// A workspace that follows every rule (the real graph, in short).
    fn good() -> Crates {
        vec![
            (
                "litellm-core",
                vec![("serde", None), ("futures-core", None)],
            ),
            (
                "litellm-providers",
                vec![("litellm-core", None), ("reqwest", None)],
            ),
            (
                "litellm-router",
                vec![("litellm-core", None), ("litellm-providers", None)],
            ),
            (
                "litellm-auth",
                vec![("litellm-router", None), ("sqlx", None)],
            ),
            (
                "litellm-server",
                vec![
                    ("litellm-auth", None),
                    ("axum", None),
                    ("litellm-test-support", Some("dev")),
                ],
            ),
            ("litellm-cli", vec![("litellm-server", None)]),
            (
                "litellm-rs",
                vec![("litellm-cli", None), ("litellm-test-support", Some("dev"))],
            ),
            (
                "litellm-test-support",
                vec![("litellm-core", None), ("axum", None), ("tokio", None)],
            ),
            (
                "xtask",
                vec![
                    ("litellm-server", None),
                    ("axum", None),
                    ("litellm-test-support", None),
                ],
            ),
        ]
    }

    /// Replaces (or adds) one crate in the good workspace and returns the violations.
    fn violations_with(
        name: &'static str,
        deps: Vec<(&'static str, Option<&'static str>)>,
    ) -> Vec<String> {
        let mut crates = good();
        crates.retain(|(crate_name, _)| *crate_name != name);
        crates.push((name, deps));
        check_layers(&metadata(&crates))
    }

    fn assert_one_violation(violations: &[String], needle: &str) {
        assert_eq!(
            violations.len(),
            1,
            "expected one violation: {violations:?}"
        );
        assert!(
            violations[0].contains(needle),
            "`{}` should mention `{needle}`",
            violations[0]
        );
    }

    #[test]
    fn synthetic_good_workspace_passes() {
        assert_eq!(check_layers(&metadata(&good())), Vec::<String>::new());
    }

    #[test]
    fn upward_dependency_fails() {
        let v = violations_with(
            "litellm-providers",
            vec![("litellm-core", None), ("litellm-router", None)],
        );
        assert_one_violation(&v, "`litellm-providers` -> `litellm-router`");
    }

    #[test]
    fn same_layer_dependency_fails() {
        let v = violations_with("litellm-auth", vec![("litellm-auth", None)]);
        assert_one_violation(
            &v,
            "layer 3 may depend only on lower layers, not on layer 3",
        );
    }

    #[test]
    fn upward_dev_and_build_dependencies_fail() {
        let v = violations_with(
            "litellm-router",
            vec![
                ("litellm-server", Some("dev")),
                ("litellm-cli", Some("build")),
            ],
        );
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].contains("(dev dependency)"), "{v:?}");
        assert!(v[1].contains("(build dependency)"), "{v:?}");
    }

    #[test]
    fn test_support_as_normal_dependency_fails() {
        let v = violations_with("litellm-router", vec![("litellm-test-support", None)]);
        assert_one_violation(&v, "may only be a dev-dependency");
    }

    #[test]
    fn test_support_depending_beyond_core_fails() {
        let v = violations_with(
            "litellm-test-support",
            vec![("litellm-core", None), ("litellm-providers", None)],
        );
        assert_one_violation(&v, "may depend only on litellm-core");
    }

    #[test]
    fn unknown_workspace_crate_fails() {
        let v = violations_with("litellm-cache", vec![("litellm-core", None)]);
        assert_one_violation(&v, "unknown workspace crate `litellm-cache`");
        assert!(v[0].contains("docs/ARCHITECTURE.md"));
    }

    #[test]
    fn core_doing_io_fails_for_each_io_crate() {
        for io in IO_CRATES {
            let v = violations_with("litellm-core", vec![(*io, None)]);
            assert!(
                v.iter().any(|m| m.contains("litellm-core does no IO")),
                "{io}: {v:?}"
            );
        }
    }

    #[test]
    fn axum_outside_server_fails() {
        let v = violations_with(
            "litellm-router",
            vec![("litellm-core", None), ("axum", None)],
        );
        assert_one_violation(&v, "only litellm-server");
    }

    #[test]
    fn depending_on_xtask_fails() {
        let v = violations_with(
            "litellm-cli",
            vec![("litellm-server", None), ("xtask", Some("dev"))],
        );
        assert_one_violation(&v, "nothing may depend on xtask");
    }

    #[test]
    fn non_members_are_ignored() {
        let mut value = metadata(&good());
        value["packages"]
            .as_array_mut()
            .unwrap()
            .push(json!({ "name": "serde", "id": "registry+serde", "dependencies": [] }));
        assert_eq!(check_layers(&value), Vec::<String>::new());
    }

    #[test]
    fn module_doc_detection() {
        assert!(has_module_doc("//! What this file is for.\nfn main() {}\n"));
        assert!(has_module_doc("\n\n  #![allow(clippy::unwrap_used)]\n"));
        assert!(!has_module_doc("// A plain comment.\n//! Too late.\n"));
        assert!(!has_module_doc("use std::io;\n"));
        assert!(!has_module_doc(""));
    }

    #[test]
    fn stub_detection() {
        let text = format!(
            "fn a() {{}}\nfn b() {{ {}\"later\") }}\n{}\nfn c() {{ {}) }}\n",
            concat!("todo", "!("),
            concat!("#[", "ignore]"),
            concat!("unimplemented", "!("),
        );
        let found: Vec<usize> = find_stubs(&text)
            .into_iter()
            .map(|(line, _)| line)
            .collect();
        assert_eq!(found, vec![2, 3, 4]);
        assert!(find_stubs("fn ok() { let todo = 1; }\n").is_empty());
    }

    #[test]
    fn readme_command_is_read_after_the_marker() {
        let script = "set -e\nstep tests\n# README test command\n\ncargo test --workspace\n";
        assert_eq!(
            readme_test_command(script).as_deref(),
            Some("cargo test --workspace")
        );
        assert_eq!(readme_test_command("cargo test\n"), None);
        assert!(readme_command_offences(script, "run `cargo test --workspace`").is_empty());
        let offences = readme_command_offences(script, "run `cargo test`");
        assert_eq!(offences.len(), 1, "{offences:?}");
        assert_eq!(
            readme_command_offences("cargo test\n", "cargo test").len(),
            1
        );
    }

    #[test]
    fn workspace_layering() {
        let metadata = workspace::metadata(&workspace::root()).expect("cargo metadata");
        let violations = check_layers(&metadata);
        assert!(
            violations.is_empty(),
            "layering violations:\n{}",
            violations.join("\n")
        );
    }

    #[test]
    fn every_source_file_has_a_module_doc() {
        let offenders = check_module_docs(&workspace::root()).expect("walk the tree");
        assert!(
            offenders.is_empty(),
            "files without a module doc:\n{}",
            offenders.join("\n")
        );
    }

    #[test]
    fn no_stubs_in_the_tree() {
        let offenders = check_no_stubs(&workspace::root()).expect("walk the tree");
        assert!(offenders.is_empty(), "stubs:\n{}", offenders.join("\n"));
    }

    #[test]
    fn readme_shows_the_ci_test_command() {
        let offenders = check_readme_command(&workspace::root()).expect("read .ci/run, README.md");
        assert!(offenders.is_empty(), "{}", offenders.join("\n"));
    }
}
