//! The values fuzzer: how much of what is wrong in `values.yaml` the chart refuses.
//!
//! Every map and leaf of `chart/values.yaml` (and every integer, boolean or quantity the schema
//! offers that the defaults leave unset) is made wrong in each way its kind allows
//! ([`kinds::Kind::rule`] says where each kind applies and why its value is wrong): unknown keys,
//! wrong types, negatives, out-of-range ports and shares, nonsense quantities, values that cannot
//! mean what their key means (meaning.rs), empty required strings. The enumeration is exhaustive
//! and ordered, so every run judges the same set.
//!
//! Each mutation is one values file layered over the render pins and rendered with
//! `helm template` (the newest supported Kubernetes minor). It counts as refused when Helm fails:
//! the schema or a template's `fail`. `cargo xtask fuzz` judges every mutation under every Helm;
//! the `fuzz` step of `cargo xtask check` judges a fixed share of each kind under the newest Helm,
//! and fails below [`THRESHOLD`].

mod generate;
mod kinds;
mod meaning;
mod openings;
mod overlay;
mod render;
mod tally;
mod values_schema;

use crate::error::{Context, Error};
use crate::helm::Helm;
use crate::project::{Project, Scenario};
use crate::report::Step;
use generate::Mutation;
use kinds::Kind;
use render::Setup;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Instant;
use tally::Tally;

/// The share of wrong values the chart must refuse (issue 9, "Bad input").
pub const THRESHOLD: f64 = 0.97;

/// About how many mutations the check step judges: a share of every kind, so that it stays
/// within a minute on two cores.
pub const CHECK_BUDGET: usize = 300;

/// The mutations of a project's chart and what their values files need.
pub struct Plan {
    /// The defaults with the render pins, for the lists a mutation copies whole.
    pub base: Value,
    pub pins: Option<PathBuf>,
    pub mutations: Vec<Mutation>,
}

impl Plan {
    pub fn load(project: &Project) -> Result<Plan, Error> {
        let read = |path: PathBuf| crate::data_file::read_json_or_yaml(&path).map_err(Error::msg);
        let values = read(project.chart.join("values.yaml"))?;
        let schema_path = project.chart.join("values.schema.json");
        let schema = if schema_path.is_file() {
            read(schema_path)?
        } else {
            Value::Object(Default::default())
        };
        let default = Scenario {
            name: "default".into(),
            values: None,
        };
        // The default scenario has no pins of its own: the shared file alone.
        let pins = project.render_pins_for(&default).into_iter().next();
        let pin_values = pins.clone().map(read).transpose()?;
        Ok(Plan {
            base: crate::network::merged_values(&values, pin_values.as_ref()),
            mutations: generate::generate(&values, &schema),
            pins,
        })
    }
}

/// Every `one_in`th mutation of each kind (the first of each always), in the plan's order.
fn sample(mutations: &[Mutation], one_in: usize) -> Vec<&Mutation> {
    let one_in = one_in.max(1);
    let mut seen: std::collections::BTreeMap<Kind, usize> = Default::default();
    mutations
        .iter()
        .filter(|m| {
            let n = seen.entry(m.kind).or_default();
            *n += 1;
            (*n - 1).is_multiple_of(one_in)
        })
        .collect()
}

/// `cargo xtask fuzz`: every mutation under every Helm; true when the chart refuses enough.
pub fn run(project: &Project, minor: u32) -> Result<bool, Error> {
    let tools = crate::tools::ensure()?;
    let helms = Helm::all(&tools);
    let started = Instant::now();
    let plan = Plan::load(project)?;
    let chosen: Vec<&Mutation> = plan.mutations.iter().collect();
    let setup = setup(project, &helms, minor, &plan);
    let verdicts = render::judge(&setup, &chosen)?;
    let labels: Vec<String> = helms.iter().map(Helm::label).collect();
    let tally = Tally::new(&chosen, &verdicts, &labels);
    println!(
        "fuzz: {} mutations of chart/values.yaml (all of them), each rendered with {} at Kubernetes 1.{minor} over {}",
        chosen.len(),
        labels.join(" and "),
        pins_label(project, &plan)
    );
    print_section("mutation kinds", &kinds_legend());
    print_section("refused per kind", &tally.kind_lines());
    print_findings(&tally);
    let passed = tally.rate() >= THRESHOLD;
    println!(
        "rate: {}; {} by the schema, {} by a template; threshold {:.0}%: {}",
        tally.summary(),
        tally.by_schema,
        tally.refused - tally.by_schema,
        THRESHOLD * 100.0,
        if passed { "met" } else { "NOT met" }
    );
    println!(
        "time: {:.1} s for {} renders",
        started.elapsed().as_secs_f64(),
        chosen.len() * helms.len()
    );
    Ok(passed)
}

fn setup<'a>(project: &'a Project, helms: &'a [Helm], minor: u32, plan: &'a Plan) -> Setup<'a> {
    Setup {
        project,
        helms,
        minor,
        pins: plan.pins.clone(),
        base: &plan.base,
    }
}

fn pins_label(project: &Project, plan: &Plan) -> String {
    plan.pins
        .as_deref()
        .map_or("the defaults (no render pins)".into(), |p| project.rel(p))
}

fn kinds_legend() -> Vec<String> {
    let mut lines: Vec<String> = Kind::ALL
        .iter()
        .map(|k| format!("{:<22} {}", k.name(), k.rule()))
        .collect();
    let meanings: Vec<&str> = meaning::RULES.iter().map(|r| r.meaning).collect();
    lines.push(format!(
        "{:<22} meanings known: {}",
        "",
        meanings.join(", ")
    ));
    lines
}

fn print_section(title: &str, lines: &[String]) {
    println!("{title}:");
    for line in lines {
        println!("  {line}");
    }
}

fn print_findings(tally: &Tally) {
    print_section(
        &format!(
            "accepted ({}): the chart renders these wrong values",
            tally.accepted.len()
        ),
        &tally.accepted_lines(),
    );
    let unnamed: Vec<String> = tally
        .unnamed
        .iter()
        .map(|(m, reason)| format!("{}   [{}]: {reason}", m.describe(), m.kind.name()))
        .collect();
    print_section(
        &format!(
            "refused without naming the key ({}): the refusal may have another cause",
            unnamed.len()
        ),
        &unnamed,
    );
    if !tally.disagreements.is_empty() {
        let lines: Vec<String> = tally
            .disagreements
            .iter()
            .map(|(m, who)| format!("{}   [{}]: {who}", m.describe(), m.kind.name()))
            .collect();
        print_section("the Helms disagree", &lines);
    }
}

/// The `fuzz` step of `cargo xtask check`: a fixed share of every kind under the newest Helm.
pub fn check_step(project: &Project, helm: &Helm, minor: u32, step: &mut Step) {
    if let Err(e) = check_sample(project, helm, minor, step) {
        step.fail(e.to_string());
    }
}

fn check_sample(project: &Project, helm: &Helm, minor: u32, step: &mut Step) -> Result<(), Error> {
    let plan = Plan::load(project).context("planning the values fuzzer")?;
    let one_in = plan.mutations.len().div_ceil(CHECK_BUDGET);
    let chosen = sample(&plan.mutations, one_in);
    let helms = std::slice::from_ref(helm);
    let verdicts = render::judge(&setup(project, helms, minor, &plan), &chosen)?;
    let tally = Tally::new(&chosen, &verdicts, &[helm.label()]);
    step.detail = format!(
        "{} (1 in {one_in} of each kind, of {} mutations; `cargo xtask fuzz` judges all)",
        tally.summary(),
        plan.mutations.len()
    );
    step.notes
        .push(format!("per kind: {}", compact_kinds(&tally)));
    for line in tally.accepted_lines() {
        step.notes.push(format!("accepted: {line}"));
    }
    if tally.rate() >= THRESHOLD {
        step.passed += 1;
    } else {
        step.fail(format!(
            "the chart refuses {} of the wrong values tried, below {:.0}%: refuse the accepted ones above with \
             values.schema.json constraints or `fail` guards (`cargo xtask fuzz` lists every mutation it accepts)",
            tally.summary(),
            THRESHOLD * 100.0
        ));
    }
    Ok(())
}

fn compact_kinds(tally: &Tally) -> String {
    tally
        .per_kind
        .iter()
        .map(|(k, (refused, judged))| format!("{} {refused}/{judged}", k.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_sample_keeps_a_share_of_every_kind() {
        let values = json!({"a": 1, "b": 2, "c": 3, "d": true});
        let all = generate::generate(&values, &json!({}));
        let one = sample(&all, 1);
        assert_eq!(one.len(), all.len());
        let some = sample(&all, 2);
        for kind in Kind::ALL {
            let total = all.iter().filter(|m| m.kind == kind).count();
            let kept = some.iter().filter(|m| m.kind == kind).count();
            assert_eq!(kept, total.div_ceil(2), "{}", kind.name());
        }
    }
}
