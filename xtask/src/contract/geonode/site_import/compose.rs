//! The site an import starts from: GeoNode configured as geonode-project's docker-compose setup
//! configures it, from upstream's own files of that release: the `.env` its `create-envfile.py`
//! writes from `.env.sample`, its settings module (geonode-project 4.4 is a template that
//! `django-admin startproject` renders, as its README says), and the tasks its `entrypoint.sh`
//! runs at a first start (`invoke migrations prepare fixtures ...`, with its `tasks.py` and
//! `manage.py`). Its services are the compose file's: the contract's PostgreSQL (databases and
//! owners as `.env` names them, PostGIS), a Redis and a memcached of its own (geonode-project
//! 4.4's broker, RabbitMQ, is on no registry here: its Celery queue goes to that Redis). Only the
//! compose network's names (db, redis or rabbitmq, memcached, geoserver) and the volumes' paths
//! are mapped to this run; `invoke update` (Docker look-ups) and cron are left out, as in the
//! bench's reference (tests/upstream/geonode-reference/README.md).

use crate::contract::geonode::venv::{self, Release};
use crate::contract::postgresql;
use crate::process::{exec, free_port, start_server, Running};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One release of geonode-project, as the contract makes a compose site of it.
pub struct Project {
    /// What the notes call it.
    pub label: &'static str,
    /// Upstream's files: a project, or a template that `django-admin startproject` renders.
    files: &'static str,
    /// The project's name, when `files` is a template.
    template_name: Option<&'static str>,
    /// What entrypoint.sh runs at a first start (no geonode_init.lock), in its order.
    tasks: &'static [&'static str],
    pub geonode: &'static Release,
}

/// geonode-project 5.1.0 (the bench's reference).
pub const PROJECT_5_1: Project = Project {
    label: "geonode-project 5.1.0",
    files: "tests/upstream/geonode-reference/geonode-project",
    template_name: None,
    tasks: &[
        "migrations",
        "prepare",
        "fixtures",
        "initialized",
        "updateadmin",
        "statics",
        "loadthesauri",
    ],
    geonode: &venv::GEONODE,
};

/// geonode-project's 4.4.x branch, rendered as its README says (`startproject ... my_geonode`).
pub const PROJECT_4_4: Project = Project {
    label: "geonode-project 4.4.x",
    files: "tests/upstream/geonode-project-4.4",
    template_name: Some("my_geonode"),
    tasks: &[
        "migrations",
        "prepare",
        "fixtures",
        "monitoringfixture",
        // "initialized" writes /mnt/volumes/statics/geonode_init.lock, a fixed path outside this
        // run (5.1.0's derives it from STATIC_ROOT): it only makes later starts skip the fixtures.
        "updateadmin",
        "statics",
    ],
    geonode: &venv::GEONODE_4_4,
};

/// The old site's address, as create-envfile.py's --hostname makes it.
pub const OLD_HOST: &str = "old-maps.example.org";
/// Where compose mounts the statics volume in the django container.
const STATICS_MOUNT: &str = "/mnt/volumes/statics";

/// The `.env` file's variables as docker compose reads an env_file: `KEY=VALUE` lines; a value in
/// single quotes is literal, in double quotes or bare has `${NAME}` replaced by an earlier
/// variable; a bare value ends at ` #` (a comment).
pub fn parse_env_file(text: &str) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        if line.starts_with('#') {
            continue;
        }
        let quote = raw.chars().next().filter(|c| *c == '"' || *c == '\'');
        let (value, literal) = match quote.and_then(|q| raw[1..].find(q).map(|end| (q, end))) {
            Some((q, end)) => (raw[1..=end].to_string(), q == '\''),
            None => (
                raw.split(" #")
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
                false,
            ),
        };
        let value = if literal {
            value
        } else {
            substitute(&value, &env)
        };
        env.insert(key.trim().to_string(), value);
    }
    env
}

/// `${NAME}` replaced by NAME's value (empty when it has none).
fn substitute(value: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 2..start + end];
        out.push_str(env.get(name).map_or("", String::as_str));
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The compose site of this run: its environment (mapped), its project folder, its volumes.
pub struct ComposeSite {
    pub env: BTreeMap<String, String>,
    /// The project's `src/` (the image's WORKDIR /usr/src/project).
    pub src: PathBuf,
    /// The statics volume (MEDIA_ROOT, ASSETS_ROOT, STATIC_ROOT are in it).
    pub statics: PathBuf,
    /// The GeoServer data directory volume.
    pub geoserver_data: PathBuf,
    /// The site's GeoNode release.
    pub geonode: &'static str,
    venv: PathBuf,
    _redis: Running,
    _memcached: Running,
}

/// The contract's servers the compose site uses.
pub struct Servers<'a> {
    pub db: u16,
    pub superuser_password: &'a str,
    pub geoserver: u16,
}

impl ComposeSite {
    /// Makes the project and its `.env`, the databases, starts Redis and memcached, and runs the
    /// entrypoint's first-start tasks. Returns the site and how long its first start took.
    pub fn make(project: &Project, work: &Path, servers: &Servers) -> Result<(Self, f64), String> {
        let venv = project.geonode.ensure().map_err(|e| e.to_string())?;
        let root = crate::project::workspace_root().join(project.files);
        let dir = work.join(format!("compose-site-{}", project.geonode.version));
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        match project.template_name {
            // geonode-project's README, "Create a project": the template's every text file rendered.
            Some(name) => exec(
                Command::new(venv.join("bin/django-admin"))
                    .arg("startproject")
                    .arg(format!("--template={}", root.display()))
                    .args(["-e", "py,sh,md,rst,json,yml,ini,env,sample,properties"])
                    .args(["-n", "monitoring-cron", "-n", "Dockerfile", name])
                    .arg(&dir),
            )
            .map(drop)?,
            None => super::copy_folder(&root, &dir)?,
        }
        let src = dir.join("src");
        // geonode-project's README: create-envfile.py writes .env beside itself, random secrets.
        exec(
            Command::new(venv.join("bin/python"))
                .arg(dir.join("create-envfile.py"))
                .args(["--noinput", "--hostname", OLD_HOST, "--env_type", "prod"]),
        )?;
        let file = fs::read_to_string(dir.join(".env")).map_err(|e| format!(".env: {e}"))?;
        let mut env = parse_env_file(&file);
        let (statics, geoserver_data, home) = (
            dir.join("volumes/statics"),
            dir.join("volumes/geoserver-data-dir"),
            dir.join("home"),
        );
        for d in [&statics, &geoserver_data, &home] {
            fs::create_dir_all(d).map_err(|e| e.to_string())?;
        }
        create_databases(&env, servers)?;
        let (redis_port, memcached_port) = (free_port()?, free_port()?);
        let redis = start_server(
            Command::new("redis-server").args([
                "--port",
                &redis_port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ]),
            "the compose site's redis",
            redis_port,
        )?;
        let memcached = start_server(
            Command::new("memcached").args([
                "-p",
                &memcached_port.to_string(),
                "-l",
                "127.0.0.1",
                "-U",
                "0",
                "-u",
                "nobody",
            ]),
            "the compose site's memcached",
            memcached_port,
        )?;
        map_compose_names(
            &mut env,
            servers,
            (redis_port, memcached_port),
            &statics,
            &home,
        )?;
        env.insert("PYTHONPATH".into(), src.display().to_string());
        // Every task's output on stdout (entrypoint.sh reads INVOKE_LOG_STDOUT so too).
        env.insert("INVOKE_LOG_STDOUT".into(), "true".into());
        let site = ComposeSite {
            env,
            src,
            statics,
            geoserver_data,
            geonode: project.geonode.version,
            venv,
            _redis: redis,
            _memcached: memcached,
        };
        let started = std::time::Instant::now();
        exec(site.command("invoke").args(project.tasks)).map_err(|e| {
            format!(
                "the compose site's first start (invoke {:?}): {e}",
                project.tasks
            )
        })?;
        Ok((site, started.elapsed().as_secs_f64()))
    }

    /// The venv of the site's GeoNode.
    pub fn venv(&self) -> &Path {
        &self.venv
    }

    /// The django container's PATH: the venv's programs first.
    pub fn path(&self) -> String {
        format!("{}:/usr/bin:/bin", self.venv.join("bin").display())
    }

    /// A program of the venv with the site's environment, in its project folder.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.venv.join("bin").join(program));
        cmd.current_dir(&self.src)
            .env_clear()
            .envs(&self.env)
            .env("PATH", self.path());
        cmd
    }

    /// What `code` printed after django.setup() with the site's settings, `args` as
    /// sys.argv[1:]; its log (the compose settings log to stderr) only when it fails.
    pub fn python(&self, code: &str, args: &[&str]) -> Result<String, String> {
        let out = self
            .command("python")
            .arg("-c")
            .arg(format!("import django; django.setup()\n{code}"))
            .args(args)
            .output()
            .map_err(|e| format!("running the compose site's python: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(format!(
                "the compose site's python failed: {stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// The datastore database's name, as `.env` gives it.
    pub fn datastore(&self) -> &str {
        self.env
            .get("GEONODE_GEODATABASE")
            .map_or("", String::as_str)
    }
}

/// The databases as geonode-project's db image makes them from `.env`: each owned by its user,
/// with PostGIS.
fn create_databases(env: &BTreeMap<String, String>, servers: &Servers) -> Result<(), String> {
    for variable in ["GEONODE_DATABASE", "GEONODE_GEODATABASE"] {
        let get = |suffix: &str| {
            env.get(&format!("{variable}{suffix}"))
                .cloned()
                .ok_or(format!("the compose site's .env has no {variable}{suffix}"))
        };
        let (db, user, password) = (get("")?, get("_USER")?, get("_PASSWORD")?);
        postgresql::psql(
            servers.db,
            "postgres",
            servers.superuser_password,
            "postgres",
            &format!(
                "create role \"{user}\" login password '{}'",
                password.replace('\'', "''")
            ),
        )?;
        postgresql::create_owned_database(servers.db, servers.superuser_password, &db, &user)?;
    }
    Ok(())
}

/// The compose network's names and the volumes' paths, as this run has them.
fn map_compose_names(
    env: &mut BTreeMap<String, String>,
    servers: &Servers,
    (redis, memcached): (u16, u16),
    statics: &Path,
    home: &Path,
) -> Result<(), String> {
    let db = format!("127.0.0.1:{}", servers.db);
    for url in ["DATABASE_URL", "GEODATABASE_URL"] {
        let value = env
            .get(url)
            .ok_or(format!("the compose site's .env has no {url}"))?;
        if !value.contains("@db:5432/") {
            return Err(format!(
                "{url} in .env does not name db:5432; the reference changed"
            ));
        }
        let mapped = value.replace("@db:5432/", &format!("@{db}/"));
        env.insert(url.into(), mapped);
    }
    let statics = statics.display().to_string();
    let mapped = [
        ("DATABASE_HOST", "127.0.0.1".to_string()),
        ("DATABASE_PORT", servers.db.to_string()),
        // The broker: compose's redis (5.x) or rabbitmq (4.4), this run's Redis.
        ("BROKER_URL", format!("redis://127.0.0.1:{redis}/0")),
        ("MEMCACHED_LOCATION", format!("127.0.0.1:{memcached}")),
        (
            "GEOSERVER_LOCATION",
            format!("http://127.0.0.1:{}/geoserver/", servers.geoserver),
        ),
        ("HOME", home.display().to_string()),
    ];
    for (key, value) in mapped {
        env.insert(key.into(), value);
    }
    // geonode-project 4.4's .env has no ASSETS_ROOT: GeoNode's default, beside MEDIA_ROOT.
    for (key, required) in [
        ("STATIC_ROOT", true),
        ("MEDIA_ROOT", true),
        ("ASSETS_ROOT", false),
    ] {
        match env.get(key) {
            Some(value) => {
                let mapped = value.replace(STATICS_MOUNT, &statics);
                env.insert(key.into(), mapped);
            }
            None if required => return Err(format!("the compose site's .env has no {key}")),
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_env_file;

    #[test]
    fn env_file_values_are_read_as_compose_reads_them() {
        let env = parse_env_file(concat!(
            "# a comment\n",
            "HOST=geoserver\n",
            "LOCATION=http://${HOST}:8080/geoserver/\n",
            "HOSTS=\"['django', 'maps.example.org']\"\n",
            "KEY='a$b ${HOST} # not a comment'\n",
            "FROM='None' # eg Company <no-reply@company.org>\n",
            "EMPTY=\n",
            "BARE=value # a comment\n",
        ));
        assert_eq!(env["LOCATION"], "http://geoserver:8080/geoserver/");
        assert_eq!(env["HOSTS"], "['django', 'maps.example.org']");
        assert_eq!(env["KEY"], "a$b ${HOST} # not a comment");
        assert_eq!(env["FROM"], "None");
        assert_eq!(env["EMPTY"], "");
        assert_eq!(env["BARE"], "value");
        assert_eq!(env.len(), 7);
    }
}
