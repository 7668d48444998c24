//! GeoNode's containers as local processes: the chart's env and commands, mapped to this run.

use crate::contract::inputs::{require, service, Inputs, Mapping};
use crate::contract::nginx::{expect, http_status};
use crate::contract::redis::RedisPorts;
use crate::manifest;
use crate::process::{exec, free_port, start_container, Running};
use crate::project::{NAMESPACE, RELEASE};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The number a command's `--<name>=N` option gives (uwsgi's processes, Celery's concurrency).
pub fn number_option(argv: &[String], name: &str) -> Result<usize, String> {
    let prefix = format!("--{name}=");
    argv.iter()
        .find_map(|a| a.strip_prefix(&prefix)?.parse().ok())
        .ok_or(format!("the command {argv:?} has no {prefix}N"))
}

/// The JSON a program printed on its last line (GeoNode's own output may come before it).
pub fn last_json(out: &str) -> Result<Value, String> {
    serde_json::from_str(out.trim().lines().last().unwrap_or_default())
        .map_err(|e| format!("{e}: {out}"))
}

/// GeoNode's environment as the chart renders it for one container, with the in-cluster
/// addresses and container paths mapped to this run.
#[derive(Clone)]
pub struct GeoNodeRun {
    pub venv: PathBuf,
    pub env: BTreeMap<String, String>,
    /// Where the chart's /etc/geonode-k8s and /mnt/volumes/statics are in this run.
    pub config: PathBuf,
    pub statics: PathBuf,
    pub mapping: Mapping,
}

impl GeoNodeRun {
    pub fn new(
        inputs: &Inputs,
        work: &Path,
        venv: PathBuf,
        db: u16,
        redis: RedisPorts,
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
        super::project::write(&src)?;
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
                (
                    super::project::PROJECT_DIR.into(),
                    src.display().to_string(),
                ),
            ],
        };
        let mut env = BTreeMap::new();
        for (k, v) in inputs.env("Deployment", &format!("{RELEASE}-django"), "django")? {
            env.insert(k, mapping.apply(&v));
        }
        require(
            &env,
            "django",
            &["SITEURL", "SECRET_KEY", "DATABASE_HOST", "REDIS_HOST"],
        )?;
        // Each container gets only the credentials it uses: these are the init Job's alone.
        for init_only in ["ADMIN_PASSWORD", "OAUTH2_CLIENT_ID", "OAUTH2_CLIENT_SECRET"] {
            if env.contains_key(init_only) {
                return Err(format!(
                    "the django container gets {init_only}, which only the init Job uses"
                ));
            }
        }
        // Ports of the local servers, and a HOME of this run.
        env.insert("DATABASE_PORT".into(), db.to_string());
        env.insert("REDIS_PORT".into(), redis.broker.to_string());
        // Django's shared cache (redis.cache): the cache's redis-server of this run.
        if env.contains_key("GEONODE_K8S_CACHE_PORT") {
            env.insert("GEONODE_K8S_CACHE_PORT".into(), redis.cache.to_string());
        }
        env.insert("HOME".into(), home.display().to_string());
        Ok(GeoNodeRun {
            venv,
            env,
            config,
            statics,
            mapping,
        })
    }

    /// The same run with another container's environment added (mapped), e.g. the init Job's.
    pub fn with_env_of(
        &self,
        inputs: &Inputs,
        kind: &str,
        name: &str,
        container: &str,
    ) -> Result<GeoNodeRun, String> {
        let mut run = self.clone();
        for (k, v) in inputs.env(kind, name, container)? {
            run.env.entry(k).or_insert_with(|| self.mapping.apply(&v));
        }
        Ok(run)
    }

    /// The same run with one variable set, e.g. the port of a server of this run.
    pub fn with_var(&self, name: &str, value: &str) -> GeoNodeRun {
        let mut run = self.clone();
        run.env.insert(name.into(), value.into());
        run
    }

    /// A command of the chart's pod spec, mapped: the program from the venv, paths of this run.
    pub fn command(&self, argv: &[String]) -> Command {
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

    /// A Django "pod": the Deployment's uwsgi command on a port of this run, its output in the
    /// container log `name`; returned once /api/v2/ answers 200 (uwsgi loads the application in
    /// its workers), with its port.
    pub fn start_django(&self, inputs: &Inputs, name: &str) -> Result<(Running, u16), String> {
        let port = free_port()?;
        let mut argv = inputs.command("Deployment", &format!("{RELEASE}-django"), "django")?;
        for a in argv.iter_mut() {
            if a.starts_with("--http-socket=") {
                *a = format!("--http-socket=127.0.0.1:{port}");
            }
        }
        let running = start_container(&mut self.command(&argv), name, port)?;
        let (host, url) = (self.site_host(), format!("http://127.0.0.1:{port}/api/v2/"));
        let started = Instant::now();
        while expect("GET /api/v2/", http_status(&host, &["-L", &url]), "200").is_err() {
            if started.elapsed() > Duration::from_secs(90) {
                return Err(format!(
                    "{name}: GET /api/v2/ did not answer 200 within 90 s"
                ));
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        Ok((running, port))
    }

    /// The Celery worker Deployment's command, its output in `log`.
    pub fn start_worker(&self, inputs: &Inputs, log: &Path) -> Result<Running, String> {
        let argv = inputs.command(
            "Deployment",
            &format!("{RELEASE}-celery-worker"),
            "celery-worker",
        )?;
        let out = fs::File::create(log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        Running::spawn(self.command(&argv).stdout(out).stderr(err))
            .map_err(|e| format!("starting the worker: {e}"))
    }

    /// The site's host name (SITEURL's, without scheme, port or path): the Host of requests.
    pub fn site_host(&self) -> String {
        let url = self.env.get("SITEURL").map_or("", String::as_str);
        url.split("://")
            .nth(1)
            .and_then(|rest| rest.split(['/', ':']).next())
            .unwrap_or("localhost")
            .to_string()
    }

    /// `script` with GeoNode's settings and `args` as its sys.argv[1:]: the JSON it printed last.
    pub fn python_json(&self, script: &str, args: &[&str]) -> Result<Value, String> {
        let argv = serde_json::to_string(&[&[""][..], args].concat()).map_err(|e| e.to_string())?;
        last_json(&self.python(&format!("import sys; sys.argv = {argv}\n{script}"))?)
    }

    /// Python with GeoNode's settings: the output of `code`.
    pub fn python(&self, code: &str) -> Result<String, String> {
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
