//! The harness's top-level modules stand on floors: each uses only modules below it, so any one
//! can be read with what it uses and nothing above. A circle (a uses b, b uses a, perhaps
//! through others) breaks that; each is named with the import that closes it.

use std::collections::{BTreeMap, BTreeSet};

/// Where a top-level module names another: `crate::<module>` in one of its files, at a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub file: String,
    pub line: usize,
}

/// module → module it uses → the first place it does.
pub type Graph = BTreeMap<String, BTreeMap<String, Import>>;

/// The top-level module a file under `src/` belongs to (`check/mod.rs` → check, `helm.rs` →
/// helm); none for the crate root.
pub fn module_of(relative: &str) -> Option<String> {
    let first = relative.split('/').next()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "main" && name != "lib").then(|| name.to_string())
}

/// Adds a file's `crate::` paths to the graph: `crate::a::b`, and `use crate::{a, b::c}`.
pub fn add_file(graph: &mut Graph, module: &str, file: &str, text: &str) {
    let entry = graph.entry(module.to_string()).or_default();
    let mut add = |used: &str, line: usize| {
        if used != module && !used.is_empty() {
            entry.entry(used.to_string()).or_insert_with(|| Import {
                file: file.to_string(),
                line,
            });
        }
    };
    let mut at = 0;
    while let Some(found) = text[at..].find("crate::") {
        let start = at + found + "crate::".len();
        let line = text[..start].matches('\n').count() + 1;
        let rest = &text[start..];
        if let Some(group) = rest.strip_prefix('{') {
            for item in top_level_items(group) {
                add(first_name(item.trim()), line);
            }
        } else {
            add(first_name(rest), line);
        }
        at = start;
    }
}

/// The items of a `{a, b::{c, d}}` group (its text after the `{`), split at its own commas.
fn top_level_items(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..i]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&group[start..]);
    items
}

fn first_name(path: &str) -> &str {
    let end = path
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(path.len());
    &path[..end]
}

/// Every circle among the modules, each as the imports that go round it, in order.
pub fn circles(graph: &Graph) -> Vec<Vec<(String, String, Import)>> {
    let mut found = Vec::new();
    for group in strongly_connected(graph) {
        // One way round the group: from its first module, step to a module of the group until
        // the path comes back.
        let start = group.iter().next().expect("a group has a module").clone();
        let mut path: Vec<String> = vec![start.clone()];
        let mut seen = BTreeSet::from([start.clone()]);
        if let Some(round) = walk_back(graph, &group, &start, &mut path, &mut seen) {
            found.push(round);
        }
    }
    found
}

fn walk_back(
    graph: &Graph,
    group: &BTreeSet<String>,
    start: &str,
    path: &mut Vec<String>,
    seen: &mut BTreeSet<String>,
) -> Option<Vec<(String, String, Import)>> {
    let here = path.last().expect("the path has a start").clone();
    for next in graph.get(&here).into_iter().flat_map(|m| m.keys()) {
        if !group.contains(next) {
            continue;
        }
        if next == start {
            let mut round: Vec<(String, String, Import)> = Vec::new();
            let mut stops = path.clone();
            stops.push(start.to_string());
            for pair in stops.windows(2) {
                round.push((
                    pair[0].clone(),
                    pair[1].clone(),
                    graph[&pair[0]][&pair[1]].clone(),
                ));
            }
            return Some(round);
        }
        if seen.insert(next.clone()) {
            path.push(next.clone());
            if let Some(round) = walk_back(graph, group, start, path, seen) {
                return Some(round);
            }
            path.pop();
        }
    }
    None
}

/// The groups of two or more modules that reach each other (Tarjan's algorithm).
fn strongly_connected(graph: &Graph) -> Vec<BTreeSet<String>> {
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        groups: Vec<BTreeSet<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flat_map(|m| m.keys()) {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.insert(w.to_string());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                s.groups.push(group);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        groups: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(files: &[(&str, &str)]) -> Graph {
        let mut g = Graph::new();
        for (file, text) in files {
            add_file(&mut g, &module_of(file).unwrap(), file, text);
        }
        g
    }

    #[test]
    fn modules_are_the_first_part_of_the_path() {
        assert_eq!(module_of("check/mod.rs").as_deref(), Some("check"));
        assert_eq!(
            module_of("contract/geonode/run.rs").as_deref(),
            Some("contract")
        );
        assert_eq!(module_of("helm.rs").as_deref(), Some("helm"));
        assert_eq!(module_of("main.rs"), None);
    }

    #[test]
    fn grouped_and_inline_paths_are_imports() {
        let g = graph(&[(
            "check/mod.rs",
            "use crate::{docs, helm::Helm,\n  report::{Report, Step}};\nfn f() { crate::fuzz::run(); }\n",
        )]);
        let used: Vec<&String> = g["check"].keys().collect();
        assert_eq!(used, ["docs", "fuzz", "helm", "report"]);
        assert_eq!(g["check"]["fuzz"].line, 3);
    }

    #[test]
    fn a_circle_is_named_with_the_imports_that_close_it() {
        let g = graph(&[
            ("check/mod.rs", "use crate::docs;\nuse crate::helm;\n"),
            ("docs/site.rs", "\nuse crate::contract::process;\n"),
            ("contract/mod.rs", "use crate::check::run;\n"),
            ("helm.rs", "use crate::error;\n"),
        ]);
        let found = circles(&g);
        assert_eq!(found.len(), 1, "{found:?}");
        let round: Vec<(&str, &str, usize)> = found[0]
            .iter()
            .map(|(a, b, i)| (a.as_str(), b.as_str(), i.line))
            .collect();
        assert_eq!(
            round,
            [
                ("check", "docs", 1),
                ("docs", "contract", 2),
                ("contract", "check", 1)
            ]
        );
        assert!(circles(&graph(&[("check/mod.rs", "use crate::docs;\n")])).is_empty());
    }
}
