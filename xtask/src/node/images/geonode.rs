//! The GeoNode image, shaped like geonode/geonode where the chart relies on it: a venv at
//! /usr/src/venv first on PATH with python, uwsgi and celery; GeoNode's code at /usr/src/geonode
//! (the working folder the chart sets, on the Python path) found by the venv the way the
//! official image's editable install is; uid 1000 with a home, as Ubuntu's image has it. The
//! venv holds the release's wheel and its requirements, built as wheels on this host once (the
//! contract's venv, same Debian Python) and installed inside the image without an index.

use super::debian::{Rootfs, User};
use super::recipes::{Layer, Recipe, PATH};
use super::Config;
use crate::error::{Context, Error};
use crate::process::exec;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

const SITE_PACKAGES: &str = "/usr/src/venv/lib/python3.11/site-packages";
/// The wheelhouse's list of every package the venv gets, pinned (`pip list --format=freeze`).
const REQUIREMENTS: &str = "frozen.txt";

/// The Debian packages the venv takes Python distributions from.
const DEBIAN_PACKAGES: &str = "debian-packages.txt";

/// Prints where each distribution lives that a package of the venv's own requires (with its
/// markers) and the venv takes from the system's site-packages, transitively.
const SYSTEM_REQUIREMENTS_PY: &str = r#"
import importlib.metadata as metadata, re, sys
from pip._vendor.packaging.requirements import Requirement
norm = lambda name: re.sub(r"[-_.]+", "-", name).lower()
found = {}
for dist in metadata.distributions():
    found.setdefault(norm(dist.metadata["Name"]), dist)
local = lambda dist: str(dist._path).startswith(sys.prefix)
needed, todo = {}, [d for d in found.values() if local(d)]
while todo:
    for text in todo.pop().requires or []:
        req = Requirement(text)
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        dep = found.get(norm(req.name))
        if dep and not local(dep) and norm(req.name) not in needed:
            needed[norm(req.name)] = str(dep._path)
            todo.append(dep)
print(chr(10).join(sorted(needed.values())))
"#;

/// The wheels of geonode's release and of every requirement, in the tool cache, and the Debian
/// packages the venv uses besides.
fn wheelhouse() -> Result<(PathBuf, Vec<String>), Error> {
    let venv = crate::contract::geonode::venv::ensure()?;
    let entry = "geonode-5.1.1-wheelhouse";
    let (cache, _lock) = crate::tools::lock_entry(entry)?;
    let dir = cache.join(entry);
    let stamp = dir.join(".complete");
    // The stamp names the venv it comes from and this layout (the Debian packages' list beside
    // the wheels).
    let wheel_sha = format!(
        "{} {DEBIAN_PACKAGES}",
        crate::contract::geonode::venv::made_of()
    );
    let packages = |dir: &PathBuf| -> Vec<String> {
        fs::read_to_string(dir.join(DEBIAN_PACKAGES))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    };
    if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == wheel_sha) {
        return Ok((dir.clone(), packages(&dir)));
    }
    if dir.exists() {
        fs::remove_dir_all(&dir).context(format!("removing the incomplete {}", dir.display()))?;
    }
    fs::create_dir_all(&dir).context(format!("creating {}", dir.display()))?;
    eprintln!("building GeoNode's wheels for the node image (once)");
    // Exactly what the contract's venv holds of its own (its Debian packages, python3-gdal
    // and numpy among them, come from Debian in the image too): a resolution of the wheel's
    // requirements would ask for GDAL's sdist, which Debian's libgdal is too old to build.
    let frozen = exec(
        Command::new(venv.join("bin/pip"))
            .args(["list", "--format=freeze", "--local"])
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
    )
    .map_err(|e| Error::msg(format!("listing the contract venv's packages: {e}")))?;
    let frozen: String = frozen
        .lines()
        .filter(|l| !l.to_lowercase().starts_with("geonode=="))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(dir.join(REQUIREMENTS), &frozen).context("writing the frozen requirements")?;
    // What the venv takes from Debian's python3 packages (six, PyYAML, ...): the same
    // packages go into the image.
    let system = exec(
        Command::new(venv.join("bin/python"))
            .arg("-c")
            .arg(SYSTEM_REQUIREMENTS_PY),
    )
    .map_err(|e| Error::msg(format!("finding what the venv takes from Debian: {e}")))?;
    let mut debian = Vec::new();
    for path in system.lines().filter(|l| !l.trim().is_empty()) {
        let owner = exec(Command::new("dpkg").args(["-S", path.trim()]))
            .map_err(|e| Error::msg(format!("dpkg -S {path}: {e}")))?;
        if let Some((package, _)) = owner.split_once(':') {
            debian.push(package.trim().to_string());
        }
    }
    debian.sort();
    debian.dedup();
    fs::write(dir.join(DEBIAN_PACKAGES), debian.join("\n"))
        .context("writing the venv's Debian packages")?;
    exec(
        Command::new(venv.join("bin/pip"))
            .args(["wheel", "-q", "--no-deps", "-w"])
            .arg(&dir)
            .arg("-r")
            .arg(dir.join(REQUIREMENTS)),
    )
    .map_err(|e| Error::msg(format!("pip wheel of GeoNode's requirements: {e}")))?;
    for entry in fs::read_dir(venv.join("download")).context("listing the geonode download")? {
        let path = entry.context("listing the geonode download")?.path();
        if path.extension().is_some_and(|e| e == "whl") {
            fs::copy(&path, dir.join(path.file_name().unwrap_or_default()))
                .context("copying the geonode wheel")?;
        }
    }
    fs::write(&stamp, &wheel_sha).context(format!("writing {}", stamp.display()))?;
    Ok((dir.clone(), packages(&dir)))
}

pub fn recipe() -> Result<Recipe, Error> {
    let (wheels, venv_packages) = wheelhouse()?;
    let commands = [
        "python3 -m venv --system-site-packages /usr/src/venv".to_string(),
        format!("/usr/src/venv/bin/pip install -q --no-index --no-deps --find-links /tmp/wheels -r /tmp/wheels/{REQUIREMENTS}"),
        "/usr/src/venv/bin/pip install -q --no-index --no-deps /tmp/wheels/geonode-*.whl".into(),
        // The code where the official image has its checkout, found through a .pth file as an
        // editable install finds it.
        format!("mkdir -p /usr/src/geonode && mv {SITE_PACKAGES}/geonode /usr/src/geonode/geonode"),
        format!("echo /usr/src/geonode > {SITE_PACKAGES}/__editable__geonode.pth"),
        // Every library a compiled module or uwsgi links must be in the image (a wheel's own
        // libraries, in <package>.libs/, are found through the module's RPATH).
        "! { find /usr/src/venv -name \"*.so\" -not -path \"*.libs/*\"; echo /usr/src/venv/bin/uwsgi; } | xargs ldd 2>/dev/null | grep -B20 \"not found\"".into(),
        "cd / && /usr/src/venv/bin/python -c \"import celery, psycopg2, osgeo.gdal, geonode; assert geonode.__file__.startswith(\\\"/usr/src/geonode/\\\"), geonode.__file__\"".into(),
        "mkdir -p /home/ubuntu && chown ubuntu:ubuntu /home/ubuntu".into(),
    ];
    Ok(Recipe {
        name: "geonode",
        tag: "5.1.1",
        layer: Layer::Debian(Box::new(Rootfs {
            packages: [
                "python3",
                "python3-venv",
                "python3-gdal",
                // uwsgi embeds Python through libpython.
                "libpython3.11",
                "libpq5",
                "libxml2",
                "libxslt1.1",
                "libjansson4",
                "libpcre2-8-0",
                "libcap2",
                "libuuid1",
                "libssl3",
                "libyaml-0-2",
                "libmagic1",
                "gettext-base",
                "ca-certificates",
            ]
            .into_iter()
            .map(String::from)
            .chain(venv_packages)
            .collect(),
            users: vec![User {
                name: "ubuntu",
                uid: 1000,
                group: "ubuntu",
                gid: 1000,
                home: "/home/ubuntu",
            }],
            trees: vec![(wheels, "/tmp/wheels")],
            files: Vec::new(),
            zips: Vec::new(),
            commands: commands.to_vec(),
        })),
        config: Config {
            env: vec![
                format!("PATH=/usr/src/venv/bin:{}", PATH.trim_start_matches("PATH=")),
                "DJANGO_SETTINGS_MODULE=geonode.settings".into(),
            ],
            working_dir: Some("/usr/src/geonode"),
            ..Config::default()
        },
        differences: "Debian bookworm's Python 3.11 and GDAL 3.6 (python3-gdal) where the image has Ubuntu 24.04's Python 3.12 and its GDAL; GeoNode from its 5.1.1 wheel (no checkout: /usr/src/geonode holds the package, not manage.py or the repository's other files)",
    })
}
