//! What `bless` writes and `check` compares: the goldens (the newest Helm's render at the newest
//! minor, pinned), and the generated parts of the pages (the values table, the architecture
//! picture).

use super::{Inputs, Render};
use crate::data_file::read_json_or_yaml;
use crate::docs;
use crate::golden;
use crate::parallel;
use crate::project;
use crate::report::Step;
use std::collections::BTreeSet;

/// The render a golden holds: the newest Helm at the newest minor, pinned.
pub(super) fn golden_render<'r>(
    inputs: &Inputs,
    renders: &'r [Render],
    scenario: usize,
) -> Option<&'r Render> {
    newest_render(inputs, renders, scenario, true)
}

/// A scenario's render by the newest Helm at the newest minor, with or without the pins.
fn newest_render<'r>(
    inputs: &Inputs,
    renders: &'r [Render],
    scenario: usize,
    pinned: bool,
) -> Option<&'r Render> {
    let newest_helm = inputs.helms.len() - 1;
    renders.iter().find(|r| {
        r.scenario == scenario
            && r.helm == newest_helm
            && r.minor == inputs.newest_minor()
            && r.pinned == pinned
    })
}

/// The scenario the second architecture picture is drawn from.
const PRODUCTION_HA: &str = "production-ha";

fn scenario_index(inputs: &Inputs, name: &str) -> Option<usize> {
    inputs.scenarios.iter().position(|s| s.name == name)
}

pub(super) fn compare_goldens(inputs: &Inputs, renders: &[Render], step: &mut Step) {
    for (i, scenario) in inputs.scenarios.iter().enumerate() {
        let Some(Ok(text)) = golden_render(inputs, renders, i).map(|r| &r.text) else {
            continue; // its render failure is already reported
        };
        let path = inputs.project.golden_path(scenario);
        let rel = inputs.project.rel(&path);
        step.record(match std::fs::read_to_string(&path) {
            Err(_) => Err(format!("{rel} is missing; run `cargo xtask bless` and commit it")),
            Ok(golden) => match golden::diff(&format!("{rel} (golden)"), &golden, "rendered now", text) {
                None => Ok(()),
                Some(d) => Err(format!(
                    "{} renders differently from {rel}; review the diff, then run `cargo xtask bless` and commit if it is intended:\n{d}",
                    scenario.name
                )),
            },
        });
    }
    stale_scenario_files(inputs, step);
    step.detail = format!("{} scenarios", inputs.scenarios.len());
}

/// Goldens and scenario pins whose scenario is gone.
fn stale_scenario_files(inputs: &Inputs, step: &mut Step) {
    let names: BTreeSet<&str> = inputs.scenarios.iter().map(|s| s.name.as_str()).collect();
    for dir in [&inputs.project.golden_dir, &inputs.project.render_pins_dir] {
        for file in project::yaml_files(dir).unwrap_or_default() {
            if !names.contains(project::stem(&file).as_str()) {
                step.fail(format!(
                    "{} belongs to no scenario (no values file of that name); delete it",
                    inputs.project.rel(&file)
                ));
            }
        }
    }
}

pub(super) fn bless(inputs: &Inputs, step: &mut Step) {
    let newest_helm = &inputs.helms[inputs.helms.len() - 1];
    let results = parallel::map(&inputs.scenarios, |scenario| {
        newest_helm.template(
            inputs.project,
            &inputs.values(scenario, true),
            inputs.newest_minor(),
        )
    });
    if let Err(e) = std::fs::create_dir_all(&inputs.project.golden_dir) {
        return step.fail(format!(
            "creating {}: {e}",
            inputs.project.golden_dir.display()
        ));
    }
    for (scenario, result) in inputs.scenarios.iter().zip(results) {
        let path = inputs.project.golden_path(scenario);
        let rel = inputs.project.rel(&path);
        match result {
            Err(e) => step.fail(format!(
                "{} does not render, so {rel} was left as it was:\n{e}",
                scenario.name
            )),
            Ok(text) => {
                let old = std::fs::read_to_string(&path).unwrap_or_default();
                if old == text {
                    step.passed += 1;
                } else {
                    step.record(
                        std::fs::write(&path, &text).map_err(|e| format!("writing {rel}: {e}")),
                    );
                    step.notes.push(format!("rewrote {rel}"));
                }
            }
        }
    }
    stale_scenario_files(inputs, step);
    step.detail = format!(
        "{} goldens with {}",
        inputs.scenarios.len(),
        newest_helm.label()
    );
}

/// values.yaml and values.schema.json describe the same keys; chart/README.md's values table is
/// what they say now.
pub(super) fn check_docs(inputs: &Inputs, renders: &[Render], step: &mut Step) {
    let chart = &inputs.project.chart;
    let read = |name: &str| read_json_or_yaml(&chart.join(name));
    match (read("values.schema.json"), read("values.yaml")) {
        (Ok(schema), Ok(defaults)) => {
            let gaps = docs::coverage_gaps(&schema, &defaults);
            step.record(if gaps.is_empty() {
                Ok(())
            } else {
                Err(format!("values.yaml and values.schema.json disagree; describe every value and give every described value a default:\n{}", gaps.join("\n")))
            });
        }
        (Err(e), _) | (_, Err(e)) => step.fail(e),
    }
    let defaults = newest_render(inputs, renders, 0, false).and_then(|r| r.objects.as_ref().ok());
    let production_ha = scenario_index(inputs, PRODUCTION_HA)
        .and_then(|i| newest_render(inputs, renders, i, true))
        .and_then(|r| r.objects.as_ref().ok());
    let pages = docs::generated_pages(
        inputs.project,
        defaults.map(Vec::as_slice),
        production_ha.map(Vec::as_slice),
    );
    match pages {
        Err(e) => step.fail(e.to_string()),
        Ok(pages) => {
            for (path, current, expected) in pages {
                let rel = inputs.project.rel(&path);
                step.record(match golden::diff(&rel, &current, "generated", &expected) {
                    None => Ok(()),
                    Some(d) => Err(format!(
                        "{rel} is stale; run `cargo xtask bless` and commit it:\n{d}"
                    )),
                });
            }
        }
    }
    step.detail = "values.yaml ⇄ values.schema.json, chart/README.md's values table, the architecture pictures from the defaults' and production-ha's renders".into();
}

/// The generated parts of the pages: the values table, and the architecture picture from a
/// render of the defaults without pins (as an installation renders them).
pub(super) fn bless_docs(inputs: &Inputs, step: &mut Step) {
    let newest_helm = &inputs.helms[inputs.helms.len() - 1];
    let render = |scenario: usize, pinned: bool| {
        newest_helm
            .template(
                inputs.project,
                &inputs.values(&inputs.scenarios[scenario], pinned),
                inputs.newest_minor(),
            )
            .and_then(|text| crate::manifest::parse(&text))
            .ok()
    };
    let defaults = render(0, false);
    let production_ha = scenario_index(inputs, PRODUCTION_HA).and_then(|i| render(i, true));
    // Where a render fails (the bless step says why), the pictures are left as they are.
    let pages = docs::generated_pages(
        inputs.project,
        defaults.as_deref(),
        production_ha.as_deref(),
    )
    .map_err(|e| e.to_string());
    let written = pages.and_then(|pages| {
        let mut rewritten = Vec::new();
        for (path, current, expected) in pages {
            if current != expected {
                std::fs::write(&path, expected)
                    .map_err(|e| format!("writing {}: {e}", path.display()))?;
                rewritten.push(inputs.project.rel(&path));
            }
        }
        Ok(rewritten)
    });
    if let Ok(rewritten) = &written {
        step.notes
            .extend(rewritten.iter().map(|rel| format!("rewrote {rel}")));
    }
    step.record(written.map(|_| ()));
}
