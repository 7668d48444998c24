//! Debian's packages, which several steps install when a program they run is missing: the
//! contract's servers, the real node's tools, promtool for the alerts' tests.

use crate::error::{Context, Error};
use crate::process::on_path;
use std::path::Path;
use std::process::{Command, Stdio};

/// Installs the Debian packages of `wanted` whose probe is missing: (a program on PATH or an
/// absolute path, the package). Several harness steps may install at once (CI builds the node's
/// programs in the background), so apt waits for dpkg's lock instead of failing.
pub fn apt_install(wanted: &[(&str, &str)]) -> Result<(), Error> {
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(probe, _)| {
            if probe.starts_with('/') {
                !Path::new(probe).exists()
            } else {
                !on_path(probe)
            }
        })
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("installing Debian packages: {}", missing.join(" "));
    let apt = |args: &[&str]| -> Result<(), Error> {
        let status = Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=600"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .context("running apt-get (installing Debian packages needs root)")?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::msg(format!(
                "apt-get {} failed; install {} by hand",
                args.join(" "),
                missing.join(" ")
            )))
        }
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq"];
    install.extend(missing.iter().copied());
    apt(&install)
}
