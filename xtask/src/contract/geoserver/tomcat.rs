//! Part `geoserver-tomcat`: Tomcat 9 itself, started by the chart's start script as uid 1000
//! from the base it prepares (conf copies, logs, temp, work in the tmp emptyDir) with the
//! image's Tomcat home read-only, serving a stand-in web application where the image has
//! GeoServer's (GeoServer is on no registry here): it must start, log on stdout, and answer
//! cross-origin requests as `geoserver.cors` says.
//!
//! The geonode/geoserver image runs Tomcat 9.0.118 (tomcat:9.0.118-jdk17-temurin-jammy); Maven
//! Central serves 9.0.117 here, the newest 9.0 it has, with the same configuration files.

use super::starter::Starter;
use super::{tree, Setup, Tree};
use crate::contract::inputs::Inputs;
use crate::error::{Context, Error};
use crate::process::{exec, maven_copy, Running};
use crate::report::Step;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const VERSION: &str = "9.0.117";
const SHA256: &str = "f74a0b061e2b0068ec2a17a5e01c250851f6f30f362c8127209a2a6ef7952b29";
/// Tomcat's HTTP port in its stock server.xml (the image's, and GeoServer's Service target).
const PORT: u16 = 8080;
const ORIGIN: &str = "https://maps.example.org";

/// The Tomcat distribution, downloaded once with Maven (sha256-checked) and unpacked into the
/// tool cache.
pub fn ensure() -> Result<PathBuf, Error> {
    let (cache, _lock) = crate::tools::lock_cache()?;
    let root = cache.join(format!("tomcat-{VERSION}"));
    let home = root.join(format!("apache-tomcat-{VERSION}"));
    let stamp = root.join(".complete");
    if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == SHA256) {
        return Ok(home);
    }
    if root.exists() {
        fs::remove_dir_all(&root).context(format!("removing the incomplete {}", root.display()))?;
    }
    fs::create_dir_all(&root).context(format!("creating {}", root.display()))?;
    let archive = maven_copy(
        &format!("org.apache.tomcat:tomcat:{VERSION}:tar.gz"),
        &root,
        &format!("tomcat-{VERSION}.tar.gz"),
        SHA256,
    )?;
    exec(
        Command::new("tar")
            .arg("-xzf")
            .arg(&archive)
            .arg("-C")
            .arg(&root),
    )
    .map_err(Error::msg)?;
    fs::write(&stamp, SHA256).context(format!("writing {}", stamp.display()))?;
    Ok(home)
}

/// A Tomcat home as the image has it: the distribution readable by all and writable by root
/// only (the pod's root filesystem is read-only), webapps/ holding only `geoserver`, here a
/// stand-in. Returns it and its files, to show that nothing writes into it.
pub fn prepare(setup: &Setup) -> Result<(PathBuf, Tree), String> {
    let cached = ensure().map_err(|e| e.to_string())?;
    let home = setup.dir.join("tomcat-home");
    if home.exists() {
        fs::remove_dir_all(&home).map_err(|e| e.to_string())?;
    }
    exec(Command::new("cp").arg("-a").arg(&cached).arg(&home))?;
    let webapps = home.join("webapps");
    fs::remove_dir_all(&webapps).map_err(|e| e.to_string())?;
    let app = webapps.join("geoserver");
    fs::create_dir_all(app.join("WEB-INF")).map_err(|e| e.to_string())?;
    fs::write(app.join("index.html"), "geoserver stand-in\n").map_err(|e| e.to_string())?;
    fs::write(
        app.join("WEB-INF/web.xml"),
        "<web-app xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"4.0\"/>\n",
    )
    .map_err(|e| e.to_string())?;
    // As the tomcat image leaves it (`chmod -R +rX .`), owned by root.
    exec(Command::new("chown").args(["-R", "0:0"]).arg(&home))?;
    exec(Command::new("chmod").args(["-R", "a+rX,go-w"]).arg(&home))?;
    let files = tree(&home, "").map_err(|e| e.to_string())?;
    Ok((home, files))
}

/// The JDK on this machine, as the image's JAVA_HOME.
fn java_home() -> Result<String, String> {
    let java = exec(Command::new("readlink").args(["-f", "/usr/bin/java"]))?;
    java.trim()
        .strip_suffix("/bin/java")
        .map(str::to_string)
        .ok_or_else(|| format!("cannot tell JAVA_HOME from {}", java.trim()))
}

/// Tomcat started by the start script in a network namespace of its own (its stock ports are
/// fixed), stopped with its process group when dropped.
struct Started {
    process: Running,
    log: PathBuf,
}

impl Started {
    fn new(
        setup: &Setup,
        starter: &Starter,
        env: &BTreeMap<String, String>,
    ) -> Result<Self, String> {
        let log = setup.dir.join("tomcat.log");
        let out = fs::File::create(&log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new("unshare");
        cmd.args([
            "--net",
            "--",
            "sh",
            "-c",
            "ip link set lo up && exec \"$@\"",
            "sh",
        ])
        .args(setup.geoserver_argv("sh"))
        .arg(&starter.script)
        .env_clear()
        .envs(env)
        .env(
            "PATH",
            format!("{}/bin:{}", starter.env["CATALINA_HOME"], setup.path()),
        )
        .env("JAVA_HOME", java_home()?)
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err));
        let process = Running::spawn(&mut cmd).map_err(|e| format!("starting Tomcat: {e}"))?;
        let started = Started { process, log };
        let deadline = Instant::now() + Duration::from_secs(120);
        while started.curl(&["/geoserver/index.html"]).map(|(s, _)| s) != Ok(200) {
            if Instant::now() > deadline {
                return Err(format!(
                    "Tomcat did not serve /geoserver/ within 120 s; its log:\n{}",
                    started.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Ok(started)
    }

    /// curl inside Tomcat's network namespace: the status and the response headers.
    fn curl(&self, args: &[&str]) -> Result<(u16, String), String> {
        let (path, rest) = args.split_first().ok_or("no path")?;
        let out = exec(
            Command::new("nsenter")
                .arg(format!("--net=/proc/{}/ns/net", self.process.id()))
                .args([
                    "curl",
                    "-s",
                    "-o",
                    "/dev/null",
                    "-D",
                    "-",
                    "--max-time",
                    "5",
                ])
                .args(rest)
                .arg(format!("http://127.0.0.1:{PORT}{path}")),
        )?;
        let status = out
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no HTTP status in {out:?}"))?;
        Ok((status, out.to_ascii_lowercase()))
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(25)..].join("\n")
    }
}

/// A CORS preflight for GET from another site: its status and response headers.
fn preflight(tomcat: &Started) -> Result<(u16, String), String> {
    tomcat.curl(&[
        "/geoserver/ows",
        "-X",
        "OPTIONS",
        "-H",
        &format!("Origin: {ORIGIN}"),
        "-H",
        "Access-Control-Request-Method: GET",
    ])
}

pub fn run(inputs: &Inputs, setup: &Setup, data: &Path, home: &(PathBuf, Tree), step: &mut Step) {
    step.detail = format!("Tomcat {VERSION} started by the start script as uid 1000 from its CATALINA_BASE, the image's home read-only: serves, logs on stdout, CORS as geoserver.cors says (on and off)");
    let result = (|| -> Result<(), String> {
        let starter = Starter::new(inputs, setup, data, &home.0)?;
        let origins = &starter.env["GEOSERVER_CORS_ALLOWED_ORIGINS"];
        {
            let tomcat = Started::new(setup, &starter, &starter.env)?;
            let (status, headers) = preflight(&tomcat)?;
            let allowed = headers
                .lines()
                .find_map(|l| l.strip_prefix("access-control-allow-origin:"))
                .map(str::trim);
            let want = if origins == "*" { "*" } else { ORIGIN };
            step.record(match (status, allowed) {
                (200, Some(a)) if a == want => Ok(()),
                _ => Err(format!("a CORS preflight from {ORIGIN} got HTTP {status} with Access-Control-Allow-Origin {allowed:?}; geoserver.cors allows {origins:?}")),
            });
            let (_, headers) =
                tomcat.curl(&["/geoserver/index.html", "-H", &format!("Origin: {ORIGIN}")])?;
            step.record(if headers.contains("access-control-allow-origin:") {
                Ok(())
            } else {
                Err(format!(
                    "a cross-origin GET got no Access-Control-Allow-Origin: {headers}"
                ))
            });
            let log = fs::read_to_string(&tomcat.log).unwrap_or_default();
            step.record(if log.contains("Server startup in") {
                Ok(())
            } else {
                Err(format!(
                    "Tomcat's log is not on stdout:\n{}",
                    tomcat.log_tail()
                ))
            });
        }
        // geoserver.cors.enabled false: no CORS headers.
        let mut env = starter.env.clone();
        env.insert("GEOSERVER_CORS_ENABLED".into(), "false".into());
        {
            let tomcat = Started::new(setup, &starter, &env)?;
            let (_, headers) = preflight(&tomcat)?;
            step.record(if headers.contains("access-control-allow-origin:") {
                Err("with geoserver.cors.enabled false Tomcat still answers CORS".into())
            } else {
                Ok(())
            });
        }
        step.record(match tree(&home.0, "") {
            Ok(t) if t == home.1 => Ok(()),
            _ => Err(format!(
                "Tomcat or the start script wrote into the image's Tomcat home {}",
                home.0.display()
            )),
        });
        Ok(())
    })();
    if let Err(e) = result {
        step.fail(e);
    }
}
