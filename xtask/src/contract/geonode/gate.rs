//! The migrations gate (the init container of Django and Celery pods) against the init Job: it
//! waits while the Job of this configuration has not finished — through the Job's killed runs —
//! and lets the pod start within a poll of the Job's end; a new pod's gate then passes at once;
//! a gate of another configuration (another Job name) keeps waiting.

use super::run::GeoNodeRun;
use crate::contract::inputs::Inputs;
use crate::process::{exec_container, Running};
use crate::project::RELEASE;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const CONTAINER: &str = "wait-for-migrations";
const WAITING: &str = "waiting for the init Job";

/// The Django Deployment's gate as a command of this run.
struct Gate {
    argv: Vec<String>,
    run: GeoNodeRun,
}

impl Gate {
    fn of(inputs: &Inputs, run: &GeoNodeRun) -> Result<Self, String> {
        let deployment = format!("{RELEASE}-django");
        Ok(Gate {
            argv: inputs.command("Deployment", &deployment, CONTAINER)?,
            run: run.with_env_of(inputs, "Deployment", &deployment, CONTAINER)?,
        })
    }

    fn spawn(&self, log: &Path) -> Result<Running, String> {
        let out = fs::File::create(log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        Running::spawn(
            self.run
                .command(&self.argv)
                .current_dir(&self.run.config)
                .stdout(Stdio::from(out))
                .stderr(Stdio::from(err)),
        )
        .map_err(|e| format!("starting the gate: {e}"))
    }

    /// The gate started with its output in `log`, still running and saying it waits 3 s later;
    /// otherwise an error naming `when`.
    fn spawn_waiting(&self, log: &Path, when: &str) -> Result<Running, String> {
        let mut process = self.spawn(log)?;
        std::thread::sleep(Duration::from_secs(3));
        let said = fs::read_to_string(log).unwrap_or_default();
        if process.try_wait().is_some() || !said.contains(WAITING) {
            return Err(format!("{when}, the gate did not wait: {said}"));
        }
        Ok(process)
    }
}

/// A gate started before the init Job, seen waiting.
pub struct Waiting {
    gate: Gate,
    process: Running,
    log: PathBuf,
}

/// Starts the gate on databases no Job has finished on; it must still wait 3 s later.
pub fn start(inputs: &Inputs, run: &GeoNodeRun, work: &Path) -> Result<Waiting, String> {
    let gate = Gate::of(inputs, run)?;
    let log = work.join("gate-before-the-job.log");
    let process = gate.spawn_waiting(&log, "before any init Job finished")?;
    Ok(Waiting { gate, process, log })
}

/// After the init Job: the waiting gate ends well within a few polls; a new pod's gate passes
/// (its time in the note); a gate of another configuration keeps waiting.
pub fn after_the_job(mut waiting: Waiting, work: &Path) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = waiting.process.try_wait() {
            break status;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "15 s after the init Job finished, the gate still waits: {}",
                fs::read_to_string(&waiting.log).unwrap_or_default()
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    if !status.success() {
        return Err(format!(
            "the gate started before the Job ended with {status}: {}",
            fs::read_to_string(&waiting.log).unwrap_or_default()
        ));
    }
    let started = Instant::now();
    exec_container(
        waiting
            .gate
            .run
            .command(&waiting.gate.argv)
            .current_dir(&waiting.gate.run.config),
        "wait-for-migrations",
    )
    .map_err(|e| format!("a new pod's gate after the Job: {e}"))?;
    let new_pod = started.elapsed().as_secs_f64();
    let other = Gate {
        argv: waiting.gate.argv.clone(),
        run: waiting.gate.run.with_var(
            "GEONODE_K8S_INIT_JOB",
            &format!("{RELEASE}-init-0000000000"),
        ),
    };
    other.spawn_waiting(
        &work.join("gate-of-another-configuration.log"),
        "for a configuration whose Job has not run",
    )?;
    Ok(format!("a new pod's gate passed in {new_pod:.2} s"))
}
