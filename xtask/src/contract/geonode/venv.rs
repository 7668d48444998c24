//! GeoNode itself: the geonode release of the chart's appVersion line, in a cached venv.

use crate::contract::process::exec;
use crate::error::{Context, Error};
use std::fs;
use std::path::PathBuf;
use std::process::Command;

pub const GEONODE_WHEEL: &str = "geonode==5.1.1";
pub const GEONODE_WHEEL_SHA256: &str =
    "00edf4cdfdbca7eaaef9a2f36e383a95eb87fef96060b8577977987b9ef52194";

/// Installs geonode into a cached venv and returns the venv. geonode pins GDAL==3.8.4, an
/// sdist needing libgdal >= 3.8.4; Debian bookworm has 3.6.2. So the venv is made from Debian's
/// own python3 with --system-site-packages and uses Debian's python3-gdal, every other
/// requirement comes from geonode's metadata (test-only packages left out), and geonode itself
/// is installed without dependencies. Django's GIS layer loads libgdal on its own.
pub fn ensure() -> Result<PathBuf, Error> {
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
