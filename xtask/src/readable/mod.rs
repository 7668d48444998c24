//! `check`'s readable step: what keeps the chart and the harness easy to read and change. The
//! templates read as the YAML they make (short lines, no YAML in format strings), and the
//! harness's top-level modules use each other in one direction only.

pub mod modules;
pub mod templates;

use crate::project::{files_under, Project};
use crate::report::Step;

pub fn check_step(project: &Project, step: &mut Step) {
    let templates = match files_under(&project.chart.join("templates")) {
        Ok(files) => files,
        Err(e) => return step.fail(e.to_string()),
    };
    for path in &templates {
        let rel = project.rel(path);
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return step.fail(format!("reading {rel}: {e}")),
        };
        for findings in [
            templates::long_lines(&text),
            templates::yaml_in_print(&text),
        ] {
            if findings.is_empty() {
                step.passed += 1;
            }
            for f in findings {
                step.fail(format!("{rel}:{}: {}", f.line, f.problem));
            }
        }
    }
    let modules = module_graph(project);
    match &modules {
        Err(e) => step.fail(e.clone()),
        Ok(graph) if graph.is_empty() => step
            .notes
            .push("no harness sources in xtask/src: the modules' floors are not checked".into()),
        Ok(graph) => {
            let circles = modules::circles(graph);
            if circles.is_empty() {
                step.passed += 1;
            }
            for round in circles {
                step.fail(describe_circle(&round));
            }
        }
    }
    step.detail = format!(
        "{} templates: lines up to {} characters, no YAML in print/printf; the harness's {} \
         top-level modules in floors, without a circle",
        templates.len(),
        templates::MAX_LINE,
        modules.map_or(0, |g| g.len())
    );
}

/// The harness's top-level modules and what each uses, from `crate::` paths in `xtask/src`.
fn module_graph(project: &Project) -> Result<modules::Graph, String> {
    let src = project.root.join("xtask/src");
    let mut graph = modules::Graph::new();
    if !src.is_dir() {
        return Ok(graph); // a chart checked without this harness's sources (the test fixtures)
    }
    for path in files_under(&src).map_err(|e| e.to_string())? {
        let relative = path.strip_prefix(&src).unwrap_or(&path).to_string_lossy();
        let Some(module) = modules::module_of(&relative) else {
            continue;
        };
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        // Unit tests come last in a file and only test it: what they name is no dependency.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        modules::add_file(&mut graph, &module, &project.rel(&path), code);
    }
    Ok(graph)
}

fn describe_circle(round: &[(String, String, modules::Import)]) -> String {
    let names: Vec<&str> = round.iter().map(|(from, _, _)| from.as_str()).collect();
    let imports: Vec<String> = round
        .iter()
        .map(|(from, to, at)| format!("{}:{} ({from} uses {to})", at.file, at.line))
        .collect();
    format!(
        "the harness's modules {} use each other in a circle: {}; move what they share to a \
         module below them all, or have the lower one stop using the higher",
        names.join(" → "),
        imports.join(", ")
    )
}
