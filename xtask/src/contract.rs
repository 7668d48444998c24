//! `cargo xtask contract`: what the chart renders, run by the real programs on this machine.
//!
//! Inputs come from the rendered chart (the defaults, with the render pins): the nginx
//! configuration from its ConfigMap, the database init script from its ConfigMap, Redis's
//! configuration and command from its ConfigMap and StatefulSet, passwords from the rendered
//! Secrets. Only host names, ports and paths are changed, in `Mapping` below, so the programs can
//! run as local processes on 127.0.0.1 in a temporary folder; everything is stopped and removed
//! at the end. GeoServer is on no registry reachable here: `/geoserver` reaches a recording
//! stand-in, and so does `/` until GeoNode itself runs here.

use crate::error::{Context, Error};
use crate::manifest::{self, Object};
use crate::project::{Project, NAMESPACE, RELEASE};
use crate::report::{Report, Step};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Values for the contract render on top of the defaults and pins: a small upload limit, so
/// "an upload over the limit gets 413" needs no 10 GB request.
const CONTRACT_SETS: &[&str] = &["nginx.maxBodySize=1m"];
const MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn run(project: &Project) -> Result<Report, Error> {
    let started = Instant::now();
    let mut report = Report::default();
    let mut inputs = None;
    report.step("software", |step| match install_software() {
        Ok(versions) => {
            step.passed += 1;
            step.detail = versions;
        }
        Err(e) => step.fail(e.to_string()),
    });
    report.step("render", |step| match render(project) {
        Ok(objects) => {
            step.passed += 1;
            step.detail = format!(
                "{} objects from the defaults with pins and {}",
                objects.len(),
                CONTRACT_SETS.join(", ")
            );
            inputs = Some(objects);
        }
        Err(e) => step.fail(e),
    });
    if let Some(objects) = inputs {
        let work = tempfile::Builder::new()
            .prefix("geonode-contract-")
            .tempdir()
            .context("creating a work folder")?;
        // The postgres user must reach the folder: PostgreSQL refuses to run as root.
        chmod(work.path(), 0o755)?;
        let inputs = Inputs { objects };
        report.step("postgresql", |step| postgresql(&inputs, work.path(), step));
        report.step("redis", |step| redis(&inputs, work.path(), step));
        report.step("nginx", |step| nginx(&inputs, work.path(), step));
    }
    report.finish(started.elapsed());
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Mapping: the only changes made to what the chart renders, to run it as local processes.

struct Mapping {
    /// In-cluster service host:port -> 127.0.0.1:port.
    hosts: Vec<(String, String)>,
    /// Paths inside the containers -> folders of this run, replaced in this order.
    paths: Vec<(String, String)>,
}

impl Mapping {
    fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (from, to) in self.hosts.iter().chain(self.paths.iter()) {
            out = out.replace(from, to);
        }
        out
    }
}

fn service(component: &str, port: u16) -> String {
    format!("{RELEASE}-{component}.{NAMESPACE}.svc:{port}")
}

// ---------------------------------------------------------------------------------------------

struct Inputs {
    objects: Vec<Object>,
}

impl Inputs {
    fn find(&self, kind: &str, name: &str) -> Result<&Object, String> {
        self.objects
            .iter()
            .find(|o| o.kind == kind && o.name == name)
            .ok_or_else(|| format!("the render has no {kind} {name}"))
    }

    fn config(&self, name: &str, key: &str) -> Result<String, String> {
        self.find("ConfigMap", name)?.value["data"][key]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("ConfigMap {name} has no key {key}"))
    }

    fn secret(&self, name: &str, key: &str) -> Result<String, String> {
        let encoded = self.find("Secret", name)?.value["data"][key]
            .as_str()
            .ok_or_else(|| format!("Secret {name} has no key {key}"))?
            .to_string();
        crate::policy::base64_decode(&encoded)
            .ok_or_else(|| format!("Secret {name} key {key} is not base64 text"))
    }

    /// The env of a container, with values from the release's Secrets resolved.
    fn env(
        &self,
        kind: &str,
        name: &str,
        container: &str,
    ) -> Result<BTreeMap<String, String>, String> {
        let object = self.find(kind, name)?;
        let spec = object
            .pod_spec()
            .ok_or_else(|| format!("{kind} {name} has no pod spec"))?;
        let c = manifest::containers(spec)
            .find(|(_, c)| c["name"] == container)
            .map(|(_, c)| c)
            .ok_or_else(|| format!("{kind} {name} has no container {container}"))?;
        let mut env = BTreeMap::new();
        for var in c["env"].as_array().into_iter().flatten() {
            let key = var["name"].as_str().unwrap_or_default().to_string();
            let value = if let Some(v) = var["value"].as_str() {
                v.to_string()
            } else if let Value::Object(r) = &var["valueFrom"]["secretKeyRef"] {
                self.secret(
                    r["name"].as_str().unwrap_or_default(),
                    r["key"].as_str().unwrap_or_default(),
                )?
            } else {
                continue;
            };
            env.insert(key, value);
        }
        Ok(env)
    }
}

fn render(project: &Project) -> Result<Vec<Object>, String> {
    let tools = crate::tools::ensure().map_err(|e| e.to_string())?;
    let helm = crate::helm::Helm::all(&tools).pop().ok_or("no Helm")?;
    let mut values: Vec<PathBuf> = Vec::new();
    values.extend(project.render_pins_for(&crate::project::Scenario {
        name: "default".into(),
        values: None,
    }));
    let sets = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let overrides: String = CONTRACT_SETS
        .iter()
        .map(|s| {
            let (path, value) = s.split_once('=').unwrap_or((s, ""));
            let parts: Vec<&str> = path.split('.').collect();
            let mut yaml = String::new();
            for (depth, part) in parts.iter().enumerate() {
                let last = depth + 1 == parts.len();
                yaml.push_str(&format!(
                    "{}{part}:{}\n",
                    "  ".repeat(depth),
                    if last {
                        format!(" {value}")
                    } else {
                        String::new()
                    }
                ));
            }
            yaml
        })
        .collect();
    fs::write(sets.path(), overrides).map_err(|e| e.to_string())?;
    values.push(sets.path().to_path_buf());
    let text = helm.template(
        project,
        &values,
        *crate::tools::KUBE_MINORS.last().unwrap_or(&37),
    )?;
    manifest::parse(&text)
}

/// Installs the Debian packages that are missing and reports the versions in use.
fn install_software() -> Result<String, Error> {
    let wanted = [
        ("nginx", "nginx"),
        ("redis-server", "redis-server"),
        ("/usr/lib/postgresql/15/bin/postgres", "postgresql-15"),
        (
            "/usr/share/postgresql/15/extension/postgis.control",
            "postgresql-15-postgis-3",
        ),
        ("curl", "curl"),
    ];
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(probe, _)| {
            if probe.starts_with('/') {
                !Path::new(probe).exists()
            } else {
                !on_path(probe)
            }
        })
        .map(|(_, package)| *package)
        .collect();
    if !missing.is_empty() {
        eprintln!("installing Debian packages: {}", missing.join(" "));
        let apt = |args: &[&str]| -> Result<(), Error> {
            let status = Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(Stdio::null())
                .status()
                .context(
                    "running apt-get (the contract tests need root to install Debian packages)",
                )?;
            if status.success() {
                Ok(())
            } else {
                Err(Error::msg(format!(
                    "apt-get {} failed; install {} by hand",
                    args.join(" "),
                    missing.join(" ")
                )))
            }
        };
        apt(&["update", "-qq"])?;
        let mut install = vec!["install", "-y", "-qq"];
        install.extend(missing.iter().copied());
        apt(&install)?;
    }
    let version = |cmd: &str, args: &[&str]| -> String {
        Command::new(cmd)
            .args(args)
            .output()
            .map(|o| {
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                )
            })
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or("?")
            .trim()
            .to_string()
    };
    Ok(format!(
        "{} · {} · {} · PostGIS {}",
        version("nginx", &["-v"]),
        version("redis-server", &["--version"]),
        version("/usr/lib/postgresql/15/bin/postgres", &["--version"]),
        fs::read_to_string("/usr/share/postgresql/15/extension/postgis.control")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("default_version = "))
            .unwrap_or("?")
            .trim_matches('\'')
    ))
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

fn chmod(path: &Path, mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .context(format!("chmod {}", path.display()))
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

/// A background process killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn exec(cmd: &mut Command) -> Result<String, String> {
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

fn wait_for_port(port: u16) -> Result<(), String> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("nothing listens on 127.0.0.1:{port} after 30 s"))
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL + PostGIS: the chart's init script on a fresh cluster, then once more.

fn postgresql(inputs: &Inputs, work: &Path, step: &mut Step) {
    let result = (|| -> Result<(), String> {
        let name = format!("{RELEASE}-postgresql");
        let script = inputs.config(&format!("{name}-initdb"), "10-geonode.sh")?;
        let env = inputs.env("StatefulSet", &name, "postgresql")?;
        let dir = work.join("postgresql");
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        exec(Command::new("chown").args(["postgres:postgres"]).arg(&dir))?;
        let script_path = dir.join("10-geonode.sh");
        fs::write(&script_path, script).map_err(|e| e.to_string())?;
        let port = free_port()?;
        let as_postgres = |program: &str| {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--", program]);
            cmd
        };
        let password_file = dir.join("pwfile");
        fs::write(
            &password_file,
            env.get("POSTGRES_PASSWORD")
                .ok_or("no POSTGRES_PASSWORD in the StatefulSet")?,
        )
        .map_err(|e| e.to_string())?;
        exec(
            Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&password_file),
        )?;
        let data = dir.join("data");
        exec(
            as_postgres("/usr/lib/postgresql/15/bin/initdb")
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "-A", "scram-sha-256"])
                .arg(format!("--pwfile={}", password_file.display())),
        )?;
        let _server = Running(
            as_postgres("/usr/lib/postgresql/15/bin/postgres")
                .arg("-D")
                .arg(&data)
                .args([
                    "-p",
                    &port.to_string(),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-k",
                ])
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("starting postgres: {e}"))?,
        );
        wait_for_port(port)?;
        let init = || {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--", "sh"]).arg(&script_path);
            cmd.envs(&env)
                .env("PGHOST", "127.0.0.1")
                .env("PGPORT", port.to_string())
                .env("PGPASSWORD", &env["POSTGRES_PASSWORD"]);
            exec(&mut cmd)
        };
        let snapshot = || {
            let mut cmd = Command::new("psql");
            cmd.args(["-X", "-At", "-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres", "-d", "postgres", "-c"])
                .arg("select string_agg(rolname || ':' || rolcanlogin, ',' order by rolname) from pg_roles where rolname not like 'pg\\_%'; \
                      select string_agg(datname || ':' || pg_get_userbyid(datdba), ',' order by datname) from pg_database;")
                .env("PGPASSWORD", &env["POSTGRES_PASSWORD"]);
            exec(&mut cmd)
        };
        init().map_err(|e| format!("the chart's init script failed on a fresh cluster: {e}"))?;
        let first = snapshot()?;
        for (db, user, password) in [
            (
                "GEONODE_DATABASE",
                "GEONODE_DATABASE_USER",
                "GEONODE_DATABASE_PASSWORD",
            ),
            (
                "GEONODE_GEODATABASE",
                "GEONODE_GEODATABASE_USER",
                "GEONODE_GEODATABASE_PASSWORD",
            ),
        ] {
            let mut cmd = Command::new("psql");
            cmd.args(["-X", "-At", "-h", "127.0.0.1", "-p", &port.to_string(), "-U", &env[user], "-d", &env[db], "-c"])
                .arg("select extversion from pg_extension where extname = 'postgis'; create table contract_check(id int); drop table contract_check;")
                .env("PGPASSWORD", &env[password]);
            let out = exec(&mut cmd).map_err(|e| {
                format!(
                    "{} cannot log in to {} and create a table: {e}",
                    env[user], env[db]
                )
            })?;
            if !out.lines().next().is_some_and(|v| v.starts_with('3')) {
                return Err(format!("database {} has no PostGIS: {out}", env[db]));
            }
        }
        init().map_err(|e| format!("the chart's init script failed when run again: {e}"))?;
        let second = snapshot()?;
        if first != second {
            return Err(format!(
                "running the init script again changed roles or databases:\n{first}\n{second}"
            ));
        }
        Ok(())
    })();
    step.record(result);
    step.detail =
        "init script from the ConfigMap: users, databases, PostGIS; second run changes nothing"
            .into();
}

// ---------------------------------------------------------------------------------------------
// Redis: the chart's redis.conf and command line; the password from the Secret is required.

fn redis(inputs: &Inputs, work: &Path, step: &mut Step) {
    let result = (|| -> Result<(), String> {
        let name = format!("{RELEASE}-redis");
        let port = free_port()?;
        let dir = work.join("redis");
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let mapping = Mapping {
            hosts: vec![
                ("port 6379".into(), format!("port {port}")),
                ("bind * -::*".into(), "bind 127.0.0.1".into()),
            ],
            paths: vec![("dir /data".into(), format!("dir {}", dir.display()))],
        };
        let conf = dir.join("redis.conf");
        fs::write(
            &conf,
            mapping.apply(&inputs.config(&format!("{name}-config"), "redis.conf")?),
        )
        .map_err(|e| e.to_string())?;
        let env = inputs.env("StatefulSet", &name, "redis")?;
        let object = inputs.find("StatefulSet", &name)?;
        let container = &object.pod_spec().ok_or("no pod spec")?["containers"][0];
        let args: Vec<String> = container["args"]
            .as_array()
            .ok_or("the Redis container has no args")?
            .iter()
            .map(|a| {
                // Kubernetes expands $(VAR) from the container's env.
                let mut a = a.as_str().unwrap_or_default().to_string();
                for (k, v) in &env {
                    a = a.replace(&format!("$({k})"), v);
                }
                a.replace("/etc/redis/redis.conf", &conf.display().to_string())
            })
            .collect();
        let program = container["command"][0].as_str().unwrap_or("redis-server");
        let _server = Running(
            Command::new(program)
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("starting {program}: {e}"))?,
        );
        wait_for_port(port)?;
        let cli = |auth: Option<&str>| {
            let mut cmd = Command::new("redis-cli");
            cmd.args(["-h", "127.0.0.1", "-p", &port.to_string(), "ping"]);
            if let Some(a) = auth {
                cmd.env("REDISCLI_AUTH", a);
            }
            exec(&mut cmd).unwrap_or_else(|e| e)
        };
        let with = cli(Some(&env["REDIS_PASSWORD"]));
        let without = cli(None);
        if !with.contains("PONG") {
            return Err(format!(
                "Redis does not answer PING with the Secret's password: {with}"
            ));
        }
        if !without.contains("NOAUTH") {
            return Err(format!("Redis answers without a password: {without}"));
        }
        Ok(())
    })();
    step.record(result);
    step.detail = "chart's redis.conf and args; PING needs the Secret's password".into();
}

// ---------------------------------------------------------------------------------------------
// nginx: the chart's whole configuration, in front of recording stand-ins.

/// A stand-in HTTP server that answers 200 and records each request (method, path, headers,
/// body length) as a JSON line.
const STAND_IN_PY: &str = r#"
import http.server, json, sys
port, log = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with open(log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": len(body)}) + "\n")
        self.send_response(200); self.send_header("Content-Type", "text/plain"); self.end_headers(); self.wfile.write(b"stand-in\n")
    do_GET = do_POST = do_PUT = handle_one
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
"#;

fn nginx(inputs: &Inputs, work: &Path, step: &mut Step) {
    let dir = work.join("nginx");
    let result = (|| -> Result<(), String> {
        fs::create_dir_all(dir.join("statics/static/css")).map_err(|e| e.to_string())?;
        fs::create_dir_all(dir.join("statics/uploaded/documents")).map_err(|e| e.to_string())?;
        fs::write(dir.join("statics/static/css/site.css"), "body{}\n")
            .map_err(|e| e.to_string())?;
        fs::write(
            dir.join("statics/uploaded/documents/report.txt"),
            "uploaded\n",
        )
        .map_err(|e| e.to_string())?;
        chmod(&dir, 0o755).map_err(|e| e.to_string())?;
        let (listen, django, geoserver) = (free_port()?, free_port()?, free_port()?);
        let mapping = Mapping {
            hosts: vec![
                (service("django", 8000), format!("127.0.0.1:{django}")),
                (service("geoserver", 8080), format!("127.0.0.1:{geoserver}")),
                ("listen 8080;".into(), format!("listen 127.0.0.1:{listen};")),
            ],
            // Applied in order: /tmp/ first, since this run's folder is itself under /tmp.
            paths: vec![
                ("/tmp/".into(), format!("{}/", dir.display())),
                (
                    "/mnt/volumes/statics/".into(),
                    format!("{}/statics/", dir.display()),
                ),
            ],
        };
        let conf = dir.join("nginx.conf");
        let rendered = inputs.config(&format!("{RELEASE}-nginx-config"), "nginx.conf")?;
        let mapped = mapping.apply(&rendered);
        for (from, _) in &mapping.hosts {
            if !rendered.contains(from.as_str()) {
                return Err(format!(
                    "the rendered nginx.conf does not contain {from:?}; the upstream names changed"
                ));
            }
        }
        fs::write(&conf, mapped).map_err(|e| e.to_string())?;
        exec(Command::new("nginx").arg("-t").arg("-c").arg(&conf))
            .map_err(|e| format!("nginx -t rejects the chart's configuration: {e}"))?;
        let stand_in = |port: u16, name: &str| -> Result<Running, String> {
            Command::new("python3")
                .arg("-c")
                .arg(STAND_IN_PY)
                .arg(port.to_string())
                .arg(dir.join(format!("{name}.jsonl")))
                .spawn()
                .map(Running)
                .map_err(|e| format!("starting the {name} stand-in: {e}"))
        };
        let _django = stand_in(django, "django")?;
        let _geoserver = stand_in(geoserver, "geoserver")?;
        let _nginx = Running(
            Command::new("nginx")
                .arg("-c")
                .arg(&conf)
                .args(["-g", "daemon off;"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("starting nginx: {e}"))?,
        );
        for port in [listen, django, geoserver] {
            wait_for_port(port)?;
        }
        let curl = |args: &[&str]| -> Result<String, String> {
            exec(
                Command::new("curl")
                    .args([
                        "-s",
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code}",
                        "-H",
                        "Host: geonode.example.org",
                        "-H",
                        "X-Forwarded-Proto: https",
                    ])
                    .args(args),
            )
        };
        let base = format!("http://127.0.0.1:{listen}");
        let expect = |what: &str, got: Result<String, String>, code: &str| -> Result<(), String> {
            match got {
                Ok(c) if c.trim() == code => Ok(()),
                Ok(c) => Err(format!("{what}: HTTP {c}, expected {code}")),
                Err(e) => Err(format!("{what}: {e}")),
            }
        };
        expect(
            "GET /static/css/site.css (from the statics volume)",
            curl(&[&format!("{base}/static/css/site.css")]),
            "200",
        )?;
        expect(
            "GET /uploaded/documents/report.txt",
            curl(&[&format!("{base}/uploaded/documents/report.txt")]),
            "200",
        )?;
        expect(
            "GET /-/healthz",
            curl(&[&format!("{base}/-/healthz")]),
            "200",
        )?;
        expect(
            "GET / (proxied to Django)",
            curl(&[&format!("{base}/")]),
            "200",
        )?;
        expect(
            "GET /geoserver/ows (proxied to GeoServer)",
            curl(&[&format!("{base}/geoserver/ows?service=WMS")]),
            "200",
        )?;
        let big = dir.join("big.bin");
        fs::write(&big, vec![b'x'; MAX_BODY_BYTES + 1024]).map_err(|e| e.to_string())?;
        let upload = format!("@{}", big.display());
        expect(
            "POST over nginx.maxBodySize to /",
            curl(&[
                "-X",
                "POST",
                "--data-binary",
                &upload,
                &format!("{base}/upload/"),
            ]),
            "413",
        )?;
        let requests = fs::read_to_string(dir.join("django.jsonl")).unwrap_or_default();
        let root: Value = requests
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|r| r["path"] == "/")
            .ok_or("Django's stand-in saw no request for /")?;
        let header = |name: &str| root["headers"][name].as_str().unwrap_or("").to_string();
        if header("Host") != "geonode.example.org"
            || header("X-Forwarded-Proto") != "https"
            || header("X-Forwarded-For").is_empty()
        {
            return Err(format!(
                "forwarded headers did not reach Django as sent: {}",
                root["headers"]
            ));
        }
        if !fs::read_to_string(dir.join("geoserver.jsonl"))
            .unwrap_or_default()
            .contains("/geoserver/ows")
        {
            return Err("GeoServer's stand-in saw no /geoserver/ows request".into());
        }
        Ok(())
    })();
    step.record(result);
    step.detail = "chart's nginx.conf: nginx -t, statics, uploads, 413 over the limit, forwarded headers; GeoServer and Django are recording stand-ins".into();
}
