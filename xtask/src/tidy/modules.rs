//! Tidy rule: no import circle between the modules of a crate.
//!
//! A module is a file (`foo.rs` or `foo/mod.rs` is `foo`, `a/b.rs` is `a::b`, `lib.rs` and
//! `main.rs` are the crate root). Every `crate::...`, `super::...` and `self::...` path in the
//! file's non-test code (`use` trees, grouped or not, and paths in expressions) is an edge to the
//! longest existing module prefix of the path. Edges between a module and its own ancestors or
//! descendants are not circles (a parent re-exporting its children, a child using its parent's
//! items) and are dropped. Every strongly connected component of more than one module is a
//! circle. Known circles are listed in [`ALLOWED_CIRCLES`], which must only shrink.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::paths::{crate_paths, resolve, ModPath};
use super::source::{self, Source};
use crate::Result;

/// The import circles that exist today: the crate name, then the member modules (sorted).
///
/// This list must shrink: the tidy test fails on a circle that is not listed, and on a listed
/// circle that no longer exists as listed (remove or update its entry when you break it up).
pub const ALLOWED_CIRCLES: &[&[&str]] = &[];

/// The name of the crate root module in messages.
const ROOT: &str = "crate";

/// An import circle: the modules of one strongly connected component of a crate's module graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Circle {
    /// The crate (package) name.
    pub krate: String,
    /// The member modules, sorted (`a::b` style).
    pub modules: Vec<String>,
    /// The edges between members, as `from -> to (file:line)`, sorted.
    pub edges: Vec<String>,
}

/// The module of a file (path relative to the source root), or `None` for a non-`.rs` path.
pub fn module_of(path: &str) -> Option<ModPath> {
    let stem = path.strip_suffix(".rs")?;
    let mut segments: ModPath = stem.split('/').map(str::to_string).collect();
    if segments.len() == 1 && (stem == "lib" || stem == "main") {
        segments.clear();
    } else if segments.last().is_some_and(|last| last == "mod") {
        segments.pop();
    }
    Some(segments)
}

/// The display name of a module: `a::b`, or `crate` for the root.
fn name_of(module: &[String]) -> String {
    if module.is_empty() {
        ROOT.to_string()
    } else {
        module.join("::")
    }
}

/// Whether one module is the other, or an ancestor or descendant of it.
fn related(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// The import circles of one crate, from its non-test files (paths relative to its source
/// root). Code from the first `#[cfg(test)]` line on is ignored.
pub fn find_circles(krate: &str, files: &[Source]) -> Vec<Circle> {
    let modules: BTreeMap<ModPath, &str> = files
        .iter()
        .filter_map(|(path, _)| Some((module_of(path)?, path.as_str())))
        .collect();
    // from -> to -> first evidence (file:line)
    let mut graph: BTreeMap<&ModPath, BTreeMap<ModPath, String>> = BTreeMap::new();
    for (module, path) in &modules {
        graph.entry(module).or_default();
        let Some((_, text)) = files.iter().find(|(p, _)| p == path) else {
            continue;
        };
        for (raw, line) in crate_paths(&source::non_test_code(text)) {
            let absolute = resolve(module, &raw);
            let target = (0..=absolute.len())
                .rev()
                .map(|len| absolute[..len].to_vec())
                .find(|prefix| modules.contains_key(prefix))
                .unwrap_or_default();
            if related(module, &target) {
                continue;
            }
            graph
                .entry(module)
                .or_default()
                .entry(target)
                .or_insert_with(|| format!("{path}:{line}"));
        }
    }
    let names: Vec<&ModPath> = graph.keys().copied().collect();
    let index: BTreeMap<&ModPath, usize> = names.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let adjacency: Vec<Vec<usize>> = names
        .iter()
        .map(|module| {
            graph[module]
                .keys()
                .filter_map(|target| index.get(target).copied())
                .collect()
        })
        .collect();
    let mut circles: Vec<Circle> = strongly_connected(&adjacency)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| {
            let members: BTreeSet<&ModPath> = component.iter().map(|&i| names[i]).collect();
            let mut edges = Vec::new();
            for from in &members {
                for (to, evidence) in &graph[*from] {
                    if members.contains(to) {
                        edges.push(format!("{} -> {} ({evidence})", name_of(from), name_of(to)));
                    }
                }
            }
            let mut modules: Vec<String> = members.iter().map(|m| name_of(m)).collect();
            modules.sort();
            edges.sort();
            Circle {
                krate: krate.to_string(),
                modules,
                edges,
            }
        })
        .collect();
    circles.sort();
    circles
}

/// Tarjan's algorithm: the strongly connected components of a graph given as adjacency lists.
fn strongly_connected(adjacency: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        adjacency: &'a [Vec<usize>],
        next_index: usize,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        components: Vec<Vec<usize>>,
    }
    fn visit(state: &mut State<'_>, v: usize) {
        state.index[v] = Some(state.next_index);
        state.low[v] = state.next_index;
        state.next_index += 1;
        state.stack.push(v);
        state.on_stack[v] = true;
        for &w in &state.adjacency[v] {
            match state.index[w] {
                None => {
                    visit(state, w);
                    state.low[v] = state.low[v].min(state.low[w]);
                }
                Some(w_index) if state.on_stack[w] => state.low[v] = state.low[v].min(w_index),
                Some(_) => {}
            }
        }
        if Some(state.low[v]) == state.index[v] {
            let mut component = Vec::new();
            while let Some(w) = state.stack.pop() {
                state.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            state.components.push(component);
        }
    }
    let n = adjacency.len();
    let mut state = State {
        adjacency,
        next_index: 0,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        components: Vec::new(),
    };
    for v in 0..n {
        if state.index[v].is_none() {
            visit(&mut state, v);
        }
    }
    state.components
}

/// Compares the circles found with the allowlist (entries: crate name, then member modules).
///
/// Offences: a circle not in the list (new, or one that shrank or split: update the entry), and
/// a listed circle that no longer exists as listed (remove the entry).
pub fn circle_offences(found: &[Circle], allowed: &[&[&str]]) -> Vec<String> {
    let key = |krate: &str, modules: &[String]| {
        let mut members: Vec<String> = modules.to_vec();
        members.sort();
        (krate.to_string(), members)
    };
    let allowed: BTreeSet<(String, Vec<String>)> = allowed
        .iter()
        .filter_map(|entry| {
            let (krate, modules) = entry.split_first()?;
            let modules: Vec<String> = modules.iter().map(|m| (*m).to_string()).collect();
            Some(key(krate, &modules))
        })
        .collect();
    let found_keys: BTreeSet<(String, Vec<String>)> =
        found.iter().map(|c| key(&c.krate, &c.modules)).collect();
    let mut offences = Vec::new();
    for circle in found {
        if allowed.contains(&key(&circle.krate, &circle.modules)) {
            continue;
        }
        let shrunk_from = allowed.iter().find(|(krate, modules)| {
            *krate == circle.krate && circle.modules.iter().all(|m| modules.contains(m))
        });
        let what = match shrunk_from {
            Some((_, modules)) => format!(
                "import circle shrank from [{}]: update its ALLOWED_CIRCLES entry",
                modules.join(", ")
            ),
            None => "new import circle; break it (move the shared items down, or depend on \
                     the parent module)"
                .to_string(),
        };
        offences.push(format!(
            "{}: {what}: [{}] via {}",
            circle.krate,
            circle.modules.join(", "),
            circle.edges.join("; ")
        ));
    }
    for (krate, modules) in &allowed {
        if found_keys.contains(&(krate.clone(), modules.clone())) {
            continue;
        }
        let shrank = found
            .iter()
            .any(|c| c.krate == *krate && c.modules.iter().all(|m| modules.contains(m)));
        if !shrank {
            offences.push(format!(
                "{krate}: the allowlisted import circle [{}] no longer exists: remove it from \
                 ALLOWED_CIRCLES in xtask/src/tidy/modules.rs",
                modules.join(", ")
            ));
        }
    }
    offences
}

/// The circles as the text of an `ALLOWED_CIRCLES` constant, to paste when updating the list.
pub fn render_allowlist(found: &[Circle]) -> String {
    let mut text = String::from("pub const ALLOWED_CIRCLES: &[&[&str]] = &[\n");
    for circle in found {
        let members: Vec<String> = std::iter::once(&circle.krate)
            .chain(&circle.modules)
            .map(|m| format!("{m:?}"))
            .collect();
        text.push_str(&format!("    &[{}],\n", members.join(", ")));
    }
    text.push_str("];\n");
    text
}

/// The import circles of every crate in the workspace (see [`source::crate_sources`]).
pub fn current_circles(root: &Path) -> Result<Vec<Circle>> {
    let mut circles = Vec::new();
    for (krate, _, files) in source::crate_sources(root)? {
        circles.extend(find_circles(&krate, &files));
    }
    Ok(circles)
}

/// Runs the rule over the workspace against [`ALLOWED_CIRCLES`]; the offences end with the
/// list as it should read today.
pub fn check(root: &Path) -> Result<Vec<String>> {
    let circles = current_circles(root)?;
    let mut offences = circle_offences(&circles, ALLOWED_CIRCLES);
    if !offences.is_empty() {
        offences.push(format!(
            "the import circles today, as xtask/src/tidy/modules.rs should list them:\n{}",
            render_allowlist(&circles)
        ));
    }
    Ok(offences)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<Source> {
        list.iter()
            .map(|(path, text)| ((*path).to_string(), (*text).to_string()))
            .collect()
    }

    fn members(circles: &[Circle]) -> Vec<Vec<String>> {
        circles.iter().map(|c| c.modules.clone()).collect()
    }

    #[test]
    fn modules_of_files() {
        assert_eq!(module_of("lib.rs"), Some(vec![]));
        assert_eq!(module_of("main.rs"), Some(vec![]));
        assert_eq!(module_of("a.rs"), Some(vec!["a".to_string()]));
        assert_eq!(module_of("a/mod.rs"), Some(vec!["a".to_string()]));
        assert_eq!(
            module_of("a/b.rs"),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(module_of("a/lib.rs").map(|m| m.len()), Some(2));
        assert_eq!(module_of("README.md"), None);
    }

    #[test]
    fn two_module_circle_via_crate_paths() {
        let f = files(&[
            ("lib.rs", "mod a;\nmod b;\npub use a::A;\n"),
            ("a.rs", "//! A.\nuse crate::b::B;\n"),
            ("b.rs", "//! B.\npub fn f() { crate::a::g(); }\n"),
        ]);
        let circles = find_circles("demo", &f);
        assert_eq!(members(&circles), vec![vec!["a", "b"]]);
        assert_eq!(circles[0].edges, vec!["a -> b (a.rs:2)", "b -> a (b.rs:2)"]);
    }

    #[test]
    fn circle_via_super_between_siblings() {
        let f = files(&[
            ("lib.rs", "mod routes;\n"),
            (
                "routes/mod.rs",
                "mod chat;\nmod models;\npub use chat::handler;\n",
            ),
            (
                "routes/chat.rs",
                "use super::models::list;\nuse super::Shared;\n",
            ),
            ("routes/models.rs", "fn f() { super::chat::helper() }\n"),
        ]);
        assert_eq!(
            members(&find_circles("demo", &f)),
            vec![vec!["routes::chat", "routes::models"]]
        );
    }

    #[test]
    fn circle_via_a_grouped_use_tree_resolves_to_the_longest_module() {
        let f = files(&[
            ("lib.rs", ""),
            ("routes/mod.rs", ""),
            (
                "routes/chat.rs",
                "use crate::{state::{AppState, x}, error::ApiError};\n",
            ),
            ("state.rs", "use crate::routes::chat::handler::Thing;\n"),
            ("error.rs", ""),
        ]);
        let circles = find_circles("demo", &f);
        assert_eq!(members(&circles), vec![vec!["routes::chat", "state"]]);
    }

    #[test]
    fn three_module_circle_is_one_offence() {
        let f = files(&[
            ("a.rs", "use crate::b::X;"),
            ("b.rs", "use crate::c::X;"),
            ("c.rs", "use crate::a::X;"),
            ("d.rs", "use crate::a::X;"),
        ]);
        let circles = find_circles("demo", &f);
        assert_eq!(members(&circles), vec![vec!["a", "b", "c"]]);
        assert_eq!(circle_offences(&circles, &[]).len(), 1);
    }

    #[test]
    fn parents_and_children_are_not_circles() {
        let f = files(&[
            ("lib.rs", "use crate::a::b::f;\n"),
            (
                "a/mod.rs",
                "mod b;\npub use self::b::f;\nuse crate::a::b::g;\n",
            ),
            (
                "a/b.rs",
                "use super::Shared;\nuse crate::a::Other;\nuse crate::Root;\n",
            ),
        ]);
        assert!(find_circles("demo", &f).is_empty());
    }

    #[test]
    fn circles_in_test_code_comments_and_strings_are_ignored() {
        let f = files(&[
            ("a.rs", "use crate::b::X;\n"),
            (
                "b.rs",
                "// use crate::a::Y;\nconst S: &str = \"crate::a::Y\";\n\
                 #[cfg(test)]\nmod tests {\n    use crate::a::Y;\n}\n",
            ),
        ]);
        assert!(find_circles("demo", &f).is_empty());
    }

    #[test]
    fn allowlist_must_match_exactly() {
        let f = files(&[("a.rs", "use crate::b::X;"), ("b.rs", "use crate::a::X;")]);
        let circles = find_circles("demo", &f);
        assert!(circle_offences(&circles, &[&["demo", "b", "a"]]).is_empty());
        // A new circle, or one in another crate, is an offence.
        let offences = circle_offences(&circles, &[]);
        assert_eq!(offences.len(), 1, "{offences:?}");
        assert!(offences[0].contains("new import circle"), "{offences:?}");
        assert!(
            offences[0].contains("[a, b] via a -> b (a.rs:1)"),
            "{offences:?}"
        );
        let offences = circle_offences(&circles, &[&["other", "a", "b"]]);
        assert_eq!(offences.len(), 2, "{offences:?}");
        // An allowlisted circle that is gone must be removed.
        let offences = circle_offences(&[], &[&["demo", "a", "b"]]);
        assert_eq!(offences.len(), 1, "{offences:?}");
        assert!(offences[0].contains("no longer exists"), "{offences:?}");
        // One that shrank must be updated.
        let offences = circle_offences(&circles, &[&["demo", "a", "b", "c"]]);
        assert_eq!(offences.len(), 1, "{offences:?}");
        assert!(
            offences[0].contains("shrank from [a, b, c]"),
            "{offences:?}"
        );
        assert_eq!(
            render_allowlist(&circles),
            "pub const ALLOWED_CIRCLES: &[&[&str]] = &[\n    &[\"demo\", \"a\", \"b\"],\n];\n"
        );
    }

    #[test]
    fn workspace_import_circles_match_the_allowlist() {
        let root = crate::workspace::root();
        let circles = current_circles(&root).expect("read the crates");
        println!("import circles today:\n{}", render_allowlist(&circles));
        for circle in &circles {
            println!("{}: {}", circle.krate, circle.edges.join("; "));
        }
        let offences = check(&root).expect("read the crates");
        assert!(offences.is_empty(), "{}", offences.join("\n"));
    }
}
