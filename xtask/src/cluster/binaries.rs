//! The control plane's programs, built from pinned sources through the Go module proxy and
//! cached: kube-apiserver, kube-controller-manager, kube-scheduler and etcd from the module in
//! `xtask/cluster-binaries/` (its go.sum pins every byte), kwok by `go install` at a fixed
//! version (checked against the Go checksum database). A stamp records a finished build, so a
//! warm run builds nothing.

use crate::error::{Context, Error};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Kubernetes of the control plane (the newest supported minor) and etcd are pinned in
/// `xtask/cluster-binaries/go.mod` alone; these must agree with it (a unit test checks).
pub const KUBERNETES_VERSION: &str = "v1.37.2";
pub const ETCD_VERSION: &str = "v3.7.0";
/// kwok is built on its own (`go install`), so its version lives here.
pub const KWOK_VERSION: &str = "v0.8.0";

/// Where the built programs are.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub dir: PathBuf,
}

impl Binaries {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

const KUBE_PACKAGES: [(&str, &str); 4] = [
    ("kube-apiserver", "k8s.io/kubernetes/cmd/kube-apiserver"),
    (
        "kube-controller-manager",
        "k8s.io/kubernetes/cmd/kube-controller-manager",
    ),
    ("kube-scheduler", "k8s.io/kubernetes/cmd/kube-scheduler"),
    ("etcd", "go.etcd.io/etcd/server/v3"),
];

fn stamp_text() -> String {
    // "gated" marks the stages file with the migrations gate; older caches are rebuilt.
    format!("kubernetes {KUBERNETES_VERSION} etcd {ETCD_VERSION} kwok {KWOK_VERSION} gated")
}

/// Builds whatever is missing and returns where the programs are.
pub fn ensure() -> Result<Binaries, Error> {
    let (cache, _lock) = crate::tools::lock_entry(&format!("control-plane-{KUBERNETES_VERSION}"))?;
    let dir = cache.join(format!("control-plane-{KUBERNETES_VERSION}"));
    let stamp = dir.join(".built");
    let binaries = Binaries { dir: dir.clone() };
    if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == stamp_text()) {
        return Ok(binaries);
    }
    fs::create_dir_all(&dir).context(format!("creating {}", dir.display()))?;
    eprintln!(
        "building the control plane ({}) from source; the first build takes minutes",
        stamp_text()
    );
    let started = Instant::now();
    let how_to = "the control plane is built with Go from the module proxy; install Go 1.26 or newer (and keep GOPROXY \
                  reaching the module proxy), or put kube-apiserver, kube-controller-manager, kube-scheduler, etcd and \
                  kwok built from the pinned versions into that folder and write its .built stamp";
    build_kubernetes(&dir, KUBE_PACKAGES.iter().map(|(_, package)| *package)).context(how_to)?;
    for (name, _) in KUBE_PACKAGES.iter().take(3) {
        require_file(&dir.join(name))?;
    }
    // etcd's main package (go.etcd.io/etcd/server/v3) builds as "server"; give it its name.
    let etcd_built = dir.join("server");
    if etcd_built.is_file() {
        fs::rename(&etcd_built, dir.join("etcd")).context("naming the etcd binary")?;
    }
    require_file(&dir.join("etcd"))?;
    let mut kwok = go();
    kwok.env("GOBIN", &dir)
        .arg("install")
        .arg(format!("sigs.k8s.io/kwok/cmd/kwok@{KWOK_VERSION}"));
    run(kwok, "go install kwok").context(how_to)?;
    require_file(&dir.join("kwok"))?;
    write_kwok_stages(&dir.join("kwok-stages.yaml")).context(how_to)?;
    fs::write(&stamp, stamp_text()).context(format!("writing {}", stamp.display()))?;
    eprintln!(
        "built the control plane in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(binaries)
}

/// `go build` of main packages of the pinned module (`xtask/cluster-binaries/`) into `dir`, with
/// Kubernetes' version stamped in.
pub(crate) fn build_kubernetes<'a>(
    dir: &Path,
    packages: impl IntoIterator<Item = &'a str>,
) -> Result<(), Error> {
    let module = crate::project::workspace_root()
        .join("xtask")
        .join("cluster-binaries");
    let mut build = go();
    build
        .current_dir(&module)
        .arg("build")
        .arg("-o")
        .arg(dir)
        .arg("-ldflags")
        .arg(version_ldflags())
        .args(packages);
    run(build, &format!("go build in {}", module.display()))
}

/// What Kubernetes' own build stamps into its binaries: without it the API server reports
/// v0.0.0, and Helm refuses charts that require a Kubernetes version. `-s -w` leave out the
/// symbol table and DWARF (stack traces keep their names): less for the linker to write.
fn version_ldflags() -> String {
    let minor = KUBERNETES_VERSION.split('.').nth(1).unwrap_or("0");
    [
        "k8s.io/component-base/version",
        "k8s.io/client-go/pkg/version",
    ]
    .iter()
    .flat_map(|package| {
        [
            format!("-X {package}.gitVersion={KUBERNETES_VERSION}"),
            format!("-X {package}.gitMajor=1"),
            format!("-X {package}.gitMinor={minor}"),
            format!("-X {package}.gitTreeState=clean"),
        ]
    })
    .chain(["-s".to_string(), "-w".to_string()])
    .collect::<Vec<_>>()
    .join(" ")
}

/// kwok's own "fast" stages (nodes initialised and kept alive by heartbeats, pods made Ready,
/// Job pods Succeeded, deleted pods removed), taken from the pinned kwok module.
const KWOK_STAGE_FOLDERS: [&str; 3] = ["node/fast", "node/heartbeat", "pod/fast"];

/// The chart's migrations gate: the init container of Django and Celery pods. kwok runs no
/// containers, so the e2e harness plays it: such a pod turns Ready only once it carries
/// MIGRATED_LABEL, which the harness sets when the release's init Job has completed.
pub const MIGRATIONS_GATE: &str = "wait-for-migrations";
pub const MIGRATED_LABEL: &str = "e2e.geonode-k8s.io/migrated";

/// kwok's pod-ready stage split in two: pods without the gate as before, gated pods only once
/// they carry MIGRATED_LABEL.
fn gate_pod_ready(stage: &str) -> String {
    let gate = format!(
        "    - key: '.spec.initContainers.[]? | select(.name == \"{MIGRATIONS_GATE}\") | .name'\n      operator: '{{op}}'\n      values: ['{MIGRATIONS_GATE}']\n"
    );
    let ungated = stage.replacen(
        "    matchExpressions:\n",
        &format!("    matchExpressions:\n{}", gate.replace("{op}", "NotIn")),
        1,
    );
    let migrated = format!(
        "    - key: '.metadata.labels[\"{MIGRATED_LABEL}\"]'\n      operator: 'In'\n      values: ['true']\n"
    );
    let gated = stage
        .replacen("name: pod-ready\n", "name: pod-ready-after-migrations\n", 1)
        .replacen(
            "    matchExpressions:\n",
            &format!(
                "    matchExpressions:\n{}{migrated}",
                gate.replace("{op}", "In")
            ),
            1,
        );
    format!("{ungated}\n---\n{gated}")
}

fn write_kwok_stages(target: &Path) -> Result<(), Error> {
    let out = go()
        .args(["env", "GOMODCACHE"])
        .output()
        .context("running go env GOMODCACHE")?;
    let cache = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let root = cache.join(format!("sigs.k8s.io/kwok@{KWOK_VERSION}/kustomize/stage"));
    let mut stages = String::new();
    for folder in KWOK_STAGE_FOLDERS {
        let dir = root.join(folder);
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .context(format!("listing kwok's stages in {}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "yaml")
                    && p.file_name().is_some_and(|n| n != "kustomization.yaml")
            })
            .collect();
        files.sort();
        for file in files {
            let text = fs::read_to_string(&file).context(format!("reading {}", file.display()))?;
            stages.push_str("---\n");
            if file.file_name().is_some_and(|n| n == "pod-ready.yaml") {
                if !text.contains("name: pod-ready\n") || !text.contains("    matchExpressions:\n")
                {
                    return Err(Error::msg(format!(
                        "{} is not the pod-ready stage the harness knows how to gate",
                        file.display()
                    )));
                }
                stages.push_str(&gate_pod_ready(&text));
            } else {
                stages.push_str(&text);
            }
        }
    }
    fs::write(target, stages).context(format!("writing {}", target.display()))
}

pub(crate) fn go() -> Command {
    let mut cmd = Command::new(std::env::var("GO").unwrap_or_else(|_| "go".into()));
    // -mod=readonly: go.mod and go.sum are used as committed, never updated (a module go.sum
    // does not pin fails the build); -trimpath keeps paths of this machine out.
    cmd.env("GOFLAGS", "-mod=readonly -trimpath");
    cmd
}

/// Go programs the harness builds with `go install package@version` (checked against Go's
/// checksum database) into the tool cache's `<name>-<version>/` folder: `packages` are main
/// packages of one module at `version`, each built under its last path element (`name` is the
/// first). `cgo_tags` builds with cgo and these build tags (runc's seccomp needs libseccomp);
/// `why` says what needs it, for the error without Go.
pub struct GoTool {
    pub name: &'static str,
    pub version: &'static str,
    pub packages: &'static [&'static str],
    pub cgo_tags: Option<&'static str>,
    pub why: &'static str,
}

impl GoTool {
    /// The programs' names, as `go install` names the binaries.
    pub fn programs(&self) -> impl Iterator<Item = &'static str> {
        self.packages
            .iter()
            .map(|p| p.rsplit('/').next().unwrap_or(p))
    }
}

/// `tool`, built once (under its own lock, so a background build is waited for): the path of
/// its program `name` (the others are beside it).
pub(crate) fn go_installed(tool: &GoTool) -> Result<PathBuf, Error> {
    let (cache, _lock) = crate::tools::lock_entry(&format!("{}-{}", tool.name, tool.version))?;
    let dir = cache.join(format!("{}-{}", tool.name, tool.version));
    let binary = dir.join(tool.name);
    let stamp = dir.join(".built");
    let built = || tool.programs().all(|p| dir.join(p).is_file());
    if built() && fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == tool.version) {
        return Ok(binary);
    }
    fs::create_dir_all(&dir).context(format!("creating {}", dir.display()))?;
    eprintln!(
        "building {} {} with go install (once)",
        tool.name, tool.version
    );
    let started = Instant::now();
    let mut install = go();
    install
        .env("GOBIN", &dir)
        .args(["install", "-ldflags=-s -w"]);
    match tool.cgo_tags {
        Some(tags) => install.env("CGO_ENABLED", "1").arg(format!("-tags={tags}")),
        None => install.env("CGO_ENABLED", "0"),
    };
    install.args(
        tool.packages
            .iter()
            .map(|p| format!("{p}@{}", tool.version)),
    );
    let needs = match tool.cgo_tags {
        Some(_) => "Go 1.26 or newer and a C compiler with the libraries it links (see the error)",
        None => "Go 1.26 or newer",
    };
    run(
        install,
        &format!("go install {}@{}", tool.name, tool.version),
    )
    .context(format!(
        "{} is built with Go from the module proxy; install {needs}",
        tool.why
    ))?;
    for program in tool.programs() {
        require_file(&dir.join(program))?;
    }
    fs::write(&stamp, tool.version).context(format!("writing {}", stamp.display()))?;
    eprintln!(
        "built {} in {:.0} s",
        tool.name,
        started.elapsed().as_secs_f64()
    );
    Ok(binary)
}

pub(crate) fn run(mut cmd: Command, what: &str) -> Result<(), Error> {
    let out = cmd
        .output()
        .context(format!("running {what} (is Go installed?)"))?;
    if !out.status.success() {
        return Err(Error::msg(format!(
            "{what} failed:\n{}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

fn require_file(path: &Path) -> Result<(), Error> {
    if path.is_file() {
        Ok(())
    } else {
        Err(Error::msg(format!(
            "the build produced no {}",
            path.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_agree_with_the_go_module() {
        let go_mod = fs::read_to_string(
            crate::project::workspace_root().join("xtask/cluster-binaries/go.mod"),
        )
        .unwrap();
        assert!(
            go_mod.contains(&format!("k8s.io/kubernetes {KUBERNETES_VERSION}\n")),
            "go.mod pins another Kubernetes"
        );
        assert!(
            go_mod.contains(&format!("go.etcd.io/etcd/server/v3 {ETCD_VERSION}")),
            "go.mod pins another etcd"
        );
        let staging = KUBERNETES_VERSION.replacen("v1.", "v0.", 1);
        for line in go_mod.lines().filter(|l| l.contains(" => ")) {
            assert!(
                line.ends_with(&staging),
                "{line} must replace with {staging}"
            );
        }
    }

    #[test]
    fn pod_ready_is_split_at_the_migrations_gate() {
        let stage = "metadata:\n  name: pod-ready\nspec:\n  selector:\n    matchExpressions:\n    - key: '.status.phase'\n";
        let split = gate_pod_ready(stage);
        let (ungated, gated) = split.split_once("\n---\n").unwrap();
        assert!(
            ungated.contains("name: pod-ready\n") && ungated.contains("operator: 'NotIn'"),
            "{ungated}"
        );
        assert!(
            gated.contains("name: pod-ready-after-migrations") && gated.contains(MIGRATED_LABEL),
            "{gated}"
        );
        assert!(
            gated.contains("operator: 'In'") && gated.contains("- key: '.status.phase'"),
            "{gated}"
        );
    }

    #[test]
    fn ldflags_stamp_the_version() {
        let flags = version_ldflags();
        assert!(flags.contains(&format!(
            "k8s.io/component-base/version.gitVersion={KUBERNETES_VERSION}"
        )));
        assert!(flags.contains("gitMinor=37"));
    }
}
