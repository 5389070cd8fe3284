//! Reading Rust sources for the tidy rules: blanking comments and literals, cutting off the
//! `#[cfg(test)]` tail, finding words, telling test-only files, and loading the crates' sources.
//!
//! These are approximations on text (no parser): good enough for rules about our own code, which
//! is rustfmt-formatted and puts its test module last.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use crate::Result;

/// One source file: its path (relative to a source root or the workspace, with `/` separators)
/// and its text.
pub type Source = (String, String);

/// The attribute that starts the test tail of a file.
const CFG_TEST: &str = "#[cfg(test)]";

/// Whether `c` can be part of an identifier.
fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `text` with comments and string, byte-string, raw-string and char literals replaced by spaces
/// (newlines kept, so line numbers stay), so that whatever word is left is code.
pub fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0usize;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if c == 'r' && !prev_ident_except_b(&chars, i) && matches!(next, Some('"' | '#')) {
            let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let start = i;
            i += 2 + hashes;
            while i < chars.len() {
                if chars[i] == '"'
                    && chars[i + 1..].iter().take_while(|c| **c == '#').count() >= hashes
                {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
            for &c in &chars[start..i.min(chars.len())] {
                blank(&mut out, c);
            }
        } else if c == '"' {
            blank(&mut out, c);
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                let step = if chars[i] == '\\' { 2 } else { 1 };
                for &c in chars.iter().skip(i).take(step) {
                    blank(&mut out, c);
                }
                i += step;
            }
            if i < chars.len() {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '\'' && !prev_ident_except_b(&chars, i) {
            // A char literal ('x', '\n', '\u{..}'), else a lifetime or label, which stays.
            let end = if next == Some('\\') {
                chars
                    .get(i + 3..)
                    .and_then(|rest| rest.iter().position(|c| *c == '\''))
                    .map(|p| i + 3 + p)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    for &c in &chars[i..=end] {
                        blank(&mut out, c);
                    }
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Whether the character at `i` continues an identifier, other than a lone `b` prefix (as in
/// `br"..."` or `b'x'`).
fn prev_ident_except_b(chars: &[char], i: usize) -> bool {
    match i.checked_sub(1).map(|p| chars[p]) {
        Some('b') => i >= 2 && is_ident_char(chars[i - 2]),
        Some(c) => is_ident_char(c),
        None => false,
    }
}

/// The index (0-based) of the first line of `code` (see [`code_only`]) that starts with
/// `#[cfg(test)]`, where the test tail of the file begins.
pub fn cfg_test_line(code: &str) -> Option<usize> {
    code.lines()
        .position(|line| line.trim_start().starts_with(CFG_TEST))
}

/// The code of `text` before its `#[cfg(test)]` tail, comments and literals blanked.
pub fn non_test_code(text: &str) -> String {
    let code = code_only(text);
    match cfg_test_line(&code) {
        Some(cut) => code.lines().take(cut).collect::<Vec<_>>().join("\n"),
        None => code,
    }
}

/// The number of lines of `text` before its `#[cfg(test)]` tail (all of them without one).
pub fn non_test_lines(text: &str) -> usize {
    cfg_test_line(&code_only(text)).unwrap_or_else(|| text.lines().count())
}

/// The lines (1-based) of `code` on which `word` occurs as a whole identifier.
pub fn word_lines(code: &str, word: &str) -> Vec<usize> {
    let mut found = Vec::new();
    for (index, line) in code.lines().enumerate() {
        let hit = line.match_indices(word).any(|(at, _)| {
            let before = line[..at].chars().next_back();
            let after = line[at + word.len()..].chars().next();
            !before.is_some_and(is_ident_char) && !after.is_some_and(is_ident_char)
        });
        if hit {
            found.push(index + 1);
        }
    }
    found
}

/// The names of the modules in their own file declared test-only in `code`: a `mod name;`
/// (any visibility) under a `#[cfg(test)]` attribute, other attributes between them allowed.
fn test_modules(code: &str) -> Vec<String> {
    let lines: Vec<&str> = code.lines().map(str::trim).collect();
    let mut names = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if !line.starts_with(CFG_TEST) {
            continue;
        }
        let rest = line[CFG_TEST.len()..].trim();
        let item = std::iter::once(rest)
            .chain(lines[index + 1..].iter().copied())
            .find(|line| !line.is_empty() && !line.starts_with("#["));
        let Some(item) = item else {
            continue;
        };
        let words: Vec<&str> = item.split_whitespace().collect();
        let decl = match words.as_slice() {
            ["mod", name] => Some(*name),
            [visibility, "mod", name] if visibility.starts_with("pub") => Some(*name),
            _ => None,
        };
        if let Some(name) = decl.and_then(|name| name.strip_suffix(';')) {
            names.push(name.to_string());
        }
    }
    names
}

/// The directory (with a trailing `/`, or empty) holding the child modules of the file `path`:
/// `lib.rs`, `main.rs` and `mod.rs` keep theirs beside them, `a/b.rs` in `a/b/`.
pub fn child_dir(path: &str) -> String {
    let (dir, file) = path.rsplit_once('/').map_or(("", path), |(d, f)| (d, f));
    let dir = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    match file {
        "lib.rs" | "main.rs" | "mod.rs" => dir,
        _ => format!("{dir}{}/", file.trim_end_matches(".rs")),
    }
}

/// The test-only files among `files` (paths relative to one source root): those under a `tests`
/// directory, and those declared `#[cfg(test)] mod name;` in their parent, with everything below
/// them.
pub fn test_only(files: &[Source]) -> BTreeSet<String> {
    let mut test_dirs: Vec<String> = Vec::new();
    let mut test_files = BTreeSet::new();
    for (path, text) in files {
        let dir = child_dir(path);
        for name in test_modules(&code_only(text)) {
            test_files.insert(format!("{dir}{name}.rs"));
            test_dirs.push(format!("{dir}{name}/"));
        }
    }
    files
        .iter()
        .map(|(path, _)| path)
        .filter(|path| {
            test_files.contains(*path)
                || test_dirs.iter().any(|dir| path.starts_with(dir.as_str()))
                || path.split('/').any(|part| part == "tests")
        })
        .cloned()
        .collect()
}

/// The crates whose sources the tidy rules read: `(crate name, source root relative to the
/// workspace)` for `crates/*/src` and the root package's `src`, sorted.
pub fn crate_roots(root: &Path) -> Result<Vec<(String, String)>> {
    let mut roots = Vec::new();
    let crates = root.join("crates");
    let entries =
        fs::read_dir(&crates).map_err(|err| format!("cannot read {}: {err}", crates.display()))?;
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_dir() && entry.path().join("src").is_dir() {
            let name = entry.file_name().to_string_lossy().into_owned();
            roots.push((name.clone(), format!("crates/{name}/src")));
        }
    }
    roots.sort();
    roots.push(("litellm-rs".to_string(), "src".to_string()));
    Ok(roots)
}

/// Every `.rs` file under `root/dir`, as `(path relative to root/dir, text)`, sorted.
pub fn load(root: &Path, dir: &str) -> Result<Vec<Source>> {
    let base = root.join(dir);
    let mut files = Vec::new();
    for file in super::rust_files(&base)? {
        let text = fs::read_to_string(&file)
            .map_err(|err| format!("cannot read {}: {err}", file.display()))?;
        let path = file
            .strip_prefix(&base)
            .unwrap_or(&file)
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        files.push((path, text));
    }
    Ok(files)
}

/// The non-test files of every crate root (see [`crate_roots`]), with paths relative to the
/// workspace, as `(crate name, source root, files)`.
pub fn crate_sources(root: &Path) -> Result<Vec<(String, String, Vec<Source>)>> {
    let mut crates = Vec::new();
    for (name, dir) in crate_roots(root)? {
        let files = load(root, &dir)?;
        let tests = test_only(&files);
        let files = files
            .into_iter()
            .filter(|(path, _)| !tests.contains(path))
            .collect();
        crates.push((name, dir, files));
    }
    Ok(crates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(path: &str, text: &str) -> Source {
        (path.to_string(), text.to_string())
    }

    #[test]
    fn comments_and_literals_are_blanked() {
        let text = "let a = \"crate::x\"; // crate::y\n/* crate::z /* nested */ */ let b = 'c';\n\
                    let r = r#\"crate::w\"#; fn f<'a>(x: &'a str) {}\n\
                    let q = '\\''; let z = b'\"';\n\
                    let n = '\\n'; crate::v();\n";
        let code = code_only(text);
        assert_eq!(code.lines().count(), text.lines().count());
        assert_eq!(code.matches("crate").count(), 1, "{code}");
        assert!(code.contains("crate::v();"), "{code}");
        assert!(code.contains("fn f<'a>(x: &'a str)"), "{code}");
        assert!(code.contains("let q ="), "{code}");
    }

    #[test]
    fn the_test_tail_is_cut() {
        let text = "//! Doc.\nuse a;\n\n#[cfg(test)]\nmod tests {\n    use b;\n}\n";
        assert_eq!(non_test_lines(text), 3);
        assert_eq!(word_lines(&non_test_code(text), "a"), vec![2]);
        assert!(!non_test_code(text).contains("use b"));
        assert_eq!(non_test_lines("a\nb\n"), 2);
        // The attribute inside a string or a comment does not count.
        assert_eq!(
            non_test_lines("let s = \"\n#[cfg(test)]\n\";\n// #[cfg(test)]\n"),
            4
        );
    }

    #[test]
    fn words_match_whole_identifiers() {
        let code = "use reqwest::Client;\nfn map_reqwest_error() {}\nlet x = reqwest;\n";
        assert_eq!(word_lines(code, "reqwest"), vec![1, 3]);
    }

    #[test]
    fn child_dirs() {
        assert_eq!(child_dir("lib.rs"), "");
        assert_eq!(child_dir("a/mod.rs"), "a/");
        assert_eq!(child_dir("a/b.rs"), "a/b/");
        assert_eq!(child_dir("cli.rs"), "cli/");
    }

    #[test]
    fn test_only_files_are_found() {
        let files = vec![
            source("lib.rs", "mod a;\nmod b;\n#[cfg(test)]\nmod tests;\n"),
            source("tests.rs", "use crate::a;\n"),
            source(
                "a/mod.rs",
                "mod c;\n#[cfg(test)]\n#[allow(dead_code)]\npub(crate) mod helpers;\nmod more;\n\
                 #[cfg(test)] mod fixtures;\n#[cfg(test)]\nmod inline {}\n",
            ),
            source("a/fixtures/x.rs", ""),
            source("a/inline.rs", ""),
            source("a/c.rs", ""),
            source("a/helpers.rs", ""),
            source("a/more/x.rs", ""),
            source("b.rs", ""),
            source("b/tests/d.rs", ""),
        ];
        let got: Vec<String> = test_only(&files).into_iter().collect();
        assert_eq!(
            got,
            vec![
                "a/fixtures/x.rs",
                "a/helpers.rs",
                "b/tests/d.rs",
                "tests.rs"
            ]
        );
    }
}
