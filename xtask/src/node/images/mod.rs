//! The node's images. No registry is reachable, so each image the chart names is built here as
//! an OCI image of one layer — a Debian root filesystem made by mmdebstrap from Debian's
//! packages (and PyPI's wheels for GeoNode), shaped like the official image where the chart
//! relies on it (user ids, paths, programs) — and imported into containerd. The layers are
//! cached by a key over everything that goes into them.

mod debian;
mod geonode;
mod geoserver;
pub mod recipes;

pub use geonode::recipe as geonode_recipe;
pub use geoserver::recipe as geoserver_recipe;

use crate::error::{Context, Error};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The repository every node image is named under; the chart's values point here
/// (`tests/node-e2e/values.yaml`).
pub const REGISTRY: &str = "localhost/node-e2e";

/// What the image's configuration says (OCI image config), as the official image has it where
/// the chart depends on it.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub user: Option<&'static str>,
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub working_dir: Option<&'static str>,
    /// The signal that stops the container (Docker's STOPSIGNAL), where the official image sets
    /// one.
    pub stop_signal: Option<&'static str>,
}

/// An image ready to import: its name, its one layer (an uncompressed tar) and configuration.
pub struct Built {
    pub reference: String,
    pub layer: PathBuf,
    pub layer_digest: String,
    pub config: Config,
    /// Where it differs from the official image in what the chart could notice.
    pub differences: &'static str,
    /// Seconds the build took (0 when cached).
    pub seconds: f64,
}

/// The image configuration blob (JSON), its layer's digest as the one diff id.
fn config_blob(image: &Built) -> String {
    let c = &image.config;
    let mut config = serde_json::json!({
        "Env": c.env,
    });
    if let Some(user) = c.user {
        config["User"] = user.into();
    }
    if !c.entrypoint.is_empty() {
        config["Entrypoint"] = c.entrypoint.clone().into();
    }
    if !c.cmd.is_empty() {
        config["Cmd"] = c.cmd.clone().into();
    }
    if let Some(dir) = c.working_dir {
        config["WorkingDir"] = dir.into();
    }
    if let Some(signal) = c.stop_signal {
        config["StopSignal"] = signal.into();
    }
    serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", image.layer_digest)]},
    })
    .to_string()
}

/// Writes the image as an OCI layout (the layer linked, not copied) and streams it into
/// containerd's Kubernetes namespace.
pub fn import(ctr: &Path, socket: &Path, image: &Built) -> Result<(), Error> {
    let layout = tempfile::tempdir().context("making a folder for the OCI layout")?;
    let blobs = layout.path().join("blobs/sha256");
    fs::create_dir_all(&blobs).context("creating the layout's blobs")?;
    let layer_size = fs::metadata(&image.layer)
        .context(format!("reading {}", image.layer.display()))?
        .len();
    std::os::unix::fs::symlink(&image.layer, blobs.join(&image.layer_digest))
        .context("linking the layer into the layout")?;
    let blob = |text: String| -> Result<(String, usize), Error> {
        let digest = crate::tools::sha256_bytes(text.as_bytes());
        fs::write(blobs.join(&digest), &text).context("writing a layout blob")?;
        Ok((digest, text.len()))
    };
    let (config_digest, config_size) = blob(config_blob(image))?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": format!("sha256:{config_digest}"), "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": format!("sha256:{}", image.layer_digest), "size": layer_size}],
    });
    let (manifest_digest, manifest_size) = blob(manifest.to_string())?;
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{manifest_digest}"), "size": manifest_size,
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"io.containerd.image.name": image.reference},
        }],
    });
    fs::write(layout.path().join("index.json"), index.to_string()).context("writing index.json")?;
    fs::write(
        layout.path().join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .context("writing oci-layout")?;
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(layout.path())
        .args(["-chf", "-", "."])
        .stdout(Stdio::piped())
        .spawn()
        .context("running tar")?;
    let stdout = tar
        .stdout
        .take()
        .ok_or_else(|| Error::msg("tar gave no output pipe"))?;
    let out = Command::new(ctr)
        .arg(format!("--address={}", socket.display()))
        // The layers stay in the snapshots only: a second copy in the content store would
        // double the node's disk use.
        .args([
            "-n",
            "k8s.io",
            "images",
            "import",
            // (ctr does this in its own process only, not through containerd's transfer service.)
            "--local",
            "--discard-unpacked-layers",
            "-",
        ])
        .stdin(stdout)
        .output()
        .context("running ctr images import")?;
    let _ = tar.wait();
    if !out.status.success() {
        return Err(Error::msg(format!(
            "importing {} into containerd failed: {}",
            image.reference,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// A cached layer: `<cache>/node-images/<name>-<key>/layer.tar` with its digest beside it;
/// `build` makes it when missing.
fn cached_layer(
    name: &str,
    key: &str,
    build: impl FnOnce(&Path) -> Result<(), Error>,
) -> Result<(PathBuf, String, f64), Error> {
    let entry = format!("node-image-{name}");
    let (cache, _lock) = crate::tools::lock_entry(&entry)?;
    let dir = cache
        .join("node-images")
        .join(format!("{name}-{}", &key[..16]));
    let layer = dir.join("layer.tar");
    let stamp = dir.join("layer.sha256");
    if let Ok(digest) = fs::read_to_string(&stamp) {
        if layer.is_file() {
            return Ok((layer, digest.trim().to_string(), 0.0));
        }
    }
    // Older builds of this image are of no use any more.
    if let Ok(entries) = fs::read_dir(cache.join("node-images")) {
        for old in entries.filter_map(Result::ok) {
            if old
                .file_name()
                .to_string_lossy()
                .starts_with(&format!("{name}-"))
            {
                let _ = fs::remove_dir_all(old.path());
            }
        }
    }
    fs::create_dir_all(&dir).context(format!("creating {}", dir.display()))?;
    let started = Instant::now();
    build(&layer).map_err(|e| Error::msg(format!("building the node image {name}: {e}")))?;
    let digest = crate::tools::sha256_file(&layer)?;
    fs::write(&stamp, &digest).context(format!("writing {}", stamp.display()))?;
    Ok((layer, digest, started.elapsed().as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_names_the_layer_and_what_the_official_image_sets() {
        let image = Built {
            reference: format!("{REGISTRY}/postgis:15"),
            layer: PathBuf::from("/nonexistent"),
            layer_digest: "ab".repeat(32),
            config: Config {
                env: vec!["PGDATA=/var/lib/postgresql/data".into()],
                entrypoint: vec!["docker-entrypoint.sh".into()],
                cmd: vec!["postgres".into()],
                stop_signal: Some("SIGINT"),
                ..Config::default()
            },
            differences: "",
            seconds: 0.0,
        };
        let blob: serde_json::Value = serde_json::from_str(&config_blob(&image)).unwrap();
        assert_eq!(
            blob["rootfs"]["diff_ids"][0],
            format!("sha256:{}", "ab".repeat(32))
        );
        assert_eq!(blob["config"]["StopSignal"], "SIGINT");
        assert_eq!(blob["config"]["Entrypoint"][0], "docker-entrypoint.sh");
        assert!(
            blob["config"]["User"].is_null(),
            "no user unless the image sets one"
        );
        assert!(blob["config"]["WorkingDir"].is_null());
    }
}
