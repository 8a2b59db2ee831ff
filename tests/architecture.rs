//! The house rules, read off the source: the top-level modules import each other without a
//! circle (`crate::` edges), and the core (auth, JSON-RPC, policy, redaction, the response
//! path, audit records) does no I/O and knows neither Pingora nor the shell's modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The decision core: plain Rust over values, tested without a network.
const CORE: [&str; 9] = [
    "audit",
    "auth",
    "jsonrpc",
    "percent",
    "policy",
    "redact",
    "response",
    "strict_json",
    "transport",
];

/// What the core never names: the proxy framework, HTTP clients, threads, the environment,
/// files, sockets, and the shell modules that own those.
const FORBIDDEN_IN_CORE: [&str; 20] = [
    "pingora",
    "ureq",
    "tokio",
    "std::thread",
    "thread::spawn",
    "thread::sleep",
    "std::env",
    "env::var",
    "std::fs",
    "std::net",
    "crate::proxy",
    "crate::config",
    "crate::live",
    "crate::reload",
    "crate::key_loader",
    "crate::policy_file",
    "crate::audit_sink",
    "crate::metrics",
    "crate::client",
    "crate::mcp_session",
];

/// Source files outside tests, with their top-level module and their code before any
/// `#[cfg(test)]` item (unit tests may read files and the environment).
fn sources() -> Vec<(String, PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "tests.rs"))
        .map(|path| {
            let rel = path.strip_prefix(&root).unwrap_or(&path).to_path_buf();
            let top = rel
                .components()
                .next()
                .map(|c| {
                    c.as_os_str()
                        .to_string_lossy()
                        .trim_end_matches(".rs")
                        .to_string()
                })
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let code = match text.find("#[cfg(test)]") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            (top, rel, code)
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a file names through `crate::`, grouped imports included.
fn crate_edges(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            for item in inner.split(',') {
                out.extend(first_segment(item.trim()));
            }
        } else {
            out.extend(first_segment(rest));
        }
    }
    out
}

fn first_segment(path: &str) -> Option<String> {
    let name: String = path
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty() && name.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .then_some(name)
}

#[test]
fn the_top_level_modules_import_each_other_without_a_circle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (top, _, code) in sources() {
        if top == "main" || top == "lib" {
            continue;
        }
        let edges = graph.entry(top.clone()).or_default();
        edges.extend(crate_edges(&code).into_iter().filter(|m| *m != top));
    }
    assert!(graph.len() > 10, "the source tree was not found: {graph:?}");
    // Depth-first search; a node met again while still on the path closes a circle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(circle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!("import circle: {}", circle.join(" -> "));
        }
    }
}

#[test]
fn the_core_does_no_io_and_knows_no_pingora() {
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    for (top, rel, code) in sources() {
        if !CORE.contains(&top.as_str()) {
            continue;
        }
        seen.insert(top);
        for (n, line) in code.lines().enumerate() {
            let line = line.split("//").next().unwrap_or("");
            for word in FORBIDDEN_IN_CORE {
                if line.contains(word) {
                    found.push(format!("src/{}:{}: {word}", rel.display(), n + 1));
                }
            }
        }
    }
    assert_eq!(seen.len(), CORE.len(), "core modules found: {seen:?}");
    assert!(
        found.is_empty(),
        "the core must stay pure:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_source_file_outside_tests_grows_past_600_lines() {
    let long: Vec<String> = sources()
        .into_iter()
        .map(|(_, rel, code)| (rel, code.lines().count()))
        .filter(|(_, lines)| *lines > 600)
        .map(|(rel, lines)| format!("src/{}: {lines} lines", rel.display()))
        .collect();
    assert!(long.is_empty(), "split these by job:\n{}", long.join("\n"));
}
