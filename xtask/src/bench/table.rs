//! The bench's figures: one value per variant per round, summarised as min/median/max, with
//! the chart-to-upstream ratio paired by round; printed as a Markdown table and kept as JSON.

use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The configurations measured side by side.
pub const CHART: &str = "chart";
/// The chart with GeoNode's default cache, one in each process (as before the shared cache).
pub const CHART_PROCESS_CACHE: &str = "chart, cache per process";
pub const UPSTREAM: &str = "upstream";
/// nginx with a minimal configuration: what this machine can send at most.
pub const CEILING: &str = "ceiling";

/// One figure: its values per variant, in round order.
#[derive(Debug, Default)]
struct Figure {
    unit: String,
    values: BTreeMap<String, Vec<f64>>,
}

/// Every figure of a bench run, in the order first recorded.
#[derive(Debug, Default)]
pub struct Figures {
    order: Vec<String>,
    figures: BTreeMap<String, Figure>,
}

/// min, median, max (the median of an even count is the mean of the middle two).
pub fn summary(values: &[f64]) -> Option<(f64, f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some((v[0], median, v[n - 1]))
}

fn number(x: f64) -> String {
    match x.abs() {
        a if a >= 100.0 => format!("{x:.0}"),
        a if a >= 10.0 => format!("{x:.1}"),
        _ => format!("{x:.2}"),
    }
}

fn triple(values: &[f64]) -> String {
    summary(values).map_or("–".into(), |(lo, mid, hi)| {
        format!("{}/{}/{}", number(lo), number(mid), number(hi))
    })
}

impl Figures {
    /// Records `value` of `variant` for figure `name` (one call per round).
    pub fn record(&mut self, name: &str, unit: &str, variant: &str, value: f64) {
        if !self.figures.contains_key(name) {
            self.order.push(name.to_string());
        }
        let figure = self.figures.entry(name.to_string()).or_default();
        figure.unit = unit.to_string();
        figure
            .values
            .entry(variant.to_string())
            .or_default()
            .push(value);
    }

    /// chart/`other` per round, for the rounds both have.
    fn ratios(figure: &Figure, other: &str) -> Vec<f64> {
        match (figure.values.get(CHART), figure.values.get(other)) {
            (Some(a), Some(b)) => a.iter().zip(b).map(|(a, b)| a / b).collect(),
            _ => Vec::new(),
        }
    }

    /// The Markdown table: one row per figure, min/median/max per variant and of the ratio.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "| figure (min/median/max) | unit | {CHART} | {CHART_PROCESS_CACHE} | chart/that | {UPSTREAM} | chart/upstream | {CEILING} |\n|---|---|---|---|---|---|---|---|\n",
        );
        for name in &self.order {
            let f = &self.figures[name];
            let col = |v: &str| f.values.get(v).map_or("".into(), |x| triple(x));
            let ratio = |other: &str| {
                let ratios = Self::ratios(f, other);
                if ratios.is_empty() {
                    String::new()
                } else {
                    triple(&ratios)
                }
            };
            out.push_str(&format!(
                "| {name} | {} | {} | {} | {} | {} | {} | {} |\n",
                f.unit,
                col(CHART),
                col(CHART_PROCESS_CACHE),
                ratio(CHART_PROCESS_CACHE),
                col(UPSTREAM),
                ratio(UPSTREAM),
                col(CEILING)
            ));
        }
        out
    }

    /// Every value, with the summaries, for tools.
    pub fn json(&self, about: Value) -> Value {
        let figures: Vec<Value> = self
            .order
            .iter()
            .map(|name| {
                let f = &self.figures[name];
                json!({
                    "figure": name,
                    "unit": f.unit,
                    "values": f.values,
                    "median": f.values.iter().map(|(k, v)| (k.clone(), summary(v).map(|s| s.1))).collect::<BTreeMap<_, _>>(),
                    "ratio_chart_to_upstream": Self::ratios(f, UPSTREAM),
                    "ratio_chart_to_process_cache": Self::ratios(f, CHART_PROCESS_CACHE),
                })
            })
            .collect();
        json!({"about": about, "figures": figures})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_take_the_middle_and_skip_missing_values() {
        assert_eq!(summary(&[3.0, 1.0, 2.0]), Some((1.0, 2.0, 3.0)));
        assert_eq!(summary(&[4.0, 1.0, 2.0, 3.0]), Some((1.0, 2.5, 4.0)));
        assert_eq!(summary(&[f64::NAN, 5.0]), Some((5.0, 5.0, 5.0)));
        assert_eq!(summary(&[]), None);
    }

    #[test]
    fn ratios_pair_rounds() {
        let mut f = Figures::default();
        for (a, b) in [(10.0, 5.0), (30.0, 10.0), (8.0, 8.0)] {
            f.record("home c=8", "req/s", CHART, a);
            f.record("home c=8", "req/s", UPSTREAM, b);
        }
        let table = f.markdown();
        assert!(
            table.contains(
                "| home c=8 | req/s | 8.00/10.0/30.0 |  |  | 5.00/8.00/10.0 | 1.00/2.00/3.00 |  |"
            ),
            "{table}"
        );
        let j = f.json(json!({}));
        assert_eq!(
            j["figures"][0]["ratio_chart_to_upstream"],
            json!([2.0, 3.0, 1.0])
        );
    }
}
