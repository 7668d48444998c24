//! The chart as a release reaches users: `release::publish` packages and signs it with a
//! throwaway RSA key, verifies and pushes it to a real OCI registry on 127.0.0.1 (the registry
//! of go-containerregistry's `crane`, built with `go install` at a pinned version, blobs on disk),
//! then Helm 3 and Helm 4 each install it from `oci://` with `--verify` into the control plane,
//! and refuse it against a stranger's key.

use super::{check_release, create_namespace, path, Ctx, WAIT};
use crate::cluster::binaries::{go_installed, run, GoTool};
use crate::helm::Helm;
use crate::process::{free_port, start_server, Running};
use crate::project::RELEASE;
use crate::release;
use crate::report::Step;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// crane, built once (about 15 s with a warm module cache).
pub const CRANE: GoTool = GoTool {
    name: "crane",
    version: "v0.22.1",
    packages: &["github.com/google/go-containerregistry/cmd/crane"],
    cgo_tags: None,
    why: "the e2e OCI registry",
};

/// A registry on 127.0.0.1 with its blobs under `dir`.
fn registry(dir: &Path) -> Result<(Running, u16), String> {
    let binary = go_installed(&CRANE).map_err(|e| e.to_string())?;
    let blobs = dir.join("blobs");
    fs::create_dir_all(&blobs).map_err(|e| format!("creating {}: {e}", blobs.display()))?;
    let port = free_port()?;
    let process = start_server(
        Command::new(binary)
            .args([
                "registry",
                "serve",
                "--address",
                &format!("127.0.0.1:{port}"),
            ])
            .arg("--disk")
            .arg(&blobs),
        "crane's registry",
        port,
    )?;
    Ok((process, port))
}

/// Throwaway OpenPGP keys in a GNUPGHOME of their own: `name`'s secret and public keyrings,
/// binary, as Helm reads them.
struct Keys {
    home: PathBuf,
}

impl Keys {
    fn new(dir: &Path) -> Result<Keys, String> {
        let home = dir.join("gnupg");
        fs::create_dir_all(&home).map_err(|e| format!("creating {}: {e}", home.display()))?;
        crate::process::chmod(&home, 0o700).map_err(|e| e.to_string())?;
        Ok(Keys { home })
    }

    fn gpg(&self) -> Command {
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", &self.home).arg("--batch");
        cmd
    }

    /// An RSA signing key without passphrase for `email`; (secret keyring, public keyring).
    fn make(&self, email: &str) -> Result<(PathBuf, PathBuf), String> {
        let mut generate = self.gpg();
        generate
            .args(["--passphrase", "", "--quick-gen-key"])
            .arg(format!("geonode-k8s e2e <{email}>"))
            .args(["rsa3072", "sign", "never"]);
        run(generate, "gpg --quick-gen-key").map_err(|e| e.to_string())?;
        let mut files = Vec::new();
        for (what, export) in [("secret", "--export-secret-keys"), ("public", "--export")] {
            let mut cmd = self.gpg();
            cmd.arg(export).arg(email);
            let out = cmd.output().map_err(|e| format!("gpg {export}: {e}"))?;
            if !out.status.success() || out.stdout.is_empty() {
                return Err(format!(
                    "gpg {export} {email} gave no key: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            let file = self.home.join(format!("{email}.{what}.gpg"));
            fs::write(&file, out.stdout).map_err(|e| format!("writing {}: {e}", file.display()))?;
            files.push(file);
        }
        Ok((files[0].clone(), files[1].clone()))
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.home)
            .args(["--kill", "gpg-agent"])
            .status();
    }
}

/// The step: publish, then install from the registry with each Helm.
pub(super) fn release_from_registry(ctx: &Ctx, helms: &[Helm], step: &mut Step) {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return step.fail(format!("creating a folder for the registry: {e}")),
    };
    let result = (|| {
        let (_registry, port) = registry(dir.path())?;
        let keys = Keys::new(dir.path())?;
        let (secret, public) = keys.make("signer@example.invalid")?;
        let (_, stranger) = keys.make("stranger@example.invalid")?;
        let options = release::Options {
            registry: format!("oci://127.0.0.1:{port}/charts"),
            key: "signer@example.invalid".into(),
            keyring: secret,
            passphrase_file: None,
            plain_http: true,
        };
        let newest = helms.last().ok_or("no Helm")?;
        let cache = dir.path().join("helm-cache");
        let published = release::publish(ctx.project, newest, &options, &dir.path().join("out"))?;
        let mut installed = Vec::new();
        for helm in helms {
            let ns = format!("geonode-e2e-oci-{}", helm.label());
            create_namespace(ctx, &ns)?;
            let verify = [
                "--version",
                &published.version,
                "--plain-http",
                "--verify",
                "--keyring",
            ];
            let pull = [
                &["pull", &published.chart][..],
                &verify,
                &[path(&stranger), "-d", path(dir.path())],
            ]
            .concat();
            match helm_in(ctx, helm, &cache, &pull) {
                Ok(_) => {
                    return Err(format!(
                        "{} pulled the chart with --verify against a stranger's key",
                        helm.label()
                    ))
                }
                Err(e) if e.contains("unknown entity") => {}
                Err(e) => {
                    return Err(format!(
                        "{} refused the stranger's key, but not for its signature: {e}",
                        helm.label()
                    ))
                }
            }
            let install = [
                &["install", RELEASE, &published.chart][..],
                &verify,
                &[path(&public), "-n", &ns, "--wait", "--wait-for-jobs", WAIT],
            ]
            .concat();
            helm_in(ctx, helm, &cache, &install).map_err(|e| {
                format!(
                    "{} install {} --version {} --verify: {e}",
                    helm.label(),
                    published.chart,
                    published.version
                )
            })?;
            installed.push((ns, helm));
        }
        for (ns, _) in &installed {
            check_release(ctx, ns, step);
        }
        for (ns, helm) in &installed {
            helm_in(
                ctx,
                helm,
                &cache,
                &["uninstall", RELEASE, "-n", ns, "--wait", WAIT],
            )?;
        }
        Ok::<_, String>(published)
    })();
    match result {
        Ok(p) => {
            step.passed += 1;
            step.detail = format!(
                "geonode {} ({}) signed with a throwaway RSA key and pushed to crane {}'s registry on 127.0.0.1; installed from oci:// with --verify by {}; a stranger's key refused",
                p.version,
                p.digest,
                CRANE.version,
                helms.iter().map(Helm::label).collect::<Vec<_>>().join(" and ")
            );
        }
        Err(e) => step.fail(e),
    }
}

/// `helm` against the control plane, with a cache of this run's own: Helm 4 keeps pulled charts
/// and their provenance by digest, and Helm packages reproducibly, so an earlier run's `.prov`
/// (another throwaway key) would stand in for this one's.
fn helm_in(ctx: &Ctx, helm: &Helm, cache: &Path, args: &[&str]) -> Result<String, String> {
    let mut cmd = helm.command(Some(&ctx.plane.kubeconfig));
    cmd.env("HELM_CACHE_HOME", cache)
        .env("HELM_CONTENT_CACHE", cache.join("content"))
        .args(args);
    crate::cluster::run(cmd)
}
