//! GeoServer, which is on no registry reachable here: the chart's seed and start scripts, as
//! rendered, run on GeoNode's real data directory (vendored under `tests/upstream/`, zipped the
//! way upstream ships it inside the geonode/geoserver image) the way the image runs them: as
//! uid 1000 under Ubuntu jammy's shell and awk (dash, mawk), with GNU coreutils, util-linux's
//! flock and Info-ZIP's unzip. Then Tomcat itself (from Maven Central) starts from the base the
//! start script prepares.

mod datastore;
mod reader;
mod seed;
mod start;
mod starter;
mod tomcat;

/// GeoNode's PostGIS store for uploads, as a data directory of another site holds it (the import).
pub use datastore::Store as GeoNodeStore;
/// Tomcat's home, unpacked from Maven Central (the node's GeoServer model image carries its
/// configuration).
pub use tomcat::ensure as tomcat_home;

use super::inputs::Inputs;
use crate::error::Error;
use crate::process::exec;
use crate::project::{Project, RELEASE};
use crate::report::Report;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The user the chart runs GeoServer's containers as.
const UID: u32 = 1000;

/// `tls_inputs`: the render for an external PostgreSQL over TLS; `readers`: with read replicas.
pub fn run(
    project: &Project,
    inputs: &Inputs,
    (tls_inputs, readers): (&Inputs, &Inputs),
    work: &Path,
    report: &mut Report,
) {
    let dir = work.join("geoserver");
    let setup = Setup::new(project, &dir);
    let mut seeded = None;
    report.step("geoserver-seed", |step| match &setup {
        Ok(setup) => {
            seeded = seed::run(inputs, setup, step);
        }
        Err(e) => step.fail(e.clone()),
    });
    let (Ok(setup), Some(data)) = (&setup, seeded) else {
        return;
    };
    let mut tomcat_home = None;
    report.step("geoserver-start", |step| {
        tomcat_home = start::run(inputs, tls_inputs, setup, &data, step)
    });
    if let Some(home) = tomcat_home {
        report.step("geoserver-tomcat", |step| {
            tomcat::run(inputs, setup, &data, &home, step)
        });
        report.step("geoserver-reader-start", |step| {
            reader::run(readers, setup, &data, &home.0, step)
        });
    }
}

/// What every GeoServer part shares: the upstream data directory, its zip as the image carries
/// it, and a bin folder giving the image's shell and awk.
pub struct Setup {
    pub dir: PathBuf,
    pub upstream: PathBuf,
    pub skeleton_zip: PathBuf,
    pub bin: PathBuf,
}

impl Setup {
    fn new(project: &Project, dir: &Path) -> Result<Setup, String> {
        let upstream = project.root.join("tests/upstream/geoserver-geonode-ext");
        if !upstream.join("data/global.xml").is_file() {
            return Err(format!(
                "{} holds no GeoServer data directory; see tests/upstream/README.md",
                upstream.display()
            ));
        }
        fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        // As upstream's artifacts.sh makes it: `zip -r <zip> data/`, so the zip's top folder is data/.
        let skeleton_zip = dir.join("geoserver-data-skeleton.zip");
        exec(
            Command::new("zip")
                .args(["-q", "-r", "-X"])
                .arg(&skeleton_zip)
                .arg("data")
                .current_dir(&upstream),
        )?;
        // jammy's /bin/sh is dash and its awk is mawk: the scripts meet those, not bash or gawk.
        let bin = dir.join("bin");
        fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
        for (name, target) in [("sh", "/usr/bin/dash"), ("awk", "/usr/bin/mawk")] {
            if !Path::new(target).exists() {
                return Err(format!(
                    "{target} is missing; install Debian's dash and mawk"
                ));
            }
            symlink(target, bin.join(name)).map_err(|e| e.to_string())?;
        }
        chown_tree(dir)?;
        Ok(Setup {
            dir: dir.to_path_buf(),
            upstream: upstream.join("data"),
            skeleton_zip,
            bin,
        })
    }

    /// PATH of the image's tools: the bin folder first, then the system's.
    pub fn path(&self) -> String {
        format!("{}:/usr/bin:/bin", self.bin.display())
    }

    /// The argv that runs `program` as the chart's GeoServer user (uid and gid 1000, no other
    /// groups), the way the pod runs it.
    pub fn geoserver_argv(&self, program: &str) -> Vec<String> {
        vec![
            "setpriv".into(),
            format!("--reuid={UID}"),
            format!("--regid={UID}"),
            "--clear-groups".into(),
            "--".into(),
            program.into(),
        ]
    }

    /// `program` as the GeoServer user with only `env` and the image's PATH.
    pub fn as_geoserver(&self, program: &str, env: &BTreeMap<String, String>) -> Command {
        let argv = self.geoserver_argv(program);
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .env_clear()
            .envs(env)
            .env("PATH", self.path());
        cmd
    }
}

/// A folder (and what is in it) made the GeoServer user's, as fsGroup makes a volume.
pub fn chown_tree(path: &Path) -> Result<(), String> {
    exec(
        Command::new("chown")
            .args(["-R", &format!("{UID}:{UID}")])
            .arg(path),
    )
    .map(|_| ())
}

/// The rendered GeoServer Deployment's name.
pub fn deployment() -> String {
    format!("{RELEASE}-geoserver")
}

/// Files and folders by relative path: a file's sha256, or "dir" (see `tree`).
pub type Tree = BTreeMap<PathBuf, String>;

/// Every file and folder under `dir` by relative path: a file's sha256, or "dir". Entries whose
/// top-level name starts with `skip_prefix` are left out.
pub fn tree(dir: &Path, skip_prefix: &str) -> Result<Tree, Error> {
    fn walk(root: &Path, dir: &Path, skip: &str, out: &mut Tree) -> std::io::Result<()> {
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            if dir == root && relative.to_string_lossy().starts_with(skip) {
                continue;
            }
            if path.is_dir() {
                out.insert(relative, "dir".into());
                walk(root, &path, skip, out)?;
            } else {
                let digest = Sha256::digest(fs::read(&path)?);
                out.insert(relative, format!("{digest:x}"));
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, skip_prefix, &mut out)
        .map_err(|e| Error::msg(format!("reading {}: {e}", dir.display())))?;
    Ok(out)
}

/// How `got` differs from `want`, as a short list, or None when they are equal.
pub fn tree_difference(want: &Tree, got: &Tree) -> Option<String> {
    let mut problems = Vec::new();
    for (path, digest) in want {
        match got.get(path) {
            None => problems.push(format!("{} missing", path.display())),
            Some(d) if d != digest => problems.push(format!("{} differs", path.display())),
            Some(_) => {}
        }
    }
    problems.extend(
        got.keys()
            .filter(|p| !want.contains_key(*p))
            .map(|p| format!("{} extra", p.display())),
    );
    if problems.is_empty() {
        return None;
    }
    let count = problems.len();
    problems.truncate(5);
    Some(format!("{count} entries: {}", problems.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_difference_names_missing_changed_and_extra_entries() {
        let want = BTreeMap::from([
            (PathBuf::from("a"), "1".to_string()),
            (PathBuf::from("b"), "2".to_string()),
        ]);
        assert_eq!(tree_difference(&want, &want.clone()), None);
        let got = BTreeMap::from([
            (PathBuf::from("b"), "3".to_string()),
            (PathBuf::from("c"), "4".to_string()),
        ]);
        assert_eq!(
            tree_difference(&want, &got).as_deref(),
            Some("3 entries: a missing, b differs, c extra")
        );
    }
}
