//! One recipe per image the chart's defaults run, each reproducing what the chart relies on in
//! the official image: the user ids the chart's security contexts name, the programs its
//! commands and probes call, and the paths it mounts over or reads. Where Debian's package is
//! another version than the official image's, the recipe says so (`differences`).

use super::debian::{File, Rootfs, User};
use super::{cached_layer, Built, Config, REGISTRY};
use crate::error::{Context, Error};
use crate::project::Project;
use std::fs;
use std::path::Path;
use std::process::Command;

/// How an image's one layer is made.
pub enum Layer {
    /// A static program alone (the pod sandbox).
    Pause,
    Debian(Box<Rootfs>),
}

pub struct Recipe {
    /// The image's name under REGISTRY, and its tag.
    pub name: &'static str,
    pub tag: &'static str,
    pub layer: Layer,
    pub config: Config,
    /// Where this image differs from the official one in what the chart could notice.
    pub differences: &'static str,
}

impl Recipe {
    pub fn reference(&self) -> String {
        format!("{REGISTRY}/{}:{}", self.name, self.tag)
    }

    fn key(&self) -> Result<String, Error> {
        let layer = match &self.layer {
            Layer::Pause => include_str!("pause.c").to_string(),
            Layer::Debian(rootfs) => rootfs.key_text()?,
        };
        Ok(crate::tools::sha256_bytes(layer.as_bytes()))
    }

    /// The image's layer, built unless cached.
    pub fn build(&self) -> Result<Built, Error> {
        let key = self.key()?;
        let reference = self.reference();
        let (layer, digest, seconds) = cached_layer(self.name, &key, |out| match &self.layer {
            Layer::Pause => pause_layer(out),
            Layer::Debian(rootfs) => rootfs.build(out),
        })?;
        Ok(Built {
            reference,
            layer,
            layer_digest: digest,
            config: self.config.clone(),
            differences: self.differences,
            seconds,
        })
    }
}

pub const PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The pause program, linked statically, alone in a layer.
fn pause_layer(out: &Path) -> Result<(), Error> {
    let work = tempfile::tempdir().context("making a folder for the pause program")?;
    let source = work.path().join("pause.c");
    fs::write(&source, include_str!("pause.c")).context("writing pause.c")?;
    let root = work.path().join("root");
    fs::create_dir_all(&root).context("creating the pause root")?;
    crate::process::exec(
        Command::new("gcc")
            .args(["-static", "-Os", "-s", "-o"])
            .arg(root.join("pause"))
            .arg(&source),
    )
    .map_err(|e| Error::msg(format!("compiling pause.c (gcc, libc6-dev): {e}")))?;
    crate::process::exec(
        Command::new("tar")
            .args([
                "--numeric-owner",
                "--owner=0",
                "--group=0",
                "--mtime=@0",
                "-C",
            ])
            .arg(&root)
            .arg("-cf")
            .arg(out)
            .arg("pause"),
    )
    .map_err(Error::msg)?;
    Ok(())
}

pub fn pause() -> Recipe {
    Recipe {
        name: "pause",
        tag: "1",
        layer: Layer::Pause,
        config: Config {
            entrypoint: vec!["/pause".into()],
            ..Config::default()
        },
        differences: "the harness's own pause program (Kubernetes' is C too: hold the namespaces, reap, end on SIGTERM)",
    }
}

fn debian(
    packages: &[&'static str],
    users: Vec<User>,
    files: Vec<File>,
    commands: &[&str],
) -> Layer {
    Layer::Debian(Box::new(Rootfs {
        packages: packages.iter().map(|p| p.to_string()).collect(),
        users,
        trees: Vec::new(),
        files,
        zips: Vec::new(),
        commands: commands.iter().map(|c| c.to_string()).collect(),
    }))
}

/// nginx:<version>-alpine: user nginx 101:101, logs to the container's output.
pub fn nginx() -> Recipe {
    Recipe {
        name: "nginx",
        tag: "1.22-bookworm",
        layer: debian(
            &["nginx"],
            vec![User {
                name: "nginx",
                uid: 101,
                group: "nginx",
                gid: 101,
                home: "/nonexistent",
            }],
            Vec::new(),
            // As the official image: its logs are the container's output.
            &["ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log"],
        ),
        config: Config {
            env: vec![PATH.into()],
            cmd: vec!["nginx".into(), "-g".into(), "daemon off;".into()],
            stop_signal: Some("SIGQUIT"),
            ..Config::default()
        },
        differences: "Debian's nginx 1.22 (the chart pins 1.30); its compiled-in temp and pid paths are under /var/lib/nginx and /run, which the chart's nginx.conf sets to /tmp",
    }
}

/// redis:<version>-alpine: user redis 999 in group redis 1000, /data its working folder.
pub fn redis() -> Recipe {
    Recipe {
        name: "redis",
        tag: "7.0-bookworm",
        layer: debian(
            &["redis-server", "redis-tools"],
            vec![User {
                name: "redis",
                uid: 999,
                group: "redis",
                gid: 1000,
                home: "/data",
            }],
            Vec::new(),
            &["mkdir -p /data && chown redis:redis /data"],
        ),
        config: Config {
            env: vec![PATH.into()],
            cmd: vec!["redis-server".into()],
            working_dir: Some("/data"),
            ..Config::default()
        },
        differences: "Debian's Redis 7.0 (the chart pins 7.4)",
    }
}

/// postgis/postgis:15-3.5-alpine, which is postgres:15-alpine with PostGIS: user postgres
/// 70:70, PGDATA, the binaries on PATH, the official entrypoint (vendored), a sample
/// configuration that listens on every address, STOPSIGNAL SIGINT. Built like the official
/// Debian variant (PGDG's packages there, Debian's here).
pub fn postgis(project: &Project) -> Result<Recipe, Error> {
    let upstream = project.root.join("tests/upstream/docker-library-postgres");
    let entrypoint = fs::read(upstream.join("docker-entrypoint.sh"))
        .context(format!("reading {}", upstream.display()))?;
    Ok(Recipe {
        name: "postgis",
        tag: "15-3.3-bookworm",
        layer: debian(
            &["postgresql-15", "postgresql-15-postgis-3", "locales"],
            vec![User {
                name: "postgres",
                uid: 70,
                group: "postgres",
                gid: 70,
                home: "/var/lib/postgresql",
            }],
            vec![File {
                path: "/usr/local/bin/docker-entrypoint.sh".into(),
                mode: 0o755,
                bytes: entrypoint,
            }],
            &[
                // Debian's package makes a cluster at install; the official image turns that off.
                "rm -rf /var/lib/postgresql/15 /etc/postgresql/15",
                "localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8",
                "sed -ri \"s!^#?(listen_addresses)\\s*=\\s*\\S+.*!\\1 = '*'!\" /usr/share/postgresql/15/postgresql.conf.sample",
                "grep -F \"listen_addresses = '*'\" /usr/share/postgresql/15/postgresql.conf.sample",
                "install --directory --owner postgres --group postgres --mode 3777 /var/run/postgresql",
                "mkdir -p /docker-entrypoint-initdb.d",
                "install --directory --owner postgres --group postgres --mode 1777 /var/lib/postgresql/data",
            ],
        ),
        config: Config {
            env: vec![
                format!("{PATH}:/usr/lib/postgresql/15/bin"),
                "LANG=en_US.utf8".into(),
                "PG_MAJOR=15".into(),
                "PGDATA=/var/lib/postgresql/data".into(),
            ],
            entrypoint: vec!["docker-entrypoint.sh".into()],
            cmd: vec!["postgres".into()],
            stop_signal: Some("SIGINT"),
            ..Config::default()
        },
        differences: "Debian's PostgreSQL 15 with PostGIS 3.3 (the chart's image has PostGIS 3.5), glibc instead of musl",
    })
}
