//! Child processes of the control plane: logs in files, stopped on drop (SIGTERM, then SIGKILL).

use crate::error::{Context, Error};
use std::fs::{self, File};
use std::io::Write;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Child {
    name: &'static str,
    log: PathBuf,
    inner: Option<std::process::Child>,
}

impl Child {
    /// Starts `cmd` with its output in `<dir>/<name>.log`. `detached` puts it in a process
    /// group of its own, so it outlives the harness (for `cluster up`); otherwise a Ctrl-C
    /// reaches it together with the harness.
    pub fn spawn(
        cmd: &mut Command,
        name: &'static str,
        dir: &Path,
        detached: bool,
    ) -> Result<Self, Error> {
        let log = dir.join(format!("{name}.log"));
        let out = File::create(&log).context(format!("creating {}", log.display()))?;
        let err = out.try_clone().context("duplicating a log file handle")?;
        if detached {
            cmd.process_group(0);
        }
        let inner = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .context(format!("starting {name}"))?;
        Ok(Child {
            name,
            log,
            inner: Some(inner),
        })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn id(&self) -> u32 {
        self.inner.as_ref().map_or(0, |c| c.id())
    }

    /// Fails with the end of its log if the process has exited.
    pub fn check_alive(&mut self) -> Result<(), Error> {
        let Some(child) = self.inner.as_mut() else {
            return Ok(());
        };
        if let Ok(Some(status)) = child.try_wait() {
            let log = fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log
                .lines()
                .rev()
                .take(15)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            return Err(Error::msg(format!(
                "{} exited ({status}); the end of {}:\n{}",
                self.name,
                self.log.display(),
                tail.join("\n")
            )));
        }
        Ok(())
    }

    /// Appends the process id to `file`, where a watchdog finds it if the harness dies.
    pub fn record_id(&self, file: &Path) -> Result<(), Error> {
        let mut ids = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .context("recording a process id for the watchdog")?;
        writeln!(ids, "{}", self.id()).context("recording a process id for the watchdog")
    }

    /// Lets the process run on after this value is dropped.
    pub fn forget(mut self) {
        self.inner = None;
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(mut child) = self.inner.take() {
            terminate(child.id() as i32);
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// SIGTERM, up to 10 s to exit, then SIGKILL. True if the process existed.
pub fn terminate(pid: i32) -> bool {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    if !proc.exists() {
        return false;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        // A zombie (our own exited child) still has /proc/<pid>; its state is Z.
        let state = fs::read_to_string(proc.join("stat")).unwrap_or_default();
        if state.is_empty() || state.split_whitespace().nth(2) == Some("Z") {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
    true
}

pub fn wait_for_port(port: u16, timeout: Duration) -> Result<(), Error> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(Error::msg(format!(
        "nothing listens on 127.0.0.1:{port} after {} s",
        timeout.as_secs()
    )))
}

/// Runs a command with `stdin` as its input: stdout on success, stderr (and stdout) otherwise.
pub fn run_with_stdin(cmd: Command, stdin: &str) -> Result<String, String> {
    run_capturing(cmd, stdin).map(|(stdout, _)| stdout)
}

/// Like run_with_stdin, but keeps the warnings a successful run printed: (stdout, stderr).
pub fn run_capturing(mut cmd: Command, stdin: &str) -> Result<(String, String), String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run {:?}: {e}", cmd.get_program()))?;
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for {:?}: {e}", cmd.get_program()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok((stdout, String::from_utf8_lossy(&out.stderr).into_owned()))
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr).trim(),
            if stdout.trim().is_empty() {
                String::new()
            } else {
                format!("\n{}", stdout.trim())
            }
        ))
    }
}
