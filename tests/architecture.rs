//! The house's rules, read from the source: imports only point down the layers
//! (`main → cli → app → http → service → state → notify → auth → error → telemetry → config → db
//! → domain`), no import cycle between any two files of `src/`, SQL only in `db/`, and no file
//! too big to read. Each test names the file and the path that breaks a rule.
//!
//! Imports are read as text: every `crate::` path (in `use` trees and inline), `super::` and
//! `self::` paths, and paths that start with a child module's name, resolved to the deepest file
//! they name. Test modules (`#[cfg(test)]` to the end of a file) are left out: tests may reach
//! anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, top first. A file may use its own layer and the ones after it.
const LAYERS: &[&str] = &[
    "cli",
    "app",
    "http",
    "service",
    "state",
    "notify",
    "auth",
    "error",
    "telemetry",
    "config",
    "db",
    "domain",
];

/// A module path such as `["http", "tickets", "shapes"]`; the crate root is `[]`.
type Module = Vec<String>;

struct Source {
    module: Module,
    /// The text without its test module.
    code: String,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(rel: &Path) -> Module {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().unwrap_or_default();
    let stem = file.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// Drops line comments and everything from the first `#[cfg(test)]` on.
fn code_of(text: &str) -> String {
    let body = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    body.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every library source file (the binary's `main.rs` is the top and imports through `incident::`).
fn sources() -> Vec<Source> {
    let dir = src_dir();
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "main.rs"))
        // `#[cfg(test)] mod tests;` files are test code, like inline test modules.
        .filter(|p| !p.iter().any(|c| c == "tests" || c == "tests.rs"))
        .map(|path| {
            let rel = path.strip_prefix(&dir).expect("under src").to_path_buf();
            let text = std::fs::read_to_string(&path).expect("read source");
            Source {
                module: module_of(&rel),
                code: code_of(&text),
            }
        })
        .collect()
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths of a `use` tree or an inline path starting at `text` (just after `crate::`,
/// `super::`, ...): `a::b::{c, d::e}` gives `a::b::c` and `a::b::d::e`.
fn paths_at(text: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut path = prefix;
    loop {
        while i < bytes.len() && bytes[i].is_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == '{' {
            i += 1;
            loop {
                let used = paths_at(&text_from(&bytes, i), path.clone(), out);
                i += used;
                while i < bytes.len() && (bytes[i].is_whitespace() || bytes[i] == ',') {
                    i += 1;
                }
                if i >= bytes.len() || bytes[i] == '}' {
                    return i + 1;
                }
                if used == 0 {
                    i += 1;
                }
            }
        }
        let start = i;
        while i < bytes.len() && is_ident_char(bytes[i]) {
            i += 1;
        }
        if start == i {
            if bytes.get(i) == Some(&'*') {
                i += 1;
            }
            out.push(path);
            return i;
        }
        let ident: String = bytes[start..i].iter().collect();
        if ident != "self" {
            path.push(ident);
        }
        if bytes.get(i) == Some(&':') && bytes.get(i + 1) == Some(&':') {
            i += 2;
        } else {
            out.push(path);
            return i;
        }
    }
}

fn text_from(chars: &[char], i: usize) -> String {
    chars[i.min(chars.len())..].iter().collect()
}

/// Every module path this file names, resolved against the crate's modules.
fn references(src: &Source, modules: &BTreeSet<Module>) -> Vec<(Module, String)> {
    let code = &src.code;
    let children: Vec<String> = modules
        .iter()
        .filter(|m| m.len() == src.module.len() + 1 && m.starts_with(&src.module))
        .filter_map(|m| m.last().cloned())
        .collect();
    let mut raw: Vec<Vec<String>> = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let boundary =
            i == 0 || !(is_ident_char(chars[i - 1]) || chars[i - 1] == ':' || chars[i - 1] == '$');
        if !boundary || !is_ident_char(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_ident_char(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        if !(chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':')) {
            continue;
        }
        let prefix = match word.as_str() {
            "crate" => Vec::new(),
            "self" => src.module.clone(),
            // The parent module, whether this file is `a/b.rs` or `a/b/mod.rs`.
            "super" => src.module[..src.module.len().saturating_sub(1)].to_vec(),
            w if children.iter().any(|c| c == w) => src.module.clone(),
            _ => continue,
        };
        let rest_start = if prefix == src.module && word != "self" {
            start
        } else {
            i + 2
        };
        let mut found = Vec::new();
        let used = paths_at(&text_from(&chars, rest_start), prefix, &mut found);
        raw.extend(found);
        i = rest_start + used.max(1);
    }
    let mut out = Vec::new();
    for path in raw {
        // The deepest module the path names (an item of a module resolves to its file).
        let mut target = path.clone();
        while !target.is_empty() && !modules.contains(&target) {
            target.pop();
        }
        if target.is_empty() || target == src.module {
            continue;
        }
        out.push((target, path.join("::")));
    }
    out
}

fn graph() -> (Vec<Source>, BTreeMap<Module, BTreeMap<Module, String>>) {
    let sources = sources();
    let modules: BTreeSet<Module> = sources.iter().map(|s| s.module.clone()).collect();
    let mut edges: BTreeMap<Module, BTreeMap<Module, String>> = BTreeMap::new();
    for src in &sources {
        let entry = edges.entry(src.module.clone()).or_default();
        for (target, path) in references(src, &modules) {
            entry.entry(target).or_insert(path);
        }
    }
    (sources, edges)
}

fn layer(m: &Module) -> Option<usize> {
    let top = m.first()?;
    LAYERS.iter().position(|l| l == top)
}

fn name(m: &Module) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

#[test]
fn every_top_level_module_has_a_layer() {
    let (sources, _) = graph();
    let unplaced: BTreeSet<String> = sources
        .iter()
        .filter(|s| !s.module.is_empty() && layer(&s.module).is_none())
        .map(|s| s.module[0].clone())
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules missing from LAYERS: {unplaced:?}"
    );
}

#[test]
fn imports_only_point_down_the_layers() {
    let (_, edges) = graph();
    let mut upward = Vec::new();
    for (from, targets) in &edges {
        let Some(from_layer) = layer(from) else {
            continue;
        };
        for (to, path) in targets {
            if let Some(to_layer) = layer(to) {
                if to_layer < from_layer {
                    upward.push(format!(
                        "{} uses {path} ({} is above {})",
                        name(from),
                        to[0],
                        from[0]
                    ));
                }
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that run upward:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_import_cycle_between_files() {
    let (_, edges) = graph();
    // Depth-first search with colours; a grey target closes a cycle.
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let nodes: Vec<&Module> = edges.keys().collect();
    let mut colour: BTreeMap<&Module, Colour> = nodes.iter().map(|n| (*n, Colour::White)).collect();
    let mut cycles = Vec::new();
    fn visit<'a>(
        n: &'a Module,
        edges: &'a BTreeMap<Module, BTreeMap<Module, String>>,
        colour: &mut BTreeMap<&'a Module, Colour>,
        stack: &mut Vec<&'a Module>,
        cycles: &mut Vec<String>,
    ) {
        colour.insert(n, Colour::Grey);
        stack.push(n);
        for to in edges.get(n).into_iter().flat_map(|t| t.keys()) {
            match colour.get(to).copied().unwrap_or(Colour::Black) {
                Colour::White => visit(to, edges, colour, stack, cycles),
                Colour::Grey => {
                    let at = stack.iter().position(|m| *m == to).unwrap_or(0);
                    let mut ring: Vec<String> = stack[at..].iter().map(|m| name(m)).collect();
                    ring.push(name(to));
                    cycles.push(ring.join(" -> "));
                }
                Colour::Black => {}
            }
        }
        stack.pop();
        colour.insert(n, Colour::Black);
    }
    for n in nodes {
        if colour[n] == Colour::White {
            visit(n, &edges, &mut colour, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_checker_sees_use_trees_inline_paths_and_child_modules() {
    let modules: BTreeSet<Module> = [
        vec![],
        vec!["a".to_string()],
        vec!["a".to_string(), "b".to_string()],
        vec!["c".to_string()],
        vec!["c".to_string(), "d".to_string()],
    ]
    .into_iter()
    .collect();
    let src = Source {
        module: vec!["c".into()],
        code: "use crate::{a::b::{X, Y}, a};\nfn f() { d::g(); crate::a::h(); }".into(),
    };
    let sibling = Source {
        module: vec!["c".into(), "d".into()],
        code: "use super::Z;".into(),
    };
    let found_sibling: Vec<String> = references(&sibling, &modules)
        .into_iter()
        .map(|(m, _)| name(&m))
        .collect();
    assert_eq!(found_sibling, vec!["c".to_string()]);
    let found: BTreeSet<String> = references(&src, &modules)
        .into_iter()
        .map(|(m, _)| name(&m))
        .collect();
    let expected: BTreeSet<String> = ["a::b", "a", "c::d"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(found, expected);
}

/// Every library source file's path under `src/` and its code without comments and tests.
fn code_files() -> Vec<(PathBuf, String)> {
    let dir = src_dir();
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read source");
            let rel = p.strip_prefix(&dir).expect("under src").to_path_buf();
            (rel, code_of(&text))
        })
        .collect()
}

#[test]
fn sql_and_the_driver_stay_in_db() {
    let mut outside = Vec::new();
    for (path, code) in code_files() {
        if path.starts_with("db") {
            continue;
        }
        for needle in [
            "sqlx::",
            "use sqlx",
            "SELECT ",
            "INSERT INTO",
            "DELETE FROM",
        ] {
            if code.contains(needle) {
                outside.push(format!("{} names {needle:?}", path.display()));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "outside src/db/:\n{}",
        outside.join("\n")
    );
}

#[test]
fn no_source_file_is_over_800_lines() {
    let dir = src_dir();
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    let big: Vec<String> = files
        .iter()
        .filter_map(|p| {
            let n = std::fs::read_to_string(p)
                .expect("read source")
                .lines()
                .count();
            (n > 800).then(|| format!("{} ({n} lines)", p.display()))
        })
        .collect();
    assert!(big.is_empty(), "files over 800 lines:\n{}", big.join("\n"));
}

/// Handlers parse, authorize, call the service and shape the answer: that fits in 40 lines.
#[test]
fn every_handler_is_at_most_40_lines() {
    let mut long = Vec::new();
    for (path, code) in code_files() {
        // Middleware wraps every route; it is not a handler of one.
        if !path.starts_with("http") || path.ends_with("middleware.rs") {
            continue;
        }
        let lines: Vec<&str> = code.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(rest) = line.strip_prefix("pub async fn ") else {
                continue;
            };
            let end = lines[i..].iter().position(|l| *l == "}").unwrap_or(0);
            if end + 1 > 40 {
                let name: String = rest.chars().take_while(|c| is_ident_char(*c)).collect();
                long.push(format!("{}: {name} ({} lines)", path.display(), end + 1));
            }
        }
    }
    assert!(
        long.is_empty(),
        "handlers over 40 lines:\n{}",
        long.join("\n")
    );
}
