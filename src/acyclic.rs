//! The module graph of `src/` has no cycle (issue 11): a native test that
//! reads every file's `crate::…`, `super::…` and `self::…` paths and checks
//! that, at every level, sibling modules never depend on each other in a
//! ring. A parent using its child (or a child its parent) is not a cycle.
//!
//! Hand-written (about a hundred lines) rather than `cargo-modules`, which
//! builds on rust-analyzer's crates (a long install for one check); this runs
//! in `cargo test -p maeum --lib`, which `cargo xtask test` runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

/// `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `lib.rs` is the root.
fn module_of(rel: &Path) -> Module {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn ident_start(c: char) -> bool {
    c.is_ascii_lowercase() || c == '_'
}

/// The first path segments after `prefix::` everywhere in `code`, one level
/// of `{a, b::c}` groups included.
fn heads_after(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let needle = format!("{prefix}::");
    for (i, _) in code.match_indices(&needle) {
        let before = code[..i].chars().last();
        let rest = &code[i + needle.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue; // part of a longer path (`super::super::x` is handled by the caller)
        }
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if name.chars().next().is_some_and(ident_start) {
                    out.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name.chars().next().is_some_and(ident_start) {
                out.push(name);
            }
        }
    }
    out
}

/// Every module `code` (of module `at`) refers to, as an absolute path of
/// one segment below the base it was named from.
fn references(at: &Module, code: &str) -> BTreeSet<Module> {
    // The file's own tests may `use super::*`; they are not part of the graph.
    let code = code.split("#[cfg(test)]\nmod tests").next().unwrap_or(code);
    let mut refs = BTreeSet::new();
    for name in heads_after(code, "crate") {
        refs.insert(vec![name]);
    }
    // `self::x` inside `a/mod.rs` is `a::x`; inside `a/b.rs` it is `a::b::x`.
    for name in heads_after(code, "self") {
        let mut m = at.clone();
        m.push(name);
        refs.insert(m);
    }
    let mut ups = 1;
    let mut prefix = "super".to_string();
    loop {
        let heads = heads_after(code, &prefix);
        if heads.is_empty() && !code.contains(&format!("{prefix}::")) {
            break;
        }
        for name in heads.into_iter().filter(|n| n != "super") {
            if at.len() >= ups {
                let mut m = at[..at.len() - ups].to_vec();
                m.push(name);
                refs.insert(m);
            }
        }
        ups += 1;
        prefix.push_str("::super");
    }
    refs
}

/// Edges between siblings: `(parent, from child, to child)`.
fn sibling_edges(src: &Path) -> BTreeMap<Module, BTreeSet<(String, String)>> {
    let mut list = Vec::new();
    files(src, &mut list);
    let mut edges: BTreeMap<Module, BTreeSet<(String, String)>> = BTreeMap::new();
    for path in list {
        let rel = path.strip_prefix(src).expect("under src");
        if rel.starts_with("bin") || rel == Path::new("main.rs") {
            continue; // separate crates
        }
        let at = module_of(rel);
        let code = std::fs::read_to_string(&path).expect("readable source");
        for to in references(&at, &code) {
            let common = at.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common == at.len() || common == to.len() {
                continue; // ancestor or descendant
            }
            edges
                .entry(at[..common].to_vec())
                .or_default()
                .insert((at[common].clone(), to[common].clone()));
        }
    }
    edges
}

/// A cycle among `edges`, as the modules on it, if there is one.
fn find_cycle(edges: &BTreeSet<(String, String)>) -> Option<Vec<String>> {
    fn visit<'a>(
        n: &'a str,
        edges: &'a BTreeSet<(String, String)>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| *p == n) {
            let mut ring: Vec<String> = path[i..].iter().map(|s| s.to_string()).collect();
            ring.push(n.to_string());
            return Some(ring);
        }
        if !done.insert(n) {
            return None;
        }
        path.push(n);
        for (_, to) in edges.iter().filter(|(from, _)| from == n) {
            if let Some(c) = visit(to, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for (from, _) in edges {
        if let Some(c) = visit(from, edges, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_module_graph_has_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = sibling_edges(&src);
    assert!(
        edges.get(&Vec::new()).is_some_and(|e| e.len() > 10),
        "the scan found the app's modules: {edges:?}"
    );
    let cycles: Vec<String> = edges
        .iter()
        .filter_map(|(parent, e)| {
            find_cycle(e).map(|c| format!("crate::{}: {}", parent.join("::"), c.join(" → ")))
        })
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_scan_sees_every_kind_of_path() {
    let code = "use crate::{api::x, route};\nuse super::super::pages::y;\nfn f() { crate::browser::z(); super::cash::C; self::inner::q(); }";
    let refs = references(
        &vec!["pages".into(), "business".into(), "store".into()],
        code,
    );
    let want: BTreeSet<Module> = [
        vec!["api"],
        vec!["route"],
        vec!["browser"],
        vec!["pages", "pages"],
        vec!["pages", "business", "cash"],
        vec!["pages", "business", "store", "inner"],
    ]
    .into_iter()
    .map(|m| m.into_iter().map(String::from).collect())
    .collect();
    assert_eq!(refs, want);
    let ring: BTreeSet<(String, String)> = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .collect();
    assert_eq!(find_cycle(&ring).map(|c| c.len()), Some(4));
}
