//! Tidy rule: a size budget for non-test code.
//!
//! Every `.rs` file under `crates/*/src`, `src` and `xtask/src` has at most [`BUDGET`] lines
//! before its first `#[cfg(test)]` line (or in all, without one). Test-only files (a `tests`
//! directory, a `mod tests;` file) are exempt. Today's bigger files are listed in
//! [`OVERSIZED`] with their size as a cap: they may not grow, and leave the list once they fit.

use std::collections::BTreeMap;
use std::path::Path;

use super::source;
use crate::Result;

/// The most lines of non-test code a file may have.
pub const BUDGET: usize = 800;

/// Files over [`BUDGET`] today, with their non-test line count as a cap they may not exceed.
///
/// This list must shrink: a file that fits the budget again must be removed, a file that no
/// longer exists too.
pub const OVERSIZED: &[(&str, usize)] = &[];

/// The source roots, relative to the workspace, whose files the budget covers (besides the
/// crates' `src`).
const EXTRA_ROOTS: &[&str] = &["xtask/src"];

/// Compares the non-test line counts of files (paths relative to the workspace) with the budget
/// and the allowlist of `(path, cap)`; returns the offences.
pub fn size_offences(sizes: &[(String, usize)], oversized: &[(&str, usize)]) -> Vec<String> {
    let caps: BTreeMap<&str, usize> = oversized.iter().copied().collect();
    let mut offences = Vec::new();
    for (path, lines) in sizes {
        match caps.get(path.as_str()) {
            Some(&cap) if *lines > cap => offences.push(format!(
                "{path}: {lines} lines of non-test code, grew past its cap of {cap} in OVERSIZED \
                 (xtask/src/tidy/sizes.rs); split it instead"
            )),
            Some(_) if *lines <= BUDGET => offences.push(format!(
                "{path}: {lines} lines of non-test code, now within the budget of {BUDGET}: \
                 remove it from OVERSIZED in xtask/src/tidy/sizes.rs"
            )),
            Some(_) => {}
            None if *lines > BUDGET => offences.push(format!(
                "{path}: {lines} lines of non-test code, over the budget of {BUDGET}; split it \
                 into modules"
            )),
            None => {}
        }
    }
    for (path, _) in oversized {
        if !sizes.iter().any(|(p, _)| p == path) {
            offences.push(format!(
                "{path}: listed in OVERSIZED (xtask/src/tidy/sizes.rs) but no such source file: \
                 remove it from the list"
            ));
        }
    }
    offences
}

/// The non-test line count of every non-test `.rs` file the budget covers, relative to the
/// workspace, sorted by path.
pub fn current_sizes(root: &Path) -> Result<Vec<(String, usize)>> {
    let mut roots: Vec<String> = source::crate_roots(root)?
        .into_iter()
        .map(|(_, dir)| dir)
        .collect();
    roots.extend(EXTRA_ROOTS.iter().map(|dir| (*dir).to_string()));
    let mut sizes = Vec::new();
    for dir in roots {
        let files = source::load(root, &dir)?;
        let tests = source::test_only(&files);
        for (path, text) in &files {
            if !tests.contains(path) {
                sizes.push((format!("{dir}/{path}"), source::non_test_lines(text)));
            }
        }
    }
    sizes.sort();
    Ok(sizes)
}

/// The files over budget as the text of an `OVERSIZED` constant, to paste when updating it.
pub fn render_allowlist(sizes: &[(String, usize)]) -> String {
    let mut text = String::from("pub const OVERSIZED: &[(&str, usize)] = &[\n");
    for (path, lines) in sizes.iter().filter(|(_, lines)| *lines > BUDGET) {
        text.push_str(&format!("    ({path:?}, {lines}),\n"));
    }
    text.push_str("];\n");
    text
}

/// Runs the rule over the workspace against [`OVERSIZED`]; the offences end with the list as it
/// would read today.
pub fn check(root: &Path) -> Result<Vec<String>> {
    let sizes = current_sizes(root)?;
    let mut offences = size_offences(&sizes, OVERSIZED);
    if !offences.is_empty() {
        offences.push(format!(
            "the files over budget today (caps as they are now):\n{}",
            render_allowlist(&sizes)
        ));
    }
    Ok(offences)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(list: &[(&str, usize)]) -> Vec<(String, usize)> {
        list.iter()
            .map(|(path, lines)| ((*path).to_string(), *lines))
            .collect()
    }

    #[test]
    fn lines_are_counted_up_to_the_test_tail() {
        let body = "fn f() {}\n".repeat(BUDGET + 1);
        assert_eq!(source::non_test_lines(&body), BUDGET + 1);
        let short = format!(
            "{}#[cfg(test)]\nmod tests {{\n{body}}}\n",
            "fn f() {}\n".repeat(10)
        );
        assert_eq!(source::non_test_lines(&short), 10);
    }

    #[test]
    fn files_within_budget_pass() {
        let s = sizes(&[("a.rs", BUDGET), ("b.rs", 10)]);
        assert!(size_offences(&s, &[]).is_empty());
    }

    #[test]
    fn an_oversized_file_fails() {
        let offences = size_offences(&sizes(&[("a.rs", BUDGET + 1)]), &[]);
        assert_eq!(offences.len(), 1, "{offences:?}");
        assert!(
            offences[0].contains("over the budget of 800"),
            "{offences:?}"
        );
    }

    #[test]
    fn an_allowlisted_file_may_stay_or_shrink_but_not_grow() {
        let list: &[(&str, usize)] = &[("big.rs", 1000)];
        assert!(size_offences(&sizes(&[("big.rs", 1000)]), list).is_empty());
        assert!(size_offences(&sizes(&[("big.rs", 900)]), list).is_empty());
        let offences = size_offences(&sizes(&[("big.rs", 1001)]), list);
        assert_eq!(offences.len(), 1, "{offences:?}");
        assert!(
            offences[0].contains("grew past its cap of 1000"),
            "{offences:?}"
        );
    }

    #[test]
    fn an_allowlisted_file_that_shrank_into_budget_must_leave_the_list() {
        let list: &[(&str, usize)] = &[("big.rs", 1000)];
        let offences = size_offences(&sizes(&[("big.rs", BUDGET)]), list);
        assert_eq!(offences.len(), 1, "{offences:?}");
        assert!(
            offences[0].contains("remove it from OVERSIZED"),
            "{offences:?}"
        );
    }

    #[test]
    fn an_allowlisted_file_that_is_gone_must_leave_the_list() {
        let offences = size_offences(&sizes(&[("a.rs", 1)]), &[("gone.rs", 1000)]);
        assert_eq!(offences.len(), 1, "{offences:?}");
        assert!(offences[0].contains("no such source file"), "{offences:?}");
    }

    #[test]
    fn the_allowlist_is_rendered_from_the_sizes() {
        let s = sizes(&[("a.rs", 10), ("b.rs", 900)]);
        assert_eq!(
            render_allowlist(&s),
            "pub const OVERSIZED: &[(&str, usize)] = &[\n    (\"b.rs\", 900),\n];\n"
        );
    }

    #[test]
    fn workspace_files_fit_their_size_budget() {
        let root = crate::workspace::root();
        let sizes = current_sizes(&root).expect("read the sources");
        println!("files over budget today:\n{}", render_allowlist(&sizes));
        let offences = check(&root).expect("read the sources");
        assert!(offences.is_empty(), "{}", offences.join("\n"));
    }
}
