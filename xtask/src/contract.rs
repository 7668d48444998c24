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
use std::os::unix::process::CommandExt;
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
        let (mut database, mut broker) = (None, None);
        report.step("postgresql", |step| {
            database = postgresql(&inputs, work.path(), step)
        });
        report.step("redis", |step| broker = redis(&inputs, work.path(), step));
        report.step("nginx", |step| nginx(&inputs, work.path(), step));
        if let (Some(database), Some(broker)) = (&database, &broker) {
            geonode(
                &inputs,
                work.path(),
                database.port,
                broker.port,
                &mut report,
            );
        }
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

/// Fails, naming the container and the variable, unless `env` has every one of `names`.
fn require(env: &BTreeMap<String, String>, container: &str, names: &[&str]) -> Result<(), String> {
    match names.iter().find(|n| !env.contains_key(**n)) {
        None => Ok(()),
        Some(missing) => Err(format!(
            "the {container} container's environment has no {missing}, which it needs"
        )),
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
    crate::cluster::free_port().map_err(|e| e.to_string())
}

/// A background process killed on drop.
/// A background process in a process group of its own; dropping it kills the whole group, so
/// forked workers (uwsgi's, Celery's pool) go with it.
struct Running(Child);

impl Running {
    fn spawn(cmd: &mut Command) -> std::io::Result<Running> {
        cmd.process_group(0).spawn().map(Running)
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

/// Starts a server with its output discarded and waits until it listens on `port`.
fn start_server(cmd: &mut Command, what: &str, port: u16) -> Result<Running, String> {
    let running = Running::spawn(cmd.stdout(Stdio::null()).stderr(Stdio::null()))
        .map_err(|e| format!("starting {what}: {e}"))?;
    wait_for_port(port)?;
    Ok(running)
}

fn wait_for_port(port: u16) -> Result<(), String> {
    crate::cluster::wait_for_port(port, Duration::from_secs(30)).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL + PostGIS: the chart's init script on a fresh cluster, then once more.

/// A server left running for the parts after it.
struct Server {
    port: u16,
    _process: Running,
}

/// The environment variables naming GeoNode's two databases: (database, owner, owner's password).
const DATABASE_VARIABLES: [(&str, &str, &str); 2] = [
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
];

fn postgresql(inputs: &Inputs, work: &Path, step: &mut Step) -> Option<Server> {
    let result = (|| -> Result<Server, String> {
        let name = format!("{RELEASE}-postgresql");
        let script = inputs.config(&format!("{name}-initdb"), "10-geonode.sh")?;
        let env = inputs.env("StatefulSet", &name, "postgresql")?;
        let mut needed = vec!["POSTGRES_PASSWORD"];
        needed.extend(
            DATABASE_VARIABLES
                .iter()
                .flat_map(|(db, user, password)| [*db, *user, *password]),
        );
        require(&env, "postgresql", &needed)?;
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
        let server = start_server(
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
                .arg(&dir),
            "postgres",
            port,
        )?;
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
        for (db, user, password) in DATABASE_VARIABLES {
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
        Ok(Server {
            port,
            _process: server,
        })
    })();
    step.detail =
        "init script from the ConfigMap: users, databases, PostGIS; second run changes nothing"
            .into();
    keep_running(result, step)
}

fn keep_running(result: Result<Server, String>, step: &mut Step) -> Option<Server> {
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

// ---------------------------------------------------------------------------------------------
// Redis: the chart's redis.conf and command line; the password from the Secret is required.

fn redis(inputs: &Inputs, work: &Path, step: &mut Step) -> Option<Server> {
    let result = (|| -> Result<Server, String> {
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
        require(&env, "redis", &["REDIS_PASSWORD"])?;
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
        let server = start_server(Command::new(program).args(&args), program, port)?;
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
        Ok(Server {
            port,
            _process: server,
        })
    })();
    step.detail = "chart's redis.conf and args; PING needs the Secret's password".into();
    keep_running(result, step)
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

/// The chart's nginx.conf with its upstreams, port and paths mapped to this run, checked with
/// `nginx -t` and started. `statics` is the folder behind /static/ and /uploaded/.
fn start_nginx(
    inputs: &Inputs,
    dir: &Path,
    statics: &Path,
    django: u16,
    geoserver: u16,
) -> Result<(Running, u16), String> {
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    chmod(dir, 0o755).map_err(|e| e.to_string())?;
    let listen = free_port()?;
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
                format!("{}/", statics.display()),
            ),
        ],
    };
    let conf = dir.join("nginx.conf");
    let rendered = inputs.config(&format!("{RELEASE}-nginx-config"), "nginx.conf")?;
    for (from, _) in &mapping.hosts {
        if !rendered.contains(from.as_str()) {
            return Err(format!(
                "the rendered nginx.conf does not contain {from:?}; the upstream names changed"
            ));
        }
    }
    fs::write(&conf, mapping.apply(&rendered)).map_err(|e| e.to_string())?;
    exec(Command::new("nginx").arg("-t").arg("-c").arg(&conf))
        .map_err(|e| format!("nginx -t rejects the chart's configuration: {e}"))?;
    let nginx = start_server(
        Command::new("nginx")
            .arg("-c")
            .arg(&conf)
            .args(["-g", "daemon off;"]),
        "nginx",
        listen,
    )?;
    Ok((nginx, listen))
}

/// A recording stand-in on `port`, its requests in `<dir>/<name>.jsonl`.
fn stand_in(dir: &Path, port: u16, name: &str) -> Result<Running, String> {
    let running = Command::new("python3")
        .arg("-c")
        .arg(STAND_IN_PY)
        .arg(port.to_string())
        .arg(dir.join(format!("{name}.jsonl")))
        .process_group(0)
        .spawn()
        .map(Running)
        .map_err(|e| format!("starting the {name} stand-in: {e}"))?;
    wait_for_port(port)?;
    Ok(running)
}

/// `curl` with the given Host: the HTTP status code.
fn http_status(host: &str, args: &[&str]) -> Result<String, String> {
    exec(
        Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-H",
                &format!("Host: {host}"),
                "-H",
                "X-Forwarded-Proto: https",
            ])
            .args(args),
    )
}

fn expect(what: &str, got: Result<String, String>, code: &str) -> Result<(), String> {
    match got {
        Ok(c) if c.trim() == code => Ok(()),
        Ok(c) => Err(format!("{what}: HTTP {c}, expected {code}")),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

fn nginx(inputs: &Inputs, work: &Path, step: &mut Step) {
    let dir = work.join("nginx");
    let result = (|| -> Result<(), String> {
        let statics = dir.join("statics");
        fs::create_dir_all(statics.join("static/css")).map_err(|e| e.to_string())?;
        fs::create_dir_all(statics.join("uploaded/documents")).map_err(|e| e.to_string())?;
        fs::write(statics.join("static/css/site.css"), "body{}\n").map_err(|e| e.to_string())?;
        fs::write(statics.join("uploaded/documents/report.txt"), "uploaded\n")
            .map_err(|e| e.to_string())?;
        let (django, geoserver) = (free_port()?, free_port()?);
        let _django = stand_in(&dir, django, "django")?;
        let _geoserver = stand_in(&dir, geoserver, "geoserver")?;
        let (_nginx, listen) = start_nginx(inputs, &dir, &statics, django, geoserver)?;
        let curl = |args: &[&str]| http_status("geonode.example.org", args);
        let base = format!("http://127.0.0.1:{listen}");
        for (what, path) in [
            (
                "GET /static/css/site.css (from the statics volume)",
                "/static/css/site.css",
            ),
            (
                "GET /uploaded/documents/report.txt",
                "/uploaded/documents/report.txt",
            ),
            ("GET /-/healthz", "/-/healthz"),
            ("GET / (proxied to Django)", "/"),
            (
                "GET /geoserver/ows (proxied to GeoServer)",
                "/geoserver/ows?service=WMS",
            ),
        ] {
            expect(what, curl(&[&format!("{base}{path}")]), "200")?;
        }
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

// ---------------------------------------------------------------------------------------------
// GeoNode itself: the geonode release of the chart's appVersion line, in a venv.

const GEONODE_WHEEL: &str = "geonode==5.1.1";
const GEONODE_WHEEL_SHA256: &str =
    "00edf4cdfdbca7eaaef9a2f36e383a95eb87fef96060b8577977987b9ef52194";

/// Installs geonode into a cached venv and returns the venv. geonode pins GDAL==3.8.4, an
/// sdist needing libgdal >= 3.8.4; Debian bookworm has 3.6.2. So the venv is made from Debian's
/// own python3 with --system-site-packages and uses Debian's python3-gdal, every other
/// requirement comes from geonode's metadata (test-only packages left out), and geonode itself
/// is installed without dependencies. Django's GIS layer loads libgdal on its own.
fn ensure_geonode_venv() -> Result<PathBuf, Error> {
    let venv = crate::tools::cache_dir().join("geonode-5.1.1-venv");
    let stamp = venv.join(".complete");
    if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == GEONODE_WHEEL_SHA256) {
        return Ok(venv);
    }
    let debian = [
        "python3-gdal",
        "python3-dev",
        "python3-venv",
        "build-essential",
        "libpq-dev",
    ];
    let missing: Vec<&str> = debian
        .iter()
        .copied()
        .filter(|p| {
            !Command::new("dpkg")
                .args(["-s", p])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if !missing.is_empty() {
        let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
        install.extend(missing.iter().copied());
        exec(
            Command::new("apt-get")
                .args(&install)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
        .map_err(Error::msg)?;
    }
    if venv.exists() {
        fs::remove_dir_all(&venv).context(format!("removing the incomplete {}", venv.display()))?;
    }
    eprintln!(
        "installing {GEONODE_WHEEL} into {} (about two minutes)",
        venv.display()
    );
    // Debian's python3, not one earlier on PATH: only it sees python3-gdal.
    exec(
        Command::new("/usr/bin/python3")
            .args(["-m", "venv", "--system-site-packages"])
            .arg(&venv),
    )
    .map_err(Error::msg)?;
    let pip = venv.join("bin/pip");
    let download = venv.join("download");
    exec(
        Command::new(&pip)
            .args(["download", "-q", "--no-deps", "-d"])
            .arg(&download)
            .arg(GEONODE_WHEEL),
    )
    .map_err(Error::msg)?;
    let wheel = fs::read_dir(&download)
        .context("listing the geonode download")?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .ok_or_else(|| Error::msg("pip downloaded no geonode wheel"))?;
    crate::tools::verify_sha256(&wheel, GEONODE_WHEEL_SHA256)?;
    let requirements = venv.join("requirements.txt");
    exec(
        Command::new(venv.join("bin/python"))
            .arg("-c")
            .arg(REQUIREMENTS_PY)
            .arg(&wheel)
            .arg(&requirements),
    )
    .map_err(Error::msg)?;
    exec(
        Command::new(&pip)
            .args(["install", "-q", "-r"])
            .arg(&requirements),
    )
    .map_err(Error::msg)?;
    exec(
        Command::new(&pip)
            .args(["install", "-q", "--no-deps"])
            .arg(&wheel),
    )
    .map_err(Error::msg)?;
    fs::write(&stamp, GEONODE_WHEEL_SHA256).context(format!("writing {}", stamp.display()))?;
    Ok(venv)
}

/// geonode's runtime requirements from its wheel: extras, GDAL (Debian's bindings serve) and
/// test-only packages left out.
const REQUIREMENTS_PY: &str = r#"
import re, sys, zipfile
wheel, out = sys.argv[1:3]
test_only = {"gdal", "coverage", "flake8", "black", "pytest", "pytest-bdd", "splinter", "pytest-splinter",
             "pytest-django", "pixelmatch", "factory-boy", "flaky", "selenium", "selenium-requests", "webdriver-manager"}
with zipfile.ZipFile(wheel) as z:
    meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    lines = z.read(meta).decode().splitlines()
reqs = [l.split(": ", 1)[1] for l in lines if l.startswith("Requires-Dist: ")]
keep = [r for r in reqs if "extra ==" not in r
        and re.split(r"[ =<>!~;\[]", r, 1)[0].lower().replace("_", "-") not in test_only]
open(out, "w").write("\n".join(keep) + "\n")
"#;

/// GeoNode's environment as the chart renders it for one container, with the in-cluster
/// addresses and container paths mapped to this run.
struct GeoNodeRun {
    venv: PathBuf,
    env: BTreeMap<String, String>,
    /// Where the chart's /etc/geonode-k8s and /mnt/volumes/statics are in this run.
    config: PathBuf,
    statics: PathBuf,
    mapping: Mapping,
}

impl GeoNodeRun {
    fn new(
        inputs: &Inputs,
        work: &Path,
        venv: PathBuf,
        db: u16,
        redis: u16,
        geoserver: u16,
    ) -> Result<Self, String> {
        let dir = work.join("geonode");
        let (config, statics, home, src) = (
            dir.join("etc-geonode-k8s"),
            dir.join("statics"),
            dir.join("home"),
            dir.join("src"),
        );
        for d in [&config, &statics, &home, &src] {
            fs::create_dir_all(d).map_err(|e| e.to_string())?;
        }
        // The ConfigMap's files, as the pods mount them.
        let configmap = inputs.find("ConfigMap", &format!("{RELEASE}-django-config"))?;
        for (name, text) in manifest::string_map(&configmap.value["data"]) {
            fs::write(config.join(name), text).map_err(|e| e.to_string())?;
        }
        let mapping = Mapping {
            hosts: vec![
                (
                    format!("{RELEASE}-postgresql.{NAMESPACE}.svc"),
                    "127.0.0.1".into(),
                ),
                (
                    format!("{RELEASE}-redis.{NAMESPACE}.svc"),
                    "127.0.0.1".into(),
                ),
                (service("geoserver", 8080), format!("127.0.0.1:{geoserver}")),
            ],
            paths: vec![
                ("/etc/geonode-k8s".into(), config.display().to_string()),
                (
                    "/mnt/volumes/statics/".into(),
                    format!("{}/", statics.display()),
                ),
                ("/usr/src/geonode".into(), src.display().to_string()),
            ],
        };
        let mut env = BTreeMap::new();
        for (k, v) in inputs.env("Deployment", &format!("{RELEASE}-django"), "django")? {
            env.insert(k, mapping.apply(&v));
        }
        require(
            &env,
            "django",
            &[
                "SITEURL",
                "OAUTH2_CLIENT_ID",
                "OAUTH2_CLIENT_SECRET",
                "ADMIN_PASSWORD",
                "SECRET_KEY",
                "DATABASE_HOST",
                "REDIS_HOST",
            ],
        )?;
        // Ports of the local servers, and a HOME of this run.
        env.insert("DATABASE_PORT".into(), db.to_string());
        env.insert("REDIS_PORT".into(), redis.to_string());
        env.insert("HOME".into(), home.display().to_string());
        Ok(GeoNodeRun {
            venv,
            env,
            config,
            statics,
            mapping,
        })
    }

    /// A command of the chart's pod spec, mapped: the program from the venv, paths of this run.
    fn command(&self, argv: &[String]) -> Command {
        let mapped: Vec<String> = argv.iter().map(|a| self.mapping.apply(a)).collect();
        let program = self.venv.join("bin").join(&mapped[0]);
        let mut cmd = Command::new(program);
        cmd.args(&mapped[1..]).env_clear().envs(&self.env);
        cmd.env(
            "PATH",
            format!("{}:/usr/bin:/bin", self.venv.join("bin").display()),
        );
        // uwsgi takes options from UWSGI_* variables: the venv of this run.
        cmd.env("UWSGI_VIRTUALENV", &self.venv);
        cmd
    }

    /// Python with GeoNode's settings: the output of `code`.
    fn python(&self, code: &str) -> Result<String, String> {
        exec(
            self.command(&[
                "python".into(),
                "-c".into(),
                format!("import django; django.setup()\n{code}"),
            ])
            .current_dir(&self.config),
        )
    }
}

fn container_command(
    inputs: &Inputs,
    kind: &str,
    name: &str,
    container: &str,
) -> Result<Vec<String>, String> {
    let object = inputs.find(kind, name)?;
    let spec = object.pod_spec().ok_or("no pod spec")?;
    let c = manifest::containers(spec)
        .find(|(_, c)| c["name"] == container)
        .map(|(_, c)| c)
        .ok_or_else(|| format!("{kind} {name} has no container {container}"))?;
    Ok(c["command"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(c["args"].as_array().into_iter().flatten())
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect())
}

fn geonode(inputs: &Inputs, work: &Path, db: u16, redis: u16, report: &mut Report) {
    let mut venv = None;
    report.step("geonode-venv", |step| match ensure_geonode_venv() {
        Ok(v) => {
            step.passed += 1;
            let versions = exec(Command::new(v.join("bin/python")).arg("-c").arg(
                "import django, celery, osgeo; print('Django', django.get_version(), '· Celery', celery.__version__, '· GDAL', osgeo.__version__)",
            ))
            .unwrap_or_default();
            step.detail = format!("{GEONODE_WHEEL} (sha256-checked wheel) · {} · Debian python3", versions.trim());
            venv = Some(v);
        }
        Err(e) => step.fail(e.to_string()),
    });
    let Some(venv) = venv else { return };
    let geoserver_port = match free_port() {
        Ok(p) => p,
        Err(e) => return report.step("geonode-init", |step| step.fail(e)),
    };
    let gs_dir = work.join("geoserver-stand-in");
    let _ = fs::create_dir_all(&gs_dir);
    let _geoserver = stand_in(&gs_dir, geoserver_port, "geoserver");
    let run = match GeoNodeRun::new(inputs, work, venv, db, redis, geoserver_port) {
        Ok(r) => r,
        Err(e) => return report.step("geonode-init", |step| step.fail(e)),
    };
    let job = format!("{RELEASE}-init-");
    let init = inputs
        .objects
        .iter()
        .find(|o| o.kind == "Job" && o.name.starts_with(&job))
        .map(|o| o.name.clone())
        .ok_or_else(|| "the render has no init Job".to_string())
        .and_then(|name| container_command(inputs, "Job", &name, "init"));

    report.step("geonode-init", |step| {
        let result = (|| -> Result<(), String> {
            let init = init.clone()?;
            exec(&mut run.command(&init)).map_err(|e| format!("the init Job's command failed on new databases: {e}"))?;
            let facts = run.python(CHECK_SITE_PY).map_err(|e| format!("checking the site after the init Job: {e}"))?;
            let facts: Value = serde_json::from_str(facts.lines().last().unwrap_or("")).map_err(|e| format!("{e}: {facts}"))?;
            if facts["admin_login"] != true {
                return Err("admin does not log in with the chart's password".into());
            }
            if facts["oauth_client_id"] != run.env["OAUTH2_CLIENT_ID"].as_str() {
                return Err(format!("the OAuth2 application has client id {}, not the chart's", facts["oauth_client_id"]));
            }
            let redirect = format!("{}geoserver/index.html", run.env["SITEURL"]);
            if facts["oauth_redirect"] != redirect.as_str() {
                return Err(format!("the OAuth2 redirect URI is {}, not {redirect}", facts["oauth_redirect"]));
            }
            let collected = walk_count(&run.statics.join("static"));
            if collected < 100 {
                return Err(format!("collectstatic put {collected} files into the statics folder"));
            }
            step.notes.push(format!("first run: admin logs in, OAuth2 application as the chart says, {collected} static files"));
            // What a user may change must survive the Job running again.
            run.python("from django.contrib.auth import get_user_model\nu = get_user_model().objects.get(username='admin'); u.set_password('changed-by-a-user-1'); u.save()")?;
            exec(&mut run.command(&init)).map_err(|e| format!("the init Job's command failed when run again: {e}"))?;
            let again = run.python("from django.contrib.auth import authenticate\nprint(authenticate(username='admin', password='changed-by-a-user-1') is not None)")?;
            if again.trim().lines().last() != Some("True") {
                return Err("running the init Job again reset the admin password a user had changed".into());
            }
            Ok(())
        })();
        step.record(result);
        step.detail = "init Job's command: both databases migrated, fixtures, OAuth2 app, collectstatic; a second run keeps what users changed".into();
    });

    report.step("django-behind-nginx", |step| {
        let result = (|| -> Result<(), String> {
            let uwsgi_port = free_port()?;
            let mut argv =
                container_command(inputs, "Deployment", &format!("{RELEASE}-django"), "django")?;
            for a in argv.iter_mut() {
                if a.starts_with("--http-socket=") {
                    *a = format!("--http-socket=127.0.0.1:{uwsgi_port}");
                }
            }
            fs::create_dir_all(run.config.parent().unwrap_or(work).join("src"))
                .map_err(|e| e.to_string())?;
            let _uwsgi = start_server(&mut run.command(&argv), "uwsgi", uwsgi_port)?;
            let (_nginx, listen) = start_nginx(
                inputs,
                &work.join("nginx-django"),
                &run.statics,
                uwsgi_port,
                geoserver_port,
            )?;
            let host = run.env["SITEURL"]
                .split("://")
                .nth(1)
                .unwrap_or("")
                .trim_end_matches('/')
                .split(':')
                .next()
                .unwrap_or("")
                .to_string();
            let base = format!("http://127.0.0.1:{listen}");
            let started = Instant::now();
            // uwsgi loads the application in its workers; give it a moment.
            while expect("GET /", http_status(&host, &[&format!("{base}/")]), "200").is_err()
                && started.elapsed() < Duration::from_secs(60)
            {
                std::thread::sleep(Duration::from_secs(1));
            }
            expect(
                "GET / through nginx to Django",
                http_status(&host, &[&format!("{base}/")]),
                "200",
            )?;
            expect(
                "GET /api/v2/ through nginx to Django",
                http_status(&host, &["-L", &format!("{base}/api/v2/")]),
                "200",
            )?;
            let css =
                walk_first(&run.statics.join("static"), ".css").ok_or("no collected .css file")?;
            let url = format!(
                "{base}/static/{}",
                css.strip_prefix(run.statics.join("static"))
                    .map_err(|e| e.to_string())?
                    .display()
            );
            expect(
                "GET a collected static file",
                http_status(&host, &[&url]),
                "200",
            )?;
            Ok(())
        })();
        step.record(result);
        step.detail =
            "the Deployment's uwsgi command behind the chart's nginx: /, /api/v2/, /static/".into();
    });

    report.step("celery", |step| {
        let result = (|| -> Result<(), String> {
            let argv = container_command(inputs, "Deployment", &format!("{RELEASE}-celery-worker"), "celery-worker")?;
            let log_path = work.join("celery-worker.log");
            let log = fs::File::create(&log_path).map_err(|e| e.to_string())?;
            let log_err = log.try_clone().map_err(|e| e.to_string())?;
            let _worker = Running::spawn(run.command(&argv).stdout(log).stderr(log_err)).map_err(|e| format!("starting the worker: {e}"))?;
            // GeoNode routes its tasks to named queues ("default" and others) the worker consumes.
            let out = run.python(
                "from geonode.celery_app import app\nr = app.send_task('celery.accumulate', args=(42,), queue='default')\nprint(r.get(timeout=120))",
            );
            let tail = || fs::read_to_string(&log_path).unwrap_or_default().lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
            match out {
                Ok(o) if o.trim().lines().last() == Some("[42]") => {}
                Ok(o) => return Err(format!("the worker did not run the task Django queued ({o}); its log:\n{}", tail())),
                Err(e) => return Err(format!("queuing a task from Django failed: {}; the worker's log:\n{}", e.lines().last().unwrap_or(""), tail())),
            }
            Ok(())
        })();
        step.record(result);
        step.detail = "the worker Deployment's command on Redis runs a task queued from Django".into();
    });
}

const CHECK_SITE_PY: &str = r#"
import json, os
from django.contrib.auth import authenticate
from oauth2_provider.models import get_application_model
app = get_application_model().objects.get(name="GeoServer")
print(json.dumps({
    "admin_login": authenticate(username="admin", password=os.environ["ADMIN_PASSWORD"]) is not None,
    "oauth_client_id": app.client_id,
    "oauth_redirect": app.redirect_uris,
}))
"#;

fn walk_count(dir: &Path) -> usize {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            if e.path().is_dir() {
                walk_count(&e.path())
            } else {
                1
            }
        })
        .sum()
}

fn walk_first(dir: &Path, suffix: &str) -> Option<PathBuf> {
    for entry in fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = walk_first(&path, suffix) {
                return Some(found);
            }
        } else if path.to_string_lossy().ends_with(suffix) {
            return Some(path);
        }
    }
    None
}
