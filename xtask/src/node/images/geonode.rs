//! The GeoNode image, shaped like geonode/geonode where the chart relies on it: a venv at
//! /usr/src/venv first on PATH with python, uwsgi and celery; GeoNode's code at /usr/src/geonode
//! (the working folder the chart sets, on the Python path) found by the venv the way the
//! official image's editable install is; uid 1000 with a home, as Ubuntu's image has it. The
//! venv holds the release's wheel and its requirements, built as wheels on this host once (the
//! contract's venv, same Debian Python) and installed inside the image without an index.

use super::debian::{Rootfs, User};
use super::recipes::{Layer, Recipe, PATH};
use super::Config;
use crate::contract::process::exec;
use crate::error::{Context, Error};
use std::fs;
use std::path::PathBuf;
use std::process::Command;

const SITE_PACKAGES: &str = "/usr/src/venv/lib/python3.11/site-packages";

/// The wheels of geonode's release and of every requirement, in the tool cache.
fn wheelhouse() -> Result<PathBuf, Error> {
    let venv = crate::contract::geonode::venv::ensure()?;
    let entry = "geonode-5.1.1-wheelhouse";
    let (cache, _lock) = crate::tools::lock_entry(entry)?;
    let dir = cache.join(entry);
    let stamp = dir.join(".complete");
    let wheel_sha = crate::contract::geonode::venv::GEONODE_WHEEL_SHA256;
    if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == wheel_sha) {
        return Ok(dir);
    }
    if dir.exists() {
        fs::remove_dir_all(&dir).context(format!("removing the incomplete {}", dir.display()))?;
    }
    fs::create_dir_all(&dir).context(format!("creating {}", dir.display()))?;
    eprintln!("building GeoNode's wheels for the node image (once)");
    exec(
        Command::new(venv.join("bin/pip"))
            .args(["wheel", "-q", "-w"])
            .arg(&dir)
            .arg("-r")
            .arg(venv.join("requirements.txt")),
    )
    .map_err(|e| Error::msg(format!("pip wheel of GeoNode's requirements: {e}")))?;
    fs::copy(venv.join("requirements.txt"), dir.join("requirements.txt"))
        .context("copying the requirements")?;
    for entry in fs::read_dir(venv.join("download")).context("listing the geonode download")? {
        let path = entry.context("listing the geonode download")?.path();
        if path.extension().is_some_and(|e| e == "whl") {
            fs::copy(&path, dir.join(path.file_name().unwrap_or_default()))
                .context("copying the geonode wheel")?;
        }
    }
    fs::write(&stamp, wheel_sha).context(format!("writing {}", stamp.display()))?;
    Ok(dir)
}

pub fn recipe() -> Result<Recipe, Error> {
    let wheels = wheelhouse()?;
    let commands = [
        "python3 -m venv --system-site-packages /usr/src/venv".to_string(),
        "/usr/src/venv/bin/pip install -q --no-index --find-links /tmp/wheels -r /tmp/wheels/requirements.txt".into(),
        "/usr/src/venv/bin/pip install -q --no-index --no-deps /tmp/wheels/geonode-*.whl".into(),
        // The code where the official image has its checkout, found through a .pth file as an
        // editable install finds it.
        format!("mkdir -p /usr/src/geonode && mv {SITE_PACKAGES}/geonode /usr/src/geonode/geonode"),
        format!("echo /usr/src/geonode > {SITE_PACKAGES}/__editable__geonode.pth"),
        // Every library a compiled module or uwsgi links must be in the image.
        "! { find /usr/src/venv -name \"*.so*\" -type f; echo /usr/src/venv/bin/uwsgi; } | xargs ldd 2>/dev/null | grep \"not found\"".into(),
        "cd / && /usr/src/venv/bin/python -c \"import celery, psycopg2, osgeo.gdal, geonode; assert geonode.__file__.startswith(\\\"/usr/src/geonode/\\\"), geonode.__file__\"".into(),
        "mkdir -p /home/ubuntu && chown ubuntu:ubuntu /home/ubuntu".into(),
    ];
    Ok(Recipe {
        name: "geonode",
        tag: "5.1.1",
        layer: Layer::Debian(Box::new(Rootfs {
            packages: vec![
                "python3",
                "python3-venv",
                "python3-gdal",
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
            ],
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
