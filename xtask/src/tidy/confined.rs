//! Tidy rules: dependencies confined to one corner of the code.
//!
//! `serde_yaml` belongs to config loading and `reqwest` to the provider transport. A reference
//! to either (a `use` or a path; comments and strings do not count) in the non-test code of
//! `crates/*/src` or `src` is allowed only in the files listed here. Test code (`tests`
//! directories, `#[cfg(test)]` tails, test-only files) and xtask are exempt. Every listed file
//! must still use the crate, so the lists stay exact.

use std::path::Path;

use super::source::{self, Source};
use crate::Result;

/// A crate whose use is confined to a few files.
#[derive(Debug)]
pub struct Confined {
    /// The crate name as written in code.
    pub name: &'static str,
    /// Where it belongs, said in the offence.
    pub belongs: &'static str,
    /// The files (relative to the workspace) where it belongs.
    pub homes: &'static [&'static str],
    /// Other files that use it today, each with the reason; this list must shrink.
    pub allowed: &'static [(&'static str, &'static str)],
}

/// `serde_yaml`: config loading only.
pub const SERDE_YAML: Confined = Confined {
    name: "serde_yaml",
    belongs: "config loading (a `config` module)",
    homes: &[
        "crates/litellm-router/src/config.rs",
        "crates/litellm-server/src/config/env.rs",
        "crates/litellm-server/src/config/mod.rs",
        "crates/litellm-server/src/config/validate.rs",
    ],
    // Not config loading proper: another engineer is moving this under `config/`.
    allowed: &[(
        "crates/litellm-server/src/reload.rs",
        "re-reads config.yaml to list the sections a reload cannot apply; to move under config/",
    )],
};

/// `reqwest`: the providers' HTTP transport only. The server's own outbound HTTP (telemetry
/// export, logging webhooks) has its own clients today.
pub const REQWEST: Confined = Confined {
    name: "reqwest",
    belongs: "the provider transport (crates/litellm-providers/src/transport.rs)",
    homes: &["crates/litellm-providers/src/transport.rs"],
    allowed: &[
        (
            "crates/litellm-server/src/observability/otel.rs",
            "the OTLP exporter's HTTP client for opentelemetry-http",
        ),
        (
            "crates/litellm-server/src/observability/callbacks/generic.rs",
            "the generic_api logging webhook's HTTP client",
        ),
    ],
};

/// The confined crates the tidy checks enforce.
pub const RULES: &[&Confined] = &[&SERDE_YAML, &REQWEST];

/// Checks the non-test files (paths relative to the workspace) against one rule; returns the
/// offences: a use outside the listed files, and a listed file that no longer uses the crate.
pub fn confined_offences(rule: &Confined, files: &[Source]) -> Vec<String> {
    let listed = |path: &str| {
        rule.homes.contains(&path) || rule.allowed.iter().any(|(allowed, _)| *allowed == path)
    };
    let mut offences = Vec::new();
    let mut users = Vec::new();
    for (path, text) in files {
        let lines = source::word_lines(&source::non_test_code(text), rule.name);
        if lines.is_empty() {
            continue;
        }
        users.push(path.as_str());
        if !listed(path) {
            let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
            offences.push(format!(
                "{path}:{}: uses `{}`, which belongs in {} (lists in \
                 xtask/src/tidy/confined.rs)",
                lines.join(","),
                rule.name,
                rule.belongs
            ));
        }
    }
    let listed_paths = rule
        .homes
        .iter()
        .copied()
        .chain(rule.allowed.iter().map(|(path, _)| *path));
    for path in listed_paths {
        if !users.contains(&path) {
            offences.push(format!(
                "{path}: listed as a user of `{}` in xtask/src/tidy/confined.rs but does not use \
                 it (outside tests): remove it from the list",
                rule.name
            ));
        }
    }
    offences
}

/// The non-test files of the crates, relative to the workspace.
fn workspace_files(root: &Path) -> Result<Vec<Source>> {
    let mut files = Vec::new();
    for (_, dir, crate_files) in source::crate_sources(root)? {
        files.extend(
            crate_files
                .into_iter()
                .map(|(path, text)| (format!("{dir}/{path}"), text)),
        );
    }
    Ok(files)
}

/// Runs every confined-crate rule over the workspace.
pub fn check(root: &Path) -> Result<Vec<String>> {
    let files = workspace_files(root)?;
    Ok(RULES
        .iter()
        .flat_map(|rule| confined_offences(rule, &files))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: Confined = Confined {
        name: "serde_yaml",
        belongs: "config loading",
        homes: &["crates/x/src/config.rs"],
        allowed: &[("crates/x/src/reload.rs", "moving")],
    };

    fn files(list: &[(&str, &str)]) -> Vec<Source> {
        list.iter()
            .map(|(path, text)| ((*path).to_string(), (*text).to_string()))
            .collect()
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("crates/x/src/config.rs", "use serde_yaml::Value;\n"),
            (
                "crates/x/src/reload.rs",
                "let v = serde_yaml::from_str(t);\n",
            ),
            (
                "crates/x/src/lib.rs",
                "// serde_yaml in a comment\nconst S: &str = \"serde_yaml\";\n",
            ),
        ]
    }

    #[test]
    fn uses_in_listed_files_pass() {
        assert_eq!(
            confined_offences(&RULE, &files(&good())),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_use_elsewhere_fails() {
        let mut list = good();
        list.push((
            "crates/x/src/routes.rs",
            "fn f() {}\nuse serde_yaml::{Mapping, Value};\n",
        ));
        let offences = confined_offences(&RULE, &files(&list));
        assert_eq!(offences.len(), 1, "{offences:?}");
        assert!(
            offences[0].starts_with("crates/x/src/routes.rs:2: uses `serde_yaml`"),
            "{offences:?}"
        );
    }

    #[test]
    fn a_path_in_code_counts_but_test_code_does_not() {
        let mut list = good();
        list.push((
            "crates/x/src/a.rs",
            "fn f() { let v: serde_yaml::Value = g(); }\n",
        ));
        list.push((
            "crates/x/src/b.rs",
            "fn f() {}\n#[cfg(test)]\nmod tests {\n    use serde_yaml::Value;\n}\n",
        ));
        let offences = confined_offences(&RULE, &files(&list));
        assert_eq!(offences.len(), 1, "{offences:?}");
        assert!(
            offences[0].starts_with("crates/x/src/a.rs:1:"),
            "{offences:?}"
        );
    }

    #[test]
    fn a_listed_file_that_stopped_using_it_must_leave_the_list() {
        let mut list = good();
        list[1] = ("crates/x/src/reload.rs", "fn f() {}\n");
        let offences = confined_offences(&RULE, &files(&list));
        assert_eq!(offences.len(), 1, "{offences:?}");
        assert!(
            offences[0].contains("reload.rs: listed as a user"),
            "{offences:?}"
        );
    }

    #[test]
    fn the_lists_are_sound() {
        for home in SERDE_YAML.homes {
            assert!(home.contains("/config"), "{home} is not config loading");
        }
        for rule in RULES {
            for (path, reason) in rule.allowed {
                assert!(
                    !reason.is_empty(),
                    "{path}: say why it uses `{}`",
                    rule.name
                );
                assert!(!rule.homes.contains(path), "{path} is listed twice");
            }
        }
    }

    /// Runs one rule over the real tree.
    fn check_workspace(rule: &Confined) {
        let files = workspace_files(&crate::workspace::root()).expect("read the crates");
        let offences = confined_offences(rule, &files);
        assert!(offences.is_empty(), "{}", offences.join("\n"));
    }

    #[test]
    fn workspace_serde_yaml_only_in_config_loading() {
        check_workspace(&SERDE_YAML);
    }

    #[test]
    fn workspace_reqwest_only_in_the_transport() {
        check_workspace(&REQWEST);
    }
}
