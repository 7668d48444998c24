//! The configurations under load, each nginx in front of uwsgi on the same site (databases,
//! Redis, collected statics): the chart's, as rendered; upstream's (see `upstream.rs`); and the
//! machine's ceiling for static files (nginx with a minimal configuration, no Django).

use crate::contract::geonode::GeoNodeRun;
use crate::contract::inputs::Inputs;
use crate::contract::nginx::{check_and_start, http_status, start_nginx};
use crate::process::{exec, free_port, Running};
use crate::project::RELEASE;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// How long a restart may take before the bench gives up on it.
const READY_WITHIN: Duration = Duration::from_secs(300);

/// What every configuration serves: GeoNode's environment, the site's host name, the
/// GeoServer stand-in's port and a work folder.
pub struct Site {
    pub run: GeoNodeRun,
    pub inputs: Inputs,
    pub host: String,
    pub geoserver: u16,
    pub work: PathBuf,
}

/// A uwsgi behind an nginx; uwsgi is started anew for each restart, nginx stays.
pub struct Stack {
    pub name: &'static str,
    pub listen: u16,
    _nginx: Running,
    uwsgi: Option<Running>,
    /// How this stack (re)starts Django: its start commands, in order; the last one serves.
    starts: Vec<Start>,
    log: PathBuf,
}

/// One command of a start, in GeoNode's environment.
pub struct Start {
    pub argv: Vec<String>,
    pub run: GeoNodeRun,
    /// Whether it serves (runs on) rather than finishing before the next.
    pub serves: bool,
}

impl Stack {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.listen)
    }

    /// Stops Django, runs the start commands and waits for the first 200 on /api/v2/ through
    /// nginx: the time from the start to it. `skip` leaves out the first commands (a start
    /// without the migrations gate, say).
    pub fn restart(&mut self, site: &Site, skip: usize) -> Result<Duration, String> {
        self.uwsgi = None;
        std::thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        for start in self.starts.iter().skip(skip) {
            let mut cmd = start.run.command(&start.argv);
            cmd.current_dir(&start.run.config);
            if start.serves {
                let log = fs::File::create(&self.log).map_err(|e| e.to_string())?;
                let err = log.try_clone().map_err(|e| e.to_string())?;
                cmd.stdout(Stdio::from(log)).stderr(Stdio::from(err));
                self.uwsgi = Some(
                    Running::spawn(&mut cmd)
                        .map_err(|e| format!("{}: starting uwsgi: {e}", self.name))?,
                );
            } else {
                exec(&mut cmd)
                    .map_err(|e| format!("{}: {}: {e}", self.name, start.argv.join(" ")))?;
            }
        }
        let url = format!("{}/api/v2/", self.base());
        while http_status(&site.host, &[&url]).map(|s| s.trim() == "200") != Ok(true) {
            if started.elapsed() > READY_WITHIN {
                let log = fs::read_to_string(&self.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                return Err(format!(
                    "{}: /api/v2/ not ready within {} s after the start; uwsgi's log ends:\n{}",
                    self.name,
                    READY_WITHIN.as_secs(),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(started.elapsed())
    }

    /// The uwsgi master's process id, for its memory.
    pub fn uwsgi_pid(&self) -> Option<u32> {
        self.uwsgi.as_ref().map(Running::id)
    }
}

/// The rendered Deployment's container, as a command of this run (its socket on `port`, its
/// working directory this run's).
fn chart_command(site: &Site, container: &str, port: u16) -> Result<Vec<String>, String> {
    let argv = site
        .inputs
        .command("Deployment", &format!("{RELEASE}-django"), container)?;
    let src = site.run.config.with_file_name("src");
    Ok(argv
        .into_iter()
        .map(|a| {
            if a.starts_with("--http-socket=") {
                format!("--http-socket=127.0.0.1:{port}")
            } else if a.starts_with("--chdir=") {
                format!("--chdir={}", src.display())
            } else {
                a
            }
        })
        .collect())
}

/// The chart's configuration: its nginx.conf, its migrations gate (a new pod's init container)
/// and its uwsgi command, with GeoNode's environment `run` (the chart's, or another cache), as
/// the variant `name`.
pub fn chart(site: &Site, name: &'static str, run: &GeoNodeRun) -> Result<Stack, String> {
    let uwsgi_port = free_port()?;
    let dir = site.work.join(name.replace([',', ' '], "-"));
    let (nginx, listen) = start_nginx(
        &site.inputs,
        &dir.join("nginx"),
        &site.run.statics,
        uwsgi_port,
        site.geoserver,
    )?;
    let deployment = format!("{RELEASE}-django");
    let gate = run.with_env_of(
        &site.inputs,
        "Deployment",
        &deployment,
        "wait-for-migrations",
    )?;
    let starts = vec![
        Start {
            argv: site
                .inputs
                .command("Deployment", &deployment, "wait-for-migrations")?,
            run: gate,
            serves: false,
        },
        Start {
            argv: chart_command(site, "django", uwsgi_port)?,
            run: run.clone(),
            serves: true,
        },
    ];
    Ok(Stack {
        name,
        listen,
        _nginx: nginx,
        uwsgi: None,
        starts,
        log: dir.join("uwsgi.log"),
    })
}

/// An upstream-configured stack from its parts (see `upstream.rs`).
pub fn assemble(
    name: &'static str,
    nginx: (Running, u16),
    starts: Vec<Start>,
    log: PathBuf,
) -> Stack {
    Stack {
        name,
        listen: nginx.1,
        _nginx: nginx.0,
        uwsgi: None,
        starts,
        log,
    }
}

/// nginx with the least configuration that serves the statics folder (sendfile, no gzip): what
/// this machine can send at most. Returns it and its port.
pub fn ceiling(statics: &Path, dir: &Path) -> Result<(Running, u16), String> {
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let listen = free_port()?;
    let d = dir.display();
    let conf = format!(
        "worker_processes auto;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n  access_log off;\n  sendfile on;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  server {{\n    listen 127.0.0.1:{listen};\n    root {};\n  }}\n}}\n",
        statics.display()
    );
    let path = dir.join("nginx.conf");
    fs::write(&path, conf).map_err(|e| e.to_string())?;
    Ok((
        check_and_start(&path, "the ceiling's nginx", listen)?,
        listen,
    ))
}
