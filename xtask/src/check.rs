//! `cargo xtask check` and `cargo xtask bless`: every step over every scenario, timed.

use crate::bad_values;
use crate::chart_metadata;
use crate::docs;
use crate::error::Error;
use crate::fuzz;
use crate::golden;
use crate::helm::Helm;
use crate::manifest::{self, Object};
use crate::network;
use crate::parallel;
use crate::policy;
use crate::project::{self, Project, Scenario};
use crate::report::{Report, Step};
use crate::schema::{Outcome, SchemaSet};
use crate::tools::{self, Tools};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

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
    report.step("credential-leaks", |step| {
        credential_leaks_step(&inputs, step)
    });
    report.step("bad-values", |step| bad_values_step(&inputs, step));
    report.step("fuzz", |step| {
        let newest_helm = &inputs.helms[inputs.helms.len() - 1];
        fuzz::check_step(project, newest_helm, inputs.newest_minor(), step)
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
        |step| match crate::release::policy::check(&project.root) {
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
    let mut jobs = Vec::new();
    for scenario in 0..inputs.scenarios.len() {
        for helm in 0..inputs.helms.len() {
            for &minor in &inputs.minors {
                jobs.push((scenario, helm, minor, true));
            }
        }
    }
    // The defaults once more without pins: the generated-secret path must render and pass too.
    for helm in 0..inputs.helms.len() {
        jobs.push((0, helm, newest, false));
    }
    let renders = parallel::map(&jobs, |&(scenario, helm, minor, pinned)| {
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
    step.detail = format!(
        "{} scenarios × {} Helms × Kubernetes {} + unpinned defaults; {objects} objects",
        inputs.scenarios.len(),
        inputs.helms.len(),
        minors_label(&inputs.minors)
    );
    renders
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

fn validate_schemas(inputs: &Inputs, renders: &[Render], step: &mut Step) {
    // Per minor: (render name, problems found in it), kinds without a schema, objects validated.
    type MinorResult = (Vec<(String, Vec<String>)>, BTreeSet<String>, usize);
    let results = parallel::map(&inputs.minors, |&minor| -> Result<MinorResult, Error> {
        let mut set =
            SchemaSet::load(&inputs.tools.schema_dir(minor), &inputs.project.crd_schemas)?;
        let mut units = Vec::new();
        let mut unvalidated = BTreeSet::new();
        let mut seen_texts = BTreeSet::new();
        let mut validated = 0;
        for r in renders.iter().filter(|r| r.minor == minor) {
            let (Ok(text), Ok(objects)) = (&r.text, &r.objects) else {
                continue;
            };
            if !seen_texts.insert((r.scenario, r.pinned, manifest::normalize(text))) {
                continue; // the other Helm rendered the same objects
            }
            let mut problems = Vec::new();
            for object in objects {
                match set.validate(object)? {
                    Outcome::Valid => validated += 1,
                    Outcome::Unvalidated => {
                        unvalidated.insert(format!("{} {}", object.api_version, object.kind));
                    }
                    Outcome::Invalid(errors) => problems.push(format!(
                        "{object} does not match the strict Kubernetes schema; fix these fields in the template:\n  {}",
                        errors.join("\n  ")
                    )),
                }
            }
            units.push((inputs.render_name(r), problems));
        }
        Ok((units, unvalidated, validated))
    });
    // The same problem usually shows in every minor and scenario: report it once, with where.
    let mut problems: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut unvalidated = BTreeSet::new();
    let mut validated = 0;
    for (minor, result) in inputs.minors.iter().zip(results) {
        match result {
            Ok((units, kinds, count)) => {
                for (render, found) in units {
                    if found.is_empty() {
                        step.passed += 1;
                    }
                    for problem in found {
                        problems.entry(problem).or_default().insert(render.clone());
                    }
                }
                unvalidated.extend(kinds);
                validated += count;
            }
            Err(e) => step.fail(format!(
                "schemas for Kubernetes 1.{minor} could not be used: {e}"
            )),
        }
    }
    step.fail_grouped(problems);
    for kind in unvalidated {
        step.notes.push(format!(
            "{kind}: no schema in the Kubernetes set or tests/crd-schemas/, so it was not validated; add its CRD schema"
        ));
    }
    step.detail = format!("{validated} object validations against strict schemas");
}

fn police(inputs: &Inputs, renders: &[Render], step: &mut Step) {
    let exceptions = match policy::load_exceptions(&inputs.project.exceptions) {
        Ok(e) => e,
        Err(e) => return step.fail(e.to_string()),
    };
    // A finding, and the scenarios it shows in.
    let mut failures: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut failing: BTreeSet<(String, &'static str)> = BTreeSet::new();
    let mut allowed = BTreeSet::new();
    let mut used = BTreeSet::new();
    let mut scenarios = BTreeSet::new();
    let mut seen_texts = BTreeSet::new();
    for r in renders {
        let (Ok(text), Ok(objects)) = (&r.text, &r.objects) else {
            continue;
        };
        if !seen_texts.insert((r.scenario, r.pinned, manifest::normalize(text))) {
            continue; // the same objects under another Helm or minor
        }
        let mut scenario = inputs.scenarios[r.scenario].name.clone();
        if !r.pinned {
            scenario.push_str(" (generated secrets)");
        }
        scenarios.insert(scenario.clone());
        let judged = policy::judge(policy::check(objects), &exceptions);
        for (finding, exception) in judged.excepted {
            allowed.insert(finding.to_string());
            used.insert(exception.clone());
        }
        for finding in judged.failures {
            failing.insert((scenario.clone(), finding.rule));
            failures
                .entry(finding.to_string())
                .or_default()
                .insert(scenario.clone());
        }
    }
    let units = scenarios.len() * policy::RULES.len();
    step.passed += units - failing.len().min(units);
    step.fail_grouped(failures);
    for stale in exceptions.iter().filter(|e| !used.contains(*e)) {
        step.fail(format!(
            "{}: the exception {} for {} matches no finding in any scenario; remove it",
            inputs.project.rel(&inputs.project.exceptions),
            stale.rule,
            stale.object
        ));
    }
    for e in &used {
        step.notes.push(format!(
            "allowed: {} breaks [{}] because {}",
            e.object, e.rule, e.reason
        ));
    }
    step.detail = format!(
        "{} rules × {} distinct renders; {} findings allowed by {} exceptions",
        policy::RULES.len(),
        scenarios.len(),
        allowed.len(),
        used.len()
    );
}

/// The NetworkPolicies of each scenario (Helm 4, newest minor) against the chart's design: every
/// connection around the release decided by cyclonus (see network/).
fn network_matrix(inputs: &Inputs, renders: &[Render], step: &mut Step) {
    let read = |path: &std::path::Path| read_json_or_yaml(path);
    let defaults = match read(&inputs.project.chart.join("values.yaml")) {
        Ok(v) => v,
        Err(e) => return step.fail(e),
    };
    let newest = inputs.newest_minor();
    let helm = inputs.helms.len() - 1;
    let mut chosen = Vec::new();
    for r in renders
        .iter()
        .filter(|r| r.minor == newest && r.helm == helm)
    {
        // Unpinned renders too: only they have the credentials Job (pins give every credential).
        let scenario = &inputs.scenarios[r.scenario];
        let over = match scenario.values.as_deref().map(read).transpose() {
            Ok(over) => over,
            Err(e) => return step.fail(e),
        };
        let values = network::merged_values(&defaults, over.as_ref());
        if values["networkPolicy"]["enabled"] == true {
            chosen.push((r, values));
        } else {
            step.passed += 1;
            step.notes.push(format!(
                "{}: networkPolicy.enabled is off, so no matrix",
                scenario.name
            ));
        }
    }
    if chosen.is_empty() {
        return;
    }
    let cyclonus = match crate::cluster::binaries::go_installed(&network::cyclonus::CYCLONUS) {
        Ok(binary) => binary,
        Err(e) => return step.fail(e.to_string()),
    };
    let results = parallel::map(&chosen, |(r, values)| {
        let objects = r.objects.as_ref().map_err(|e| e.clone())?;
        network::check(&cyclonus, values, objects)
    });
    let (mut connections, mut allowed) = (0, 0);
    for ((r, _), result) in chosen.iter().zip(results) {
        let pins = if r.pinned { "" } else { " (without pins)" };
        let name = format!("{}{pins}", inputs.scenarios[r.scenario].name);
        match result {
            Ok(outcome) if outcome.wrong.is_empty() => {
                step.passed += 1;
                connections += outcome.connections;
                allowed += outcome.allowed;
            }
            Ok(outcome) => step.fail(format!(
                "{name}: {} of {} connections are not as the chart's network design says (network/mod.rs, `expected`):\n{}",
                outcome.wrong.len(),
                outcome.connections,
                outcome.wrong.iter().take(25).cloned().collect::<Vec<_>>().join("\n")
            )),
            Err(e) => step.fail(format!("{name}: {e}")),
        }
    }
    step.detail = format!(
        "{} scenarios, {connections} connections decided by cyclonus {}: {allowed} allowed, the rest denied, as designed",
        chosen.len(),
        network::cyclonus::CYCLONUS.version
    );
}

/// See credential_leaks: the defaults with the pins, and with every pinned credential changed.
fn credential_leaks_step(inputs: &Inputs, step: &mut Step) {
    if !inputs.project.render_pins.is_file() {
        step.notes.push(format!(
            "no {}: no credential is given, so none can leak",
            inputs.project.render_pins.display()
        ));
        return;
    }
    let result = (|| -> Result<(), String> {
        let defaults = &inputs.scenarios[0];
        let pins = read_json_or_yaml(&inputs.project.render_pins)?;
        let dir = tempfile::tempdir().map_err(|e| format!("a folder for changed pins: {e}"))?;
        let changed = dir.path().join("changed-pins.yaml");
        let text = yaml_serde::to_string(&crate::credential_leaks::changed_pins(&pins))
            .map_err(|e| e.to_string())?;
        std::fs::write(&changed, text).map_err(|e| format!("{}: {e}", changed.display()))?;
        let mut changed_values = inputs.values(defaults, false);
        changed_values.push(changed);
        let helm = inputs.helms.last().ok_or("no Helm")?;
        let newest = inputs.newest_minor();
        let render = |values: &[PathBuf]| {
            helm.template(inputs.project, values, newest)
                .and_then(|text| manifest::parse(&text))
        };
        let (a, b) = (
            render(&inputs.values(defaults, true))?,
            render(&changed_values)?,
        );
        crate::credential_leaks::differences_outside_secret_data(&a, &b).map_err(|objects| {
            format!(
                "changing every credential value (tests/render-pins.yaml) changed more than Secrets' data: {}; \
                 a credential must reach pods only through a Secret (roll pods with credentials.rotation, never a hash of one)",
                objects.join(", ")
            )
        })
    })();
    step.record(result);
    step.detail = "every pinned credential changed: only Secrets' data differs".into();
}

fn bad_values_step(inputs: &Inputs, step: &mut Step) {
    let files = match project::yaml_files(&inputs.project.bad_values_dir) {
        Ok(f) => f,
        Err(e) => return step.fail(e.to_string()),
    };
    let mut cases = Vec::new();
    for file in files {
        match bad_values::load(&file) {
            Ok(case) => cases.push(case),
            Err(e) => step.fail(e.to_string()),
        }
    }
    let jobs: Vec<(usize, usize)> = (0..cases.len())
        .flat_map(|c| (0..inputs.helms.len()).map(move |h| (c, h)))
        .collect();
    let newest = inputs.newest_minor();
    let results = parallel::map(&jobs, |&(c, h)| {
        let mut values = inputs.values(&inputs.scenarios[0], true);
        values.push(cases[c].path.clone());
        inputs.helms[h].template(inputs.project, &values, newest)
    });
    for (&(c, h), result) in jobs.iter().zip(&results) {
        step.record(bad_values::judge(
            &cases[c],
            &inputs.helms[h].label(),
            result,
        ));
    }
    step.detail = format!("{} cases × {} Helms", cases.len(), inputs.helms.len());
}

/// The render a golden holds: the newest Helm at the newest minor, pinned.
fn golden_render<'r>(
    inputs: &Inputs,
    renders: &'r [Render],
    scenario: usize,
) -> Option<&'r Render> {
    let newest_helm = inputs.helms.len() - 1;
    renders.iter().find(|r| {
        r.scenario == scenario
            && r.helm == newest_helm
            && r.minor == inputs.newest_minor()
            && r.pinned
    })
}

fn compare_goldens(inputs: &Inputs, renders: &[Render], step: &mut Step) {
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

fn bless(inputs: &Inputs, step: &mut Step) {
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
fn check_docs(inputs: &Inputs, renders: &[Render], step: &mut Step) {
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
    let newest_helm = inputs.helms.len() - 1;
    let defaults = renders
        .iter()
        .find(|r| {
            r.scenario == 0
                && !r.pinned
                && r.helm == newest_helm
                && r.minor == inputs.newest_minor()
        })
        .and_then(|r| r.objects.as_ref().ok());
    let pages = docs::generated_pages(inputs.project, defaults.map(Vec::as_slice));
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
    step.detail = "values.yaml ⇄ values.schema.json, chart/README.md's values table, the architecture picture from the defaults' render".into();
}

/// The generated parts of the pages: the values table, and the architecture picture from a
/// render of the defaults without pins (as an installation renders them).
fn bless_docs(inputs: &Inputs, step: &mut Step) {
    let newest_helm = &inputs.helms[inputs.helms.len() - 1];
    let defaults = newest_helm
        .template(
            inputs.project,
            &inputs.values(&inputs.scenarios[0], false),
            inputs.newest_minor(),
        )
        .and_then(|text| crate::manifest::parse(&text));
    // Where the defaults do not render (the bless step says why), the picture is left as it is.
    let pages =
        docs::generated_pages(inputs.project, defaults.ok().as_deref()).map_err(|e| e.to_string());
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

/// A JSON file (`.json`) or a YAML file, as JSON values.
pub fn read_json_or_yaml(path: &std::path::Path) -> Result<serde_json::Value, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))
    } else {
        yaml_serde::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))
    }
}
