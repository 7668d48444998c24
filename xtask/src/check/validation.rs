//! The steps that hold every render to the rules: the strict schemas, the policy rules, the
//! NetworkPolicy matrix, credentials kept out of everything but Secrets, and the values the
//! chart must refuse.

use super::{Inputs, Render};
use crate::accepted_risks;
use crate::bad_values;
use crate::data_file::read_json_or_yaml;
use crate::error::Error;
use crate::manifest;
use crate::network;
use crate::parallel;
use crate::policy;
use crate::project;
use crate::report::Step;
use crate::schema::{Outcome, SchemaSet};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

pub(super) fn validate_schemas(inputs: &Inputs, renders: &[Render], step: &mut Step) {
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
            "{kind}: no schema in the Kubernetes set or tests/crd-schemas/, so it was not validated; add its CRD there"
        ));
    }
    step.detail = format!("{validated} object validations against strict schemas");
}

pub(super) fn police(inputs: &Inputs, renders: &[Render], step: &mut Step) {
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
pub(super) fn network_matrix(inputs: &Inputs, renders: &[Render], step: &mut Step) {
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
pub(super) fn credential_leaks_step(inputs: &Inputs, step: &mut Step) {
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

/// tests/accepted-risks: each refused without its name in acceptedRisks (both Helms), warned of
/// in the install's notes with it (Helm 4, which renders notes without a cluster); every risk
/// the schema knows has its case.
pub(super) fn accepted_risks_step(inputs: &Inputs, step: &mut Step) {
    let project = inputs.project;
    let (cases, known) = match (
        accepted_risks::load(&project.accepted_risks_dir),
        accepted_risks::known(&project.chart.join("values.schema.json")),
    ) {
        (Ok(c), Ok(k)) => (c, k),
        (Err(e), _) | (_, Err(e)) => return step.fail(e.to_string()),
    };
    for risk in &known {
        if !cases.iter().any(|c| &c.risk == risk) {
            step.fail(format!(
                "the chart knows the risk {risk}, but tests/accepted-risks/{risk}.yaml does not take it"
            ));
        }
    }
    for case in cases.iter().filter(|c| !known.contains(&c.risk)) {
        step.fail(format!(
            "tests/accepted-risks/{}.yaml names a risk acceptedRisks does not know",
            case.risk
        ));
    }
    let newest = inputs.newest_minor();
    let helm4 = &inputs.helms[inputs.helms.len() - 1];
    let jobs: Vec<(usize, Option<usize>)> = (0..cases.len())
        .flat_map(|c| {
            (0..inputs.helms.len())
                .map(move |h| (c, Some(h)))
                .chain([(c, None)])
        })
        .collect();
    let results = parallel::map(&jobs, |&(c, helm)| {
        let mut values = inputs.values(&inputs.scenarios[0], true);
        values.push(cases[c].path.clone());
        match helm {
            Some(h) => inputs.helms[h].template(project, &values, newest),
            None => helm4.notes(
                project,
                &values,
                &[format!("acceptedRisks={{{}}}", cases[c].risk)],
            ),
        }
    });
    for (&(c, helm), result) in jobs.iter().zip(&results) {
        step.record(match helm {
            Some(h) => accepted_risks::judge_refusal(&cases[c], &inputs.helms[h].label(), result),
            None => accepted_risks::judge_notes(&cases[c], result),
        });
    }
    if known.is_empty() && cases.is_empty() {
        step.notes
            .push("the chart's schema has no acceptedRisks: no risk to accept".into());
        return;
    }
    step.detail = format!(
        "{} risks: each refused without its name under {} Helms, warned of in the notes with it ({})",
        cases.len(),
        inputs.helms.len(),
        helm4.label()
    );
}

pub(super) fn bad_values_step(inputs: &Inputs, step: &mut Step) {
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
