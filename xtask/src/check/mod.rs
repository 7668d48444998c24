//! `cargo xtask check` and `cargo xtask bless`: every step over every scenario, timed.

use crate::chart_metadata;
use crate::docs;
use crate::error::Error;
use crate::fuzz;
use crate::golden;
use crate::helm::Helm;
use crate::manifest::{self, Object};
use crate::parallel;
use crate::project::{Project, Scenario};
use crate::report::{Report, Step};
use crate::tools::{self, Tools};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

mod generated;
mod validation;

use generated::{bless, bless_docs, check_docs, compare_goldens, golden_render};
use validation::{
    accepted_risks_step, bad_values_step, credential_leaks_step, network_matrix, police,
    validate_schemas,
};

pub struct Options {
    /// Kubernetes minors to render and validate for (default: all of [`tools::KUBE_MINORS`]).
    pub kube_minors: Vec<u32>,
    /// Rewrite the goldens instead of comparing them.
    pub bless: bool,
}

/// One `helm template` run and what came of it.
struct Render {
    scenario: usize,
    helm: usize,
    minor: u32,
    /// With `tests/render-pins.yaml` layered on (repeatable), or the raw defaults (generated secrets).
    pinned: bool,
    text: Result<String, String>,
    objects: Result<Vec<Object>, String>,
}

struct Inputs<'a> {
    project: &'a Project,
    tools: Tools,
    helms: Vec<Helm>,
    scenarios: Vec<Scenario>,
    minors: Vec<u32>,
}

impl Inputs<'_> {
    /// The values files of a scenario, pins last so they win.
    fn values(&self, scenario: &Scenario, pinned: bool) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = scenario.values.iter().cloned().collect();
        if pinned {
            files.extend(self.project.render_pins_for(scenario));
        }
        files
    }

    fn newest_minor(&self) -> u32 {
        *self.minors.last().expect("at least one Kubernetes minor")
    }

    fn render_name(&self, r: &Render) -> String {
        let pins = if r.pinned { "" } else { ", generated secrets" };
        format!(
            "{} ({}, Kubernetes 1.{}{pins})",
            self.scenarios[r.scenario].name,
            self.helms[r.helm].label(),
            r.minor
        )
    }
}

pub fn run(project: &Project, options: &Options) -> Result<Report, Error> {
    let started = Instant::now();
    let mut report = Report::default();
    let mut tools = None;
    report.step("tools", |step| match tools::ensure() {
        Ok(t) => {
            step.passed += 1;
            step.detail = format!(
                "helm {} · schemas for Kubernetes 1.{}–1.{}",
                t.helms
                    .iter()
                    .map(|h| h.major.to_string())
                    .collect::<Vec<_>>()
                    .join(" and "),
                tools::KUBE_MINORS[0],
                tools::KUBE_MINORS[tools::KUBE_MINORS.len() - 1]
            );
            tools = Some(t);
        }
        Err(e) => step.fail(e.to_string()),
    });
    let Some(tools) = tools else {
        report.finish(started.elapsed());
        return Ok(report);
    };
    let inputs = Inputs {
        project,
        helms: Helm::all(&tools),
        tools,
        scenarios: project.scenarios()?,
        minors: options.kube_minors.clone(),
    };

    if options.bless {
        report.step("bless", |step| bless(&inputs, step));
        report.step("bless-docs", |step| bless_docs(&inputs, step));
        report.step("bless-chart-metadata", |step| {
            match chart_metadata::bless(project) {
                Ok(Some(path)) => {
                    step.passed += 1;
                    step.notes.push(format!("rewrote {}", project.rel(&path)));
                }
                Ok(None) => step.passed += 1,
                Err(e) => step.fail(e),
            }
        });
        report.finish(started.elapsed());
        return Ok(report);
    }
    report.step("lint", |step| lint(&inputs, step));
    let mut renders = Vec::new();
    report.step("render", |step| renders = render(&inputs, step));
    report.step("helm3-equals-helm4", |step| {
        compare_helms(&inputs, &renders, step)
    });
    report.step("schema", |step| validate_schemas(&inputs, &renders, step));
    report.step("policy", |step| police(&inputs, &renders, step));
    report.step("network", |step| network_matrix(&inputs, &renders, step));
    report.step("alerts", |step| {
        let newest_helm = &inputs.helms[inputs.helms.len() - 1];
        crate::monitoring::alerts::check_step(project, newest_helm, inputs.newest_minor(), step)
    });
    report.step("dashboard", |step| {
        crate::monitoring::dashboard::check_step(project, step)
    });
    report.step("credential-leaks", |step| {
        credential_leaks_step(&inputs, step)
    });
    report.step("bad-values", |step| bad_values_step(&inputs, step));
    report.step("accepted-risks", |step| accepted_risks_step(&inputs, step));
    report.step("fuzz", |step| {
        let newest_helm = &inputs.helms[inputs.helms.len() - 1];
        fuzz::check_step(project, newest_helm, inputs.newest_minor(), step)
    });
    report.step("providers", |step| {
        let newest_helm = &inputs.helms[inputs.helms.len() - 1];
        crate::providers::check_step(project, newest_helm, step)
    });
    report.step("golden", |step| compare_goldens(&inputs, &renders, step));
    report.step("docs", |step| check_docs(&inputs, &renders, step));
    report.step("docs-site", |step| docs::site::check_step(project, step));
    report.step("chart-metadata", |step| {
        let rendered: Vec<_> = (0..inputs.scenarios.len())
            .map(|i| {
                let objects =
                    golden_render(&inputs, &renders, i).and_then(|r| r.objects.as_ref().ok());
                (&inputs.scenarios[i], objects.map(Vec::as_slice))
            })
            .collect();
        chart_metadata::check_step(project, &rendered, step)
    });
    report.step(
        "version-policy",
        |step| match crate::versions::policy::check(&project.root) {
            Ok((problems, compared)) => {
                step.passed += usize::from(problems.is_empty());
                for problem in problems {
                    step.fail(problem);
                }
                step.detail = compared;
            }
            Err(e) => step.fail(e),
        },
    );
    report.step("readable", |step| {
        crate::readable::check_step(project, step)
    });
    report.step("values-schema", |step| {
        crate::schema_defs::check_step(inputs.project, &inputs.tools, step)
    });
    report.finish(started.elapsed());
    Ok(report)
}

fn lint(inputs: &Inputs, step: &mut Step) {
    let jobs: Vec<(usize, usize)> = (0..inputs.scenarios.len())
        .flat_map(|s| (0..inputs.helms.len()).map(move |h| (s, h)))
        .collect();
    let results = parallel::map(&jobs, |&(s, h)| {
        inputs.helms[h].lint(inputs.project, &inputs.values(&inputs.scenarios[s], true))
    });
    for (&(s, h), result) in jobs.iter().zip(results) {
        step.record(result.map(|_| ()).map_err(|out| {
            format!(
                "helm lint --strict of {} under {} failed:\n{out}",
                inputs.scenarios[s].name,
                inputs.helms[h].label()
            )
        }));
    }
    step.detail = format!(
        "{} scenarios × {} Helms",
        inputs.scenarios.len(),
        inputs.helms.len()
    );
}

fn render(inputs: &Inputs, step: &mut Step) -> Vec<Render> {
    let newest = inputs.newest_minor();
    let rendered_minors = minors_to_render(inputs, step);
    let mut jobs = Vec::new();
    for scenario in 0..inputs.scenarios.len() {
        for helm in 0..inputs.helms.len() {
            for &minor in &rendered_minors {
                jobs.push((scenario, helm, minor, true));
            }
        }
    }
    // The defaults once more without pins: the generated-secret path must render and pass too.
    for helm in 0..inputs.helms.len() {
        jobs.push((0, helm, newest, false));
    }
    let mut renders = parallel::map(&jobs, |&(scenario, helm, minor, pinned)| {
        let values = inputs.values(&inputs.scenarios[scenario], pinned);
        let text = inputs.helms[helm].template(inputs.project, &values, minor);
        let objects = match &text {
            Ok(t) => manifest::parse(t),
            Err(e) => Err(e.clone()),
        };
        Render {
            scenario,
            helm,
            minor,
            pinned,
            text,
            objects,
        }
    });
    renders.extend(minors_between(inputs, &rendered_minors, &renders, step));
    let mut objects = 0;
    let mut problems: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &renders {
        let problem = match (&r.text, &r.objects) {
            (Err(e), _) => format!("helm template failed:\n{e}"),
            (Ok(_), Err(e)) => format!("the render is not valid Kubernetes YAML: {e}"),
            (Ok(_), Ok(o)) => {
                objects += o.len();
                step.passed += 1;
                continue;
            }
        };
        problems
            .entry(problem)
            .or_default()
            .insert(inputs.render_name(r));
    }
    step.fail_grouped(problems);
    for (i, scenario) in inputs.scenarios.iter().enumerate() {
        if let Some(Ok(objects)) = golden_render(inputs, &renders, i).map(|r| &r.objects) {
            let requested = crate::resources::requested(objects);
            step.notes.push(format!(
                "{}: {} objects, requests {}",
                scenario.name,
                objects.len(),
                requested.describe()
            ));
            if scenario.values.is_none() {
                step.record(crate::resources::fits_default_budget(&requested));
            }
        }
    }
    let rendered_at = if rendered_minors.len() == inputs.minors.len() {
        String::new()
    } else {
        let minors: Vec<String> = rendered_minors.iter().map(|m| format!("1.{m}")).collect();
        format!(
            " (rendered at {}: no template reads .Capabilities, the minors between take the \
             newest's render)",
            minors.join(" and ")
        )
    };
    step.detail = format!(
        "{} scenarios × {} Helms × Kubernetes {}{rendered_at} + unpinned defaults; {objects} objects",
        inputs.scenarios.len(),
        inputs.helms.len(),
        minors_label(&inputs.minors)
    );
    renders
}

/// The minors `helm template` runs at. A render depends on the Kubernetes version only through
/// `.Capabilities`: when no template reads it, the oldest and the newest minor are rendered
/// (Chart.yaml's kubeVersion is held against both) and the minors between take the newest's
/// render, for their schemas to validate.
fn minors_to_render(inputs: &Inputs, step: &mut Step) -> Vec<u32> {
    let readers = match capabilities_readers(inputs.project) {
        Ok(r) => r,
        Err(e) => {
            step.fail(e);
            return inputs.minors.clone();
        }
    };
    match (inputs.minors.as_slice(), readers.is_empty()) {
        ([first, _, .., last], true) => vec![*first, *last],
        (all, true) => all.to_vec(),
        (all, false) => {
            step.notes.push(format!(
                "rendered at every minor: {} read .Capabilities",
                readers.join(", ")
            ));
            all.to_vec()
        }
    }
}

/// The chart's templates that read `.Capabilities` (its Kubernetes version and APIs).
fn capabilities_readers(project: &Project) -> Result<Vec<String>, String> {
    let templates = project.chart.join("templates");
    let mut readers = Vec::new();
    for path in crate::project::files_under(&templates).map_err(|e| e.to_string())? {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        if text.contains(".Capabilities") || text.contains("\"Capabilities\"") {
            readers.push(project.rel(&path));
        }
    }
    Ok(readers)
}

/// The renders of the minors that were not rendered (see [`minors_to_render`]): the newest
/// minor's, once the oldest's is seen to be the same text.
fn minors_between(
    inputs: &Inputs,
    rendered_minors: &[u32],
    renders: &[Render],
    step: &mut Step,
) -> Vec<Render> {
    let (Some(&oldest), Some(&newest)) = (rendered_minors.first(), rendered_minors.last()) else {
        return Vec::new();
    };
    let between: Vec<u32> = inputs
        .minors
        .iter()
        .copied()
        .filter(|m| !rendered_minors.contains(m))
        .collect();
    if between.is_empty() {
        return Vec::new();
    }
    let find = |r: &Render, minor: u32| {
        renders.iter().find(|o| {
            (o.scenario, o.helm, o.pinned, o.minor) == (r.scenario, r.helm, r.pinned, minor)
        })
    };
    let mut derived = Vec::new();
    for newest_render in renders.iter().filter(|r| r.pinned && r.minor == newest) {
        if let (Some(old), Ok(new_text)) = (find(newest_render, oldest), &newest_render.text) {
            if let Ok(old_text) = &old.text {
                if old_text != new_text {
                    step.fail(format!(
                        "{} renders differently at Kubernetes 1.{oldest} and 1.{newest}, though no \
                         template reads .Capabilities; find what else depends on --kube-version",
                        inputs.render_name(newest_render)
                    ));
                }
            }
        }
        derived.extend(between.iter().map(|&minor| Render {
            minor,
            text: newest_render.text.clone(),
            objects: newest_render.objects.clone(),
            ..*newest_render
        }));
    }
    derived
}

fn minors_label(minors: &[u32]) -> String {
    match minors {
        [one] => format!("1.{one}"),
        [first, .., last] => format!("1.{first}–1.{last}"),
        [] => "none".into(),
    }
}

fn compare_helms(inputs: &Inputs, renders: &[Render], step: &mut Step) {
    let mut by_input: BTreeMap<(usize, u32, bool), Vec<&Render>> = BTreeMap::new();
    for r in renders {
        by_input
            .entry((r.scenario, r.minor, r.pinned))
            .or_default()
            .push(r);
    }
    for ((scenario, minor, pinned), group) in by_input {
        let [a, b] = group.as_slice() else { continue };
        let (Ok(ta), Ok(tb)) = (&a.text, &b.text) else {
            continue;
        };
        // Without pins too: generated credentials are made in the cluster, never rendered, so
        // two renders without a cluster (two Helms here) must be the same, or a GitOps tool
        // would change the release at every sync.
        let pins = if pinned { "" } else { " without pins" };
        let name = format!(
            "{}{pins} at Kubernetes 1.{minor}",
            inputs.scenarios[scenario].name
        );
        let (la, lb) = (inputs.helms[a.helm].label(), inputs.helms[b.helm].label());
        let (na, nb) = (manifest::normalize(ta), manifest::normalize(tb));
        step.record(match golden::diff(&la, &na, &lb, &nb) {
            None => Ok(()),
            Some(d) => Err(format!(
                "{la} and {lb} render {name} differently; make the template independent of the Helm version \
                 (a secret the chart generates that tests/render-pins.yaml does not pin differs too):\n{d}"
            )),
        });
    }
    step.detail =
        "renders compared document by document, with pins and without (nothing generated is rendered)"
            .into();
}
