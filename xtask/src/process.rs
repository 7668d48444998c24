//! Local processes: a program run to its end (its output or its error), and servers each in a
//! process group of its own, killed with its group when dropped. Used by the contract, the docs
//! site, releases, e2e, bench and the node images.

use crate::error::{Context, Error};
use crate::report::Step;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

pub fn chmod(path: &Path, mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .context(format!("chmod {}", path.display()))
}

pub fn free_port() -> Result<u16, String> {
    crate::cluster::free_port().map_err(|e| e.to_string())
}

/// A background process in a process group of its own; dropping it kills the whole group, so
/// forked workers (uwsgi's, Celery's pool) go with it.
pub struct Running(Child);

impl Running {
    pub fn spawn(cmd: &mut Command) -> std::io::Result<Running> {
        cmd.process_group(0).spawn().map(Running)
    }

    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// Its exit status, if it has ended.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.0.try_wait().ok().flatten()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn exec(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("could not run {:?}: {e}", cmd.get_program()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{:?} failed: {}", cmd.get_program(), text.trim()))
    }
}

/// Starts a server with its output discarded and waits until it listens on `port`.
pub fn start_server(cmd: &mut Command, what: &str, port: u16) -> Result<Running, String> {
    let running = Running::spawn(cmd.stdout(Stdio::null()).stderr(Stdio::null()))
        .map_err(|e| format!("starting {what}: {e}"))?;
    wait_for_port(port)?;
    Ok(running)
}

/// Where a contract run keeps what the chart's own programs print (what a cluster keeps of a
/// container's output), for the search for credentials at its end. Unset outside a contract run.
static CONTAINER_LOGS: OnceLock<PathBuf> = OnceLock::new();

/// Keeps the chart's programs' output in `dir` from now on (once per process).
pub fn keep_container_logs(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    CONTAINER_LOGS
        .set(dir.to_path_buf())
        .map_err(|_| "the container logs' folder is set already".to_string())
}

/// The kept logs' folder, if this run keeps them.
pub fn container_logs() -> Option<&'static Path> {
    CONTAINER_LOGS.get().map(PathBuf::as_path)
}

/// Where the log of the chart's program `what` is kept, or None outside a contract run.
pub fn container_log_path(what: &str) -> Option<PathBuf> {
    let name: String = what
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    container_logs().map(|dir| dir.join(format!("{name}.log")))
}

/// The log file of the chart's program `what` (appended to), or None outside a contract run.
pub fn container_log(what: &str) -> Result<Option<fs::File>, String> {
    let Some(path) = container_log_path(what) else {
        return Ok(None);
    };
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map(Some)
        .map_err(|e| format!("opening {}: {e}", path.display()))
}

/// start_server for one of the chart's programs: its output goes to its container log.
pub fn start_container(cmd: &mut Command, what: &str, port: u16) -> Result<Running, String> {
    let Some(log) = container_log(what)? else {
        return start_server(cmd, what, port);
    };
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let running =
        Running::spawn(cmd.stdout(log).stderr(err)).map_err(|e| format!("starting {what}: {e}"))?;
    wait_for_port(port)?;
    Ok(running)
}

/// exec for one of the chart's containers run to its end: its output is kept in its log too.
pub fn exec_container(cmd: &mut Command, what: &str) -> Result<String, String> {
    let result = exec(cmd);
    if let Some(mut log) = container_log(what)? {
        use std::io::Write;
        let text = match &result {
            Ok(out) | Err(out) => out,
        };
        writeln!(log, "{text}").map_err(|e| e.to_string())?;
    }
    result
}

pub fn wait_for_port(port: u16) -> Result<(), String> {
    crate::cluster::wait_for_port(port, Duration::from_secs(30)).map_err(|e| e.to_string())
}

/// A server left running for the parts after it.
pub struct Server {
    pub port: u16,
    pub _process: Running,
}

/// Keeps a started server for later parts, or records why it failed.
pub fn keep_running(result: Result<Server, String>, step: &mut Step) -> Option<Server> {
    match result {
        Ok(server) => {
            step.passed += 1;
            Some(server)
        }
        Err(e) => {
            step.fail(e);
            None
        }
    }
}

/// Fetches a Maven Central artifact (`group:name:version[:type]`) into `dir` with
/// `mvn dependency:copy` and checks the file it makes (`file`) against `sha256`.
pub fn maven_copy(
    artifact: &str,
    dir: &Path,
    file: &str,
    sha256: &str,
) -> Result<std::path::PathBuf, Error> {
    eprintln!("downloading {artifact} from Maven Central (mvn dependency:copy)");
    exec(
        Command::new("mvn")
            .args(["-q", "-B", "dependency:copy"])
            .arg(format!("-Dartifact={artifact}"))
            .arg(format!("-DoutputDirectory={}", dir.display())),
    )
    .map_err(|e| {
        Error::msg(format!(
            "could not fetch {artifact} with Maven ({e}); install Maven, or put {file} (sha256 {sha256}) into {}",
            dir.display()
        ))
    })?;
    let path = dir.join(file);
    crate::tools::verify_sha256(&path, sha256)?;
    Ok(path)
}
