//! `server/src` has no import cycle: each module's `crate::…` references
//! (in `use` lines and in paths) form a graph without a loop. A module's
//! `#[cfg(test)] mod tests` is left out, as it is not part of the module's
//! interface. Submodules (`cli/args.rs`) count as `cli::args`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `crate::a::b` → the module it names, as far as `modules` knows it.
fn target(path: &str, modules: &BTreeSet<String>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|m| modules.contains(m))
}

fn module_name(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let name = rel.to_str().unwrap().replace('/', "::");
    name.strip_suffix("::mod")
        .map(str::to_string)
        .unwrap_or(name)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate paths a module's code refers to: `crate::x::y` and each item of
/// `use crate::{x, y::z}` groups.
fn references(code: &str) -> Vec<String> {
    let mut refs = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if rest.starts_with('{') {
            // `crate::{a, b::{c, d}}`: the first path segment of each top-level item.
            let mut depth = 0;
            let mut item = String::new();
            for c in rest.chars() {
                match c {
                    '{' => {
                        if depth > 0 {
                            item.push(c);
                        }
                        depth += 1;
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            refs.push(item.trim().to_string());
                            break;
                        }
                        item.push(c);
                    }
                    ',' if depth == 1 => {
                        refs.push(item.trim().to_string());
                        item.clear();
                    }
                    _ => item.push(c),
                }
            }
        } else {
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            refs.push(path.trim_end_matches(':').to_string());
        }
    }
    refs.into_iter()
        .map(|r| r.split(" as ").next().unwrap_or("").trim().to_string())
        .filter(|r| !r.is_empty())
        .collect()
}

fn without_unit_tests(code: &str) -> &str {
    code.find("#[cfg(test)]\nmod tests")
        .map_or(code, |i| &code[..i])
}

#[test]
fn server_src_has_no_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_name(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let name = module_name(&src, file);
        let code = std::fs::read_to_string(file).unwrap();
        let edges = graph.entry(name.clone()).or_default();
        for r in references(without_unit_tests(&code)) {
            if let Some(t) = target(&r, &modules) {
                if t != name {
                    edges.insert(t);
                }
            }
        }
    }
    // lib.rs and main.rs are the roots that declare and assemble everything.
    for root in ["lib", "main"] {
        graph.remove(root);
    }
    for edges in graph.values_mut() {
        edges.retain(|t| t != "lib" && t != "main");
    }
    assert!(graph.len() > 10, "found the modules: {graph:?}");

    // Depth-first search for a back edge; report the loop it closes.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, done, stack) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut done, &mut Vec::new()) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_reference_reader_sees_groups_and_paths() {
    let refs = references("use crate::{db, a::{b, c}};\nlet x = crate::api::ROUTES;");
    assert_eq!(refs, ["db", "a::{b, c}", "api::ROUTES"]);
}
