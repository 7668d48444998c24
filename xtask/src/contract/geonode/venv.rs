//! GeoNode itself in a cached venv: the release of the chart's appVersion line, and the last 4.4
//! release, whose sites the chart imports (site_import).

use crate::error::{Context, Error};
use crate::process::exec;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

/// A geonode release from PyPI: its wheel by sha256, and every runtime requirement but GDAL
/// pinned with the sha256 of each file pip takes here (the lock's header says how it was made).
pub struct Release {
    pub version: &'static str,
    pub wheel_sha256: &'static str,
    lock: &'static str,
    lock_path: &'static str,
}

/// The chart's appVersion line.
pub const GEONODE: Release = Release {
    version: "5.1.1",
    wheel_sha256: "00edf4cdfdbca7eaaef9a2f36e383a95eb87fef96060b8577977987b9ef52194",
    lock: include_str!("../../../../tests/contract/geonode-venv.lock"),
    lock_path: "tests/contract/geonode-venv.lock",
};

/// The last 4.4 release: the source of an imported 4.4 site.
pub const GEONODE_4_4: Release = Release {
    version: "4.4.5",
    wheel_sha256: "640bc96f6d4c64a344ed4d5250b5c01def201d247f594aa387a4e15ebcb00c6f",
    lock: include_str!("../../../../tests/contract/geonode-4.4.5-venv.lock"),
    lock_path: "tests/contract/geonode-4.4.5-venv.lock",
};

/// What the chart's venv is made of (the node's GeoNode image is built from it).
pub fn made_of() -> String {
    GEONODE.made_of()
}

/// The chart's venv.
pub fn ensure() -> Result<PathBuf, Error> {
    GEONODE.ensure()
}

impl Release {
    /// `geonode==<version>`, as pip takes it.
    pub fn pin(&self) -> String {
        format!("geonode=={}", self.version)
    }

    /// What the venv is made of: geonode's wheel and the lock, by their sha256.
    pub fn made_of(&self) -> String {
        format!(
            "{} {}",
            self.wheel_sha256,
            crate::tools::sha256_bytes(self.lock.as_bytes())
        )
    }

    /// Installs geonode into a cached venv and returns the venv. geonode 5.1.1 pins GDAL==3.8.4
    /// (4.4.5's importer gdal<=3.4.3), sdists needing a libgdal of that version; Debian bookworm
    /// has 3.6.2. So the venv is made from Debian's own python3 with --system-site-packages and
    /// uses Debian's python3-gdal, every other requirement comes from the lock (checked against
    /// geonode's metadata, test-only packages left out) with --require-hashes, and geonode itself,
    /// sha256-checked, is installed without dependencies. Django's GIS layer loads libgdal on its
    /// own.
    pub fn ensure(&self) -> Result<PathBuf, Error> {
        let venv = crate::tools::cache_dir().join(format!("geonode-{}-venv", self.version));
        let stamp = venv.join(".complete");
        let made_of = self.made_of();
        if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == made_of) {
            return Ok(venv);
        }
        self.install(&venv)?;
        fs::write(&stamp, made_of).context(format!("writing {}", stamp.display()))?;
        Ok(venv)
    }

    fn install(&self, venv: &std::path::Path) -> Result<(), Error> {
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
            fs::remove_dir_all(venv)
                .context(format!("removing the incomplete {}", venv.display()))?;
        }
        eprintln!(
            "installing {} into {} (about two minutes)",
            self.pin(),
            venv.display()
        );
        // Debian's python3, not one earlier on PATH: only it sees python3-gdal.
        exec(
            Command::new("/usr/bin/python3")
                .args(["-m", "venv", "--system-site-packages"])
                .arg(venv),
        )
        .map_err(Error::msg)?;
        let pip = venv.join("bin/pip");
        let download = venv.join("download");
        exec(
            Command::new(&pip)
                .args(["download", "-q", "--no-deps", "-d"])
                .arg(&download)
                .arg(self.pin()),
        )
        .map_err(Error::msg)?;
        let wheel = fs::read_dir(&download)
            .context("listing the geonode download")?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "whl"))
            .ok_or_else(|| Error::msg("pip downloaded no geonode wheel"))?;
        crate::tools::verify_sha256(&wheel, self.wheel_sha256)?;
        let lock = venv.join("requirements.lock");
        fs::write(&lock, self.lock).context(format!("writing {}", lock.display()))?;
        exec(
            Command::new(venv.join("bin/python"))
                .arg("-c")
                .arg(LOCK_MATCHES_PY)
                .arg(&wheel)
                .arg(&lock),
        )
        .map_err(|e| {
            Error::msg(format!(
                "{} is not what {} asks for: {e}",
                self.lock_path,
                self.pin()
            ))
        })?;
        exec(
            Command::new(&pip)
                .args(["install", "-q", "--require-hashes", "--no-deps", "-r"])
                .arg(&lock),
        )
        .map_err(Error::msg)?;
        exec(
            Command::new(&pip)
                .args(["install", "-q", "--no-deps"])
                .arg(&wheel),
        )
        .map_err(Error::msg)?;
        Ok(())
    }
}

/// The lock holds every runtime requirement of the wheel (extras, GDAL, whose Debian bindings
/// serve, and test-only packages left out) at the version the wheel pins.
const LOCK_MATCHES_PY: &str = r#"
import re, sys, zipfile
wheel, lock = sys.argv[1:3]
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
test_only = {"gdal", "coverage", "flake8", "black", "pytest", "pytest-bdd", "splinter", "pytest-splinter",
             "pytest-django", "pixelmatch", "factory-boy", "flaky", "selenium", "selenium-requests", "webdriver-manager"}
with zipfile.ZipFile(wheel) as z:
    meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    lines = z.read(meta).decode().splitlines()
reqs = [l.split(": ", 1)[1] for l in lines if l.startswith("Requires-Dist: ") and "extra ==" not in l]
pinned = dict(re.match(r"([A-Za-z0-9_.-]+)==(\S+)", l).groups() for l in open(lock) if re.match(r"[A-Za-z0-9]", l))
pinned = {norm(k): v for k, v in pinned.items()}
wrong = []
for req in reqs:
    name = norm(re.split(r"[ =<>!~;\[(]", req, 1)[0])
    exact = re.search(r"==\s*([^,;\s)]+)", req)
    if name in test_only:
        continue
    same = exact and (pinned.get(name, "").startswith(exact.group(1)[:-1]) if exact.group(1).endswith("*")
                      else pinned.get(name) == exact.group(1))
    if name not in pinned or (exact and not same):
        wrong.append(f"{req} (the lock has {pinned.get(name, 'nothing')})")
if wrong:
    sys.exit("; ".join(wrong))
"#;
