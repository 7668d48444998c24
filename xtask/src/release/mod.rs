//! `cargo xtask release`: the chart as Helm users get it. The version is new (no tag
//! `geonode-<version>` yet) and has its CHANGELOG.md section; every check passes; the chart is
//! packaged and signed (Helm provenance, with the releaser's OpenPGP key), the signature is
//! verified, the package and its `.prov` are pushed to an OCI registry, and the release is tagged.

pub mod version;

use crate::error::Error;
use crate::helm::Helm;
use crate::process::exec;
use crate::project::Project;
use crate::report::Report;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Where and how to publish.
#[derive(Debug, Clone)]
pub struct Options {
    /// `oci://host[:port]/path`: the chart goes to `<path>/geonode:<version>`.
    pub registry: String,
    /// The signing key's user ID (or a unique part of it) in `keyring`.
    pub key: String,
    /// An OpenPGP secret keyring in binary form (`gpg --export-secret-keys <id> > file`); Helm 3
    /// reads RSA keys only, so releases are signed with RSA for both Helms to verify.
    pub keyring: PathBuf,
    /// A file holding the key's passphrase, for a protected key.
    pub passphrase_file: Option<PathBuf>,
    /// A registry without TLS (on 127.0.0.1 for tests).
    pub plain_http: bool,
}

/// What a push made.
#[derive(Debug, Clone)]
pub struct Published {
    /// `oci://host/path/geonode`, for `helm install <it> --version <version>`.
    pub chart: String,
    pub version: String,
    /// The manifest digest the registry answered.
    pub digest: String,
}

pub fn run(project: &Project, helm: &Helm, options: &Options) -> Result<Report, Error> {
    let started = Instant::now();
    let mut report = Report::default();
    let mut version = None;
    report.step("version", |step| {
        match version::ready_to_release(&project.root) {
            Ok(v) => {
                step.passed += 1;
                step.detail = format!(
                    "{v}: no tag {} yet, CHANGELOG.md has its section, nothing uncommitted",
                    crate::versions::tag(&v)
                );
                version = Some(v);
            }
            Err(e) => step.fail(e),
        }
    });
    let Some(version) = version else {
        report.finish(started.elapsed());
        return Ok(report);
    };
    let checks = crate::check::run(
        project,
        &crate::check::Options {
            kube_minors: crate::tools::KUBE_MINORS.to_vec(),
            bless: false,
        },
    )?;
    let failed = checks.failed();
    report.step("checks", |step| {
        if failed == 0 {
            step.passed += 1;
            step.detail = "cargo xtask check passed".into();
        } else {
            step.fail(format!(
                "cargo xtask check: {failed} failed (above); nothing was published"
            ));
        }
    });
    if failed > 0 {
        report.finish(started.elapsed());
        return Ok(report);
    }
    let mut published = None;
    report.step("publish", |step| {
        match publish(project, helm, options, &project.root.join("target/release")) {
            Ok(p) => {
                step.passed += 1;
                step.detail = format!("{} --version {} ({}), signed", p.chart, p.version, p.digest);
                published = Some(p);
            }
            Err(e) => step.fail(e),
        }
    });
    if let Some(p) = published {
        report.step("tag", |step| {
            step.record(version::create_tag(&project.root, &version, &p.digest));
            step.detail = crate::versions::tag(&version);
        });
    }
    report.finish(started.elapsed());
    Ok(report)
}

/// Packages and signs the chart into `out`, verifies the signature, and pushes the package with
/// its provenance to `options.registry`.
pub fn publish(
    project: &Project,
    helm: &Helm,
    options: &Options,
    out: &Path,
) -> Result<Published, String> {
    let target = options.registry.trim_end_matches('/');
    if !target.starts_with("oci://") {
        return Err(format!(
            "--registry {target}: give an OCI registry as oci://host[:port]/path"
        ));
    }
    fs::create_dir_all(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let mut package = helm.command(None);
    package
        .arg("package")
        .arg(&project.chart)
        .arg("--destination")
        .arg(out)
        .args(["--sign", "--key", &options.key, "--keyring"])
        .arg(&options.keyring);
    if let Some(file) = &options.passphrase_file {
        package.arg("--passphrase-file").arg(file);
    }
    let said = helm_run(package, "helm package --sign")?;
    let archive = said
        .lines()
        .find_map(|l| {
            l.split_once("saved it to: ")
                .map(|(_, p)| PathBuf::from(p.trim()))
        })
        .ok_or_else(|| format!("helm package did not say where it saved the chart:\n{said}"))?;
    let mut verify = helm.command(None);
    verify
        .arg("verify")
        .arg(&archive)
        .arg("--keyring")
        .arg(&options.keyring);
    helm_run(verify, "helm verify").map_err(|e| {
        format!(
            "{e}\nthe signature just made does not verify with {}",
            options.keyring.display()
        )
    })?;
    let mut push = registry_command(helm);
    push.arg("push").arg(&archive).arg(target);
    if options.plain_http {
        push.arg("--plain-http");
    }
    let said = helm_run(push, "helm push")?;
    let digest = said
        .lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .ok_or_else(|| format!("helm push gave no digest:\n{said}"))?
        .trim()
        .to_string();
    Ok(Published {
        chart: format!("{target}/geonode"),
        version: crate::versions::chart_version(&project.root)?,
        digest,
    })
}

/// Helm for a registry: the releaser's own registry logins (`helm registry login`, or the file
/// HELM_REGISTRY_CONFIG names), which the harness's private Helm home would otherwise hide.
fn registry_command(helm: &Helm) -> Command {
    let mut cmd = helm.command(None);
    let config = std::env::var_os("HELM_REGISTRY_CONFIG")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".config/helm/registry/config.json"))
        });
    if let Some(config) = config {
        cmd.env("HELM_REGISTRY_CONFIG", config);
    }
    cmd
}

/// Helm's output (stdout and stderr together: `push` reports on stderr), or its error.
fn helm_run(mut cmd: Command, what: &str) -> Result<String, String> {
    exec(&mut cmd).map_err(|e| format!("{what}: {e}"))
}
