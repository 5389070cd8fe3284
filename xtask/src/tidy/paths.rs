//! Reading module paths out of Rust code for the import-circle rule: every path that starts with
//! `crate`, `super` or `self` (`use` trees, grouped or not, and paths in expressions), and
//! resolving it relative to the module it is written in.

/// A module path: its segments below the crate root.
pub type ModPath = Vec<String>;

/// The tokens the path scanner needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Other,
}

/// `code` (comments and literals already blanked) as tokens, each with its 1-based line.
fn tokens(code: &str) -> Vec<(Token, usize)> {
    let mut out = Vec::new();
    for (index, line) in code.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_alphanumeric() || c == '_' {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push((Token::Ident(chars[start..i].iter().collect()), index + 1));
                continue;
            }
            let token = match c {
                ':' if chars.get(i + 1) == Some(&':') => {
                    i += 1;
                    Token::PathSep
                }
                '{' => Token::Open,
                '}' => Token::Close,
                ',' => Token::Comma,
                c if c.is_whitespace() => {
                    i += 1;
                    continue;
                }
                _ => Token::Other,
            };
            out.push((token, index + 1));
            i += 1;
        }
    }
    out
}

/// Parses one use tree (or expression path) from `pos`, appending every full path it names to
/// `out`. A subtree inside `{...}` stops before its `,` or `}`.
fn parse_tree(tokens: &[(Token, usize)], pos: &mut usize, prefix: ModPath, out: &mut Vec<ModPath>) {
    let mut path = prefix;
    loop {
        match tokens.get(*pos).map(|(token, _)| token) {
            Some(Token::Ident(name)) if name != "as" => {
                path.push(name.clone());
                *pos += 1;
                if tokens.get(*pos).map(|(token, _)| token) == Some(&Token::PathSep) {
                    *pos += 1;
                    continue;
                }
                out.push(path);
                return;
            }
            Some(Token::Open) => {
                *pos += 1;
                loop {
                    match tokens.get(*pos).map(|(token, _)| token) {
                        None => return,
                        Some(Token::Close) => {
                            *pos += 1;
                            return;
                        }
                        Some(Token::Comma) => *pos += 1,
                        Some(_) => {
                            let start = *pos;
                            parse_tree(tokens, pos, path.clone(), out);
                            skip_to_separator(tokens, pos, start);
                        }
                    }
                }
            }
            _ => {
                out.push(path);
                return;
            }
        }
    }
}

/// Skips what is left of a subtree of a use group (`as name`, `*`), up to its `,` or `}`; moves
/// on at least one token past `start`.
fn skip_to_separator(tokens: &[(Token, usize)], pos: &mut usize, start: usize) {
    if *pos == start {
        *pos += 1;
    }
    let mut depth = 0usize;
    while let Some((token, _)) = tokens.get(*pos) {
        match token {
            Token::Open => depth += 1,
            Token::Close if depth == 0 => return,
            Token::Close => depth -= 1,
            Token::Comma if depth == 0 => return,
            _ => {}
        }
        *pos += 1;
    }
}

/// Every path in `code` that starts with `crate`, `super` or `self` (including `$crate`), with
/// use groups expanded, as raw segments (`["super", "a", "f"]`), each with its line.
pub fn crate_paths(code: &str) -> Vec<(ModPath, usize)> {
    let tokens = tokens(code);
    let mut paths = Vec::new();
    let mut pos = 0;
    while pos < tokens.len() {
        let starts_path = matches!(&tokens[pos].0, Token::Ident(name)
            if matches!(name.as_str(), "crate" | "super" | "self"))
            && tokens.get(pos + 1).map(|(token, _)| token) == Some(&Token::PathSep)
            && (pos == 0 || tokens[pos - 1].0 != Token::PathSep);
        if !starts_path {
            pos += 1;
            continue;
        }
        let line = tokens[pos].1;
        let mut found = Vec::new();
        parse_tree(&tokens, &mut pos, Vec::new(), &mut found);
        paths.extend(found.into_iter().map(|path| (path, line)));
    }
    paths
}

/// Resolves a raw path written in module `from` to absolute segments below the crate root.
pub fn resolve(from: &[String], raw: &[String]) -> ModPath {
    let mut segments = raw.iter();
    let mut path: ModPath = match segments.next().map(String::as_str) {
        Some("super") => from[..from.len().saturating_sub(1)].to_vec(),
        Some("self") => from.to_vec(),
        _ => Vec::new(),
    };
    for segment in segments {
        match segment.as_str() {
            "super" => {
                path.pop();
            }
            "self" => {}
            _ => path.push(segment.clone()),
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn paths_are_read_from_use_trees_and_code() {
        let code = "use crate::{a, b::c as d, e::{self, f::*}};\nfn g() { crate::h::i(); }\n\
                    use super::j; use self::k::L; use std::crate_like; x::crate::no;\n";
        let paths: Vec<String> = crate_paths(code)
            .into_iter()
            .map(|(path, line)| format!("{}@{line}", path.join("::")))
            .collect();
        assert_eq!(
            paths,
            vec![
                "crate::a@1",
                "crate::b::c@1",
                "crate::e::self@1",
                "crate::e::f@1",
                "crate::h::i@2",
                "super::j@3",
                "self::k::L@3",
            ]
        );
    }

    #[test]
    fn paths_resolve_relative_to_the_module() {
        let m = |s: &str| -> ModPath { s.split("::").map(str::to_string).collect() };
        assert_eq!(resolve(&m("a::b"), &m("super::c")), m("a::c"));
        assert_eq!(resolve(&m("a::b"), &m("self::c")), m("a::b::c"));
        assert_eq!(resolve(&m("a::b"), &m("super::super::c")), m("c"));
        assert_eq!(resolve(&m("a"), &m("crate::e::self")), m("e"));
    }
}
