//! What the fuzzer found: the refused share overall and per kind, every accepted mutation, and
//! the refusals that may have had another cause.

use super::generate::Mutation;
use super::kinds::Kind;
use super::render::Verdict;
use std::collections::BTreeMap;

#[derive(Default)]
pub struct Tally<'m> {
    pub judged: usize,
    pub refused: usize,
    pub by_schema: usize,
    /// Per kind: (refused, judged).
    pub per_kind: BTreeMap<Kind, (usize, usize)>,
    /// Mutations some Helm rendered: the chart took a wrong value.
    pub accepted: Vec<&'m Mutation>,
    /// Refused, but the error does not name the mutated key, with the error's reason.
    pub unnamed: Vec<(&'m Mutation, String)>,
    /// Mutations the Helms judged differently, with who accepted.
    pub disagreements: Vec<(&'m Mutation, String)>,
}

impl<'m> Tally<'m> {
    /// A mutation counts as refused only if every Helm refused it.
    pub fn new(mutations: &[&'m Mutation], verdicts: &[Vec<Verdict>], helms: &[String]) -> Self {
        let mut tally = Tally::default();
        for (&m, per_helm) in mutations.iter().zip(verdicts) {
            tally.judged += 1;
            let counts = tally.per_kind.entry(m.kind).or_default();
            counts.1 += 1;
            let refused = per_helm.iter().all(Verdict::is_refused);
            if per_helm.iter().any(Verdict::is_refused) && !refused {
                let accepting: Vec<&str> = helms
                    .iter()
                    .zip(per_helm)
                    .filter(|(_, v)| !v.is_refused())
                    .map(|(h, _)| h.as_str())
                    .collect();
                tally
                    .disagreements
                    .push((m, format!("accepted by {}", accepting.join(", "))));
            }
            if !refused {
                tally.accepted.push(m);
                continue;
            }
            counts.0 += 1;
            tally.refused += 1;
            if let Some(Verdict::Refused {
                by_schema,
                names_key,
                reason,
            }) = per_helm.last()
            {
                tally.by_schema += usize::from(*by_schema);
                if !names_key {
                    tally.unnamed.push((m, reason.clone()));
                }
            }
        }
        tally
    }

    /// The refused share, 1.0 when nothing was judged.
    pub fn rate(&self) -> f64 {
        if self.judged == 0 {
            1.0
        } else {
            self.refused as f64 / self.judged as f64
        }
    }

    /// `refused of judged (rate %)`.
    pub fn summary(&self) -> String {
        format!(
            "{} of {} refused ({:.1}%)",
            self.refused,
            self.judged,
            self.rate() * 100.0
        )
    }

    /// One line per kind that was judged.
    pub fn kind_lines(&self) -> Vec<String> {
        self.per_kind
            .iter()
            .map(|(kind, (refused, judged))| {
                format!(
                    "{:<22} {refused:>5} of {judged:<5} refused ({:.1}%)",
                    kind.name(),
                    *refused as f64 * 100.0 / *judged as f64
                )
            })
            .collect()
    }

    /// Every accepted mutation, grouped under the map it is in, passed-through ones marked.
    pub fn accepted_lines(&self) -> Vec<String> {
        self.accepted
            .iter()
            .map(|m| {
                let through = if m.passed_through {
                    ", passed through unchecked"
                } else {
                    ""
                };
                format!("{}   [{}{through}]", m.describe(), m.kind.name())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::overlay::Path;
    use serde_json::json;

    fn mutation(kind: Kind, key: &str) -> Mutation {
        Mutation {
            kind,
            path: Path::default().child(key),
            value: json!(-1),
            companions: Vec::new(),
            passed_through: false,
        }
    }

    fn refused(names_key: bool) -> Verdict {
        Verdict::Refused {
            by_schema: true,
            names_key,
            reason: "- at '/x': no".into(),
        }
    }

    #[test]
    fn refused_only_when_every_helm_refuses() {
        let (a, b, c) = (
            mutation(Kind::Negative, "a"),
            mutation(Kind::Negative, "b"),
            mutation(Kind::UnknownKey, "c"),
        );
        let verdicts = vec![
            vec![refused(true), refused(true)],
            vec![refused(true), Verdict::Accepted],
            vec![refused(false), refused(false)],
        ];
        let helms = ["helm3".to_string(), "helm4".to_string()];
        let tally = Tally::new(&[&a, &b, &c], &verdicts, &helms);
        assert_eq!((tally.refused, tally.judged), (2, 3));
        assert_eq!(tally.per_kind[&Kind::Negative], (1, 2));
        assert_eq!(tally.accepted, vec![&b]);
        assert_eq!(tally.disagreements[0].1, "accepted by helm4");
        assert_eq!(tally.unnamed.len(), 1);
        assert_eq!(tally.summary(), "2 of 3 refused (66.7%)");
        assert_eq!(tally.accepted_lines(), vec!["b = -1   [negative]"]);
        assert_eq!(Tally::default().rate(), 1.0);
    }
}
