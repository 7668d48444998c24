//! An S3-compatible server for the backup round trip through a bucket: the Versity S3 Gateway
//! (Apache-2.0) with its POSIX backend, built with `go install` at a pinned version (checked
//! against the Go checksum database, like kwok) into the tool cache, and run on 127.0.0.1 with
//! the root access key of the operator's Secret. A real S3 protocol server (signature V4,
//! multipart uploads, listing), not a mock. SeaweedFS works too but takes 13 minutes to build
//! here, versitygw under 3.

use crate::cluster::binaries::{go_installed, GoTool};
use crate::process::{free_port, wait_for_port, Running};
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

/// The gateway, built once (about 3 minutes the first time).
pub const GATEWAY: GoTool = GoTool {
    name: "versitygw",
    version: "v1.8.0",
    packages: &["github.com/versity/versitygw/cmd/versitygw"],
    cgo_tags: None,
    why: "the S3 server of the contract's backup round",
};

/// A running gateway with one bucket.
pub struct Server {
    pub endpoint: String,
    _process: Running,
}

impl Server {
    /// Starts the gateway on a free port with `keys` (access key ID, secret) as its root user,
    /// its buckets under `dir`, and `bucket` made.
    pub fn start(dir: &Path, keys: &(String, String), bucket: &str) -> Result<Server, String> {
        let binary = go_installed(&GATEWAY).map_err(|e| e.to_string())?;
        let root = dir.join("buckets");
        fs::create_dir_all(root.join(bucket))
            .map_err(|e| format!("creating {}: {e}", root.display()))?;
        let port = free_port()?;
        let process = Running::spawn(
            Command::new(&binary)
                .args(["--port", &format!("127.0.0.1:{port}"), "--quiet", "posix"])
                .arg(&root)
                // The keys from the environment, never from the command line.
                .env("ROOT_ACCESS_KEY_ID", &keys.0)
                .env("ROOT_SECRET_ACCESS_KEY", &keys.1)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        wait_for_port(port)?;
        Ok(Server {
            endpoint: format!("http://127.0.0.1:{port}"),
            _process: process,
        })
    }
}
