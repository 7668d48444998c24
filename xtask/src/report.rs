//! What the harness prints: each step with its counts and wall time, every failure with what
//! to change, and the closing `N passed, M failed` line.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

pub struct Step {
    pub name: String,
    pub passed: usize,
    pub failures: Vec<String>,
    /// Things worth knowing that are not failures (unvalidated kinds, allowed exceptions).
    pub notes: Vec<String>,
    pub detail: String,
    pub elapsed: Duration,
}

impl Step {
    pub fn new(name: impl Into<String>) -> Self {
        Step {
            name: name.into(),
            passed: 0,
            failures: Vec::new(),
            notes: Vec::new(),
            detail: String::new(),
            elapsed: Duration::ZERO,
        }
    }

    /// A step made by timing `work`.
    pub fn timed(name: impl Into<String>, work: impl FnOnce(&mut Step)) -> Step {
        let started = Instant::now();
        let mut step = Step::new(name);
        work(&mut step);
        step.elapsed = started.elapsed();
        step
    }

    pub fn record(&mut self, result: Result<(), String>) {
        match result {
            Ok(()) => self.passed += 1,
            Err(message) => self.failures.push(message),
        }
    }

    /// A passed check with what it found as a note, or its failure.
    pub fn record_note(&mut self, result: Result<String, String>) {
        match result {
            Ok(note) => {
                self.passed += 1;
                self.notes.push(note);
            }
            Err(message) => self.failures.push(message),
        }
    }

    /// A passed check with what it found as notes, or its failure.
    pub fn record_notes(&mut self, result: Result<Vec<String>, String>) {
        match result {
            Ok(notes) => {
                self.passed += 1;
                self.notes.extend(notes);
            }
            Err(message) => self.failures.push(message),
        }
    }

    pub fn fail(&mut self, message: impl Into<String>) {
        self.failures.push(message.into());
    }

    /// One failure per problem, naming every place it showed in: the same mistake in a
    /// template usually shows in every scenario, Helm and Kubernetes minor.
    pub fn fail_grouped(&mut self, problems: BTreeMap<String, BTreeSet<String>>) {
        for (problem, places) in problems {
            self.fail(format!(
                "{problem}\n(in {})",
                places.into_iter().collect::<Vec<_>>().join("; ")
            ));
        }
    }
}

#[derive(Default)]
pub struct Report {
    pub steps: Vec<Step>,
}

impl Report {
    /// Times `work` and files its step.
    pub fn step(&mut self, name: impl Into<String>, work: impl FnOnce(&mut Step)) {
        let step = Step::timed(name, work);
        self.add(step);
    }

    /// Files a step that ran elsewhere (on another thread, beside the others).
    pub fn add(&mut self, step: Step) {
        self.print_step(&step);
        self.steps.push(step);
    }

    fn print_step(&self, step: &Step) {
        let mark = if step.failures.is_empty() {
            "ok  "
        } else {
            "FAIL"
        };
        println!(
            "{mark} {:<30} {:>4} passed {:>3} failed {:>8.2} s  {}",
            step.name,
            step.passed,
            step.failures.len(),
            step.elapsed.as_secs_f64(),
            step.detail
        );
        for note in &step.notes {
            println!("       note: {note}");
        }
        for failure in &step.failures {
            let mut lines = failure.lines();
            println!("     ✗ {}", lines.next().unwrap_or(""));
            for line in lines {
                println!("       {line}");
            }
        }
    }

    pub fn passed(&self) -> usize {
        self.steps.iter().map(|s| s.passed).sum()
    }

    pub fn failed(&self) -> usize {
        self.steps.iter().map(|s| s.failures.len()).sum()
    }

    pub fn finish(&self, total: Duration) {
        println!("total {:.2} s", total.as_secs_f64());
        println!("{} passed, {} failed", self.passed(), self.failed());
    }
}
