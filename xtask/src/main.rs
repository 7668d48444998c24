//! The geonode-k8s harness. `cargo xtask check` is what CI and people run.

mod accepted_risks;
mod bad_values;
mod bench;
mod chart_metadata;
mod check;
mod cluster;
mod contract;
mod credential_leaks;
mod data_file;
mod debian;
mod docs;
mod e2e;
mod error;
mod fuzz;
mod golden;
mod helm;
mod k8s_yaml;
mod manifest;
mod monitoring;
mod network;
mod node;
mod node_e2e;
mod parallel;
mod policy;
mod process;
mod project;
mod providers;
mod readable;
mod release;
mod report;
mod resources;
mod schema;
mod schema_defs;
mod tools;
mod versions;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  check   lint, render every scenario under Helm 3 and 4 for every supported Kubernetes minor,
          validate every object against the strict schemas, apply the policy rules, run the
          bad-values cases, fuzz the values (a share of each kind) and diff the goldens;
          prints `N passed, M failed`
  fuzz    make every value of chart/values.yaml wrong in every way its kind allows (unknown keys,
          wrong types, negatives, nonsense quantities, ...), render each with both Helms and
          report the share the chart refuses (at least 97%), per kind, and every one it accepts
  bless   rewrite tests/golden/ from the current chart
  schema-defs
          copy the Kubernetes definitions of the values the chart passes through (affinity,
          security contexts, volumes, ...) from the oldest supported minor's schemas into
          chart/values.schema.json, and point those values at them
  docs    build the docs site (docs/ with chart/README.md as its chart page) into target/docs-site
          with the pinned generator in strict mode
  setup   install the pinned tools (Helm 3 and 4, Kubernetes schemas) into .cache/tools
  go-tools
          build the Go programs the harness runs (the S3 gateway, cyclonus, the control plane
          and kwok, crane, the real node's kubelet, kube-proxy, containerd, runc and CoreDNS)
          into .cache/tools; the steps build them on first use anyway, CI starts this early in
          the background so the builds overlap the other steps
  e2e     install, upgrade, roll back and uninstall the chart on a real control plane (built
          from pinned sources, kwok nodes) in a Pod Security restricted namespace
  node-e2e
          the chart on a real node (root): kubelet, containerd and runc beside the control
          plane run every pod of `helm install --wait` of the defaults, with images built here
          from Debian's packages (tests/node-e2e/values.yaml); then helm test, kubelet
          restarted, a pod killed, an upgrade under load, a backup. Leaves nothing on the host
  node-images
          build the real node's images (mmdebstrap, one layer each) into .cache/tools; CI
          starts it in the background once the contract has made GeoNode's venv
  node-cleanup [<dir>]
          take back what a node left on the host (node-e2e and its watchdog do this themselves)
  contract
          run what the chart renders with the real programs (nginx, PostgreSQL + PostGIS, Redis
          from Debian's packages) as local processes
  bench   the chart's Django and nginx against upstream's own configuration (geonode-project's
          uwsgi.ini and entrypoint steps, geonode-docker's nginx) on one site with the contract's
          software, in interleaved rounds, plus the machine's static-file ceiling: restart and
          new-pod start, req/s and p50/p99 per page at c=8 and c=32, static files with and
          without gzip, cache headers, uwsgi memory; prints the table and writes
          target/bench/bench.{md,json}. A benchmark: it never fails on a time
  release package and sign the chart (Helm provenance), verify it, push it to an OCI registry and
          tag the commit geonode-<version>, after every check passed; the version must be new
          and have its CHANGELOG.md section (docs/releasing.md)
  cluster up|down
          leave that control plane running and print its kubeconfig / stop it

options:
  --root <dir>          a project laid out like this repository (default: the repository)
  --kube-minors <list>  only these Kubernetes minors, e.g. 33,37 (default: all supported)
  --parts <list>        contract: only these parts, e.g. geoserver or nginx,geonode (geonode
                        brings the databases it needs; default: all)
  --rounds <n>          bench: interleaved rounds (default 5)
  --seconds <n>         bench: seconds per load run (default 10)
  --smoke               bench: one round of 3-second runs (what CI runs)
  --registry <oci://..> release: where the chart goes (<path>/geonode:<version>)
  --key <user ID>       release: the signing key in --keyring (RSA: Helm 3 reads no other)
  --keyring <file>      release: binary secret keyring (gpg --export-secret-keys <id> > file)
  --passphrase-file <f> release: the key's passphrase, for a protected key
  --plain-http          release: a registry without TLS

environment:
  HELM3, HELM4   use these helm binaries instead of the pinned downloads
  PYTHON         the python used to download tools (default: python3)";

#[derive(Debug)]
struct Args {
    command: String,
    /// `up` or `down` for `cluster`; the node's folder for `node-cleanup`.
    subcommand: Option<String>,
    root: PathBuf,
    kube_minors: Vec<u32>,
    /// `contract --parts`: empty means all.
    parts: Vec<String>,
    bench: bench::Options,
    /// `release`: --registry, --key, --keyring, --passphrase-file, --plain-http.
    registry: Option<String>,
    key: Option<String>,
    keyring: Option<PathBuf>,
    passphrase_file: Option<PathBuf>,
    plain_http: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let command = args.next().ok_or("no command given")?;
    let subcommand = if command == "cluster" {
        Some(
            args.next()
                .filter(|s| s == "up" || s == "down")
                .ok_or("cluster takes up or down")?,
        )
    } else if command == "node-cleanup" {
        args.next()
    } else {
        None
    };
    let mut parsed = Args {
        command,
        subcommand,
        root: project::workspace_root(),
        kube_minors: tools::KUBE_MINORS.to_vec(),
        parts: Vec::new(),
        bench: bench::Options::FULL,
        registry: None,
        key: None,
        keyring: None,
        passphrase_file: None,
        plain_http: false,
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--root" => parsed.root = PathBuf::from(value()?),
            "--parts" => {
                parsed.parts = value()?.split(',').map(|p| p.trim().to_string()).collect();
                if let Some(unknown) = parsed
                    .parts
                    .iter()
                    .find(|p| !contract::PARTS.contains(&p.as_str()))
                {
                    return Err(format!(
                        "--parts: no part {unknown:?}; choose from {:?}",
                        contract::PARTS
                    ));
                }
            }
            "--rounds" | "--seconds" => {
                let n: u64 = value()?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(format!("{arg} takes a whole number above 0"))?;
                if arg == "--rounds" {
                    parsed.bench.rounds = n as usize;
                } else {
                    parsed.bench.seconds = n;
                }
            }
            "--smoke" => parsed.bench = bench::Options::SMOKE,
            "--registry" => parsed.registry = Some(value()?),
            "--key" => parsed.key = Some(value()?),
            "--keyring" => parsed.keyring = Some(PathBuf::from(value()?)),
            "--passphrase-file" => parsed.passphrase_file = Some(PathBuf::from(value()?)),
            "--plain-http" => parsed.plain_http = true,
            "--kube-minors" => {
                let list = value()?;
                let mut minors = Vec::new();
                for part in list.split(',') {
                    let minor: u32 =
                        part.trim().trim_start_matches("1.").parse().map_err(|_| {
                            format!("--kube-minors takes minors like 33,37, not {part:?}")
                        })?;
                    if !tools::KUBE_MINORS.contains(&minor) {
                        return Err(format!(
                            "Kubernetes 1.{minor} is not supported; choose from {:?}",
                            tools::KUBE_MINORS
                        ));
                    }
                    minors.push(minor);
                }
                minors.sort_unstable();
                minors.dedup();
                parsed.kube_minors = minors;
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(parsed)
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match args.command.as_str() {
        "setup" => tools::ensure().map(|t| {
            for h in &t.helms {
                println!("helm {}: {}", h.major, h.path.display());
            }
            println!("schemas: {}", t.schema_root.display());
            true
        }),
        "go-tools" => go_tools_command(),
        "docs" => project::Project::at(&args.root).and_then(|project| {
            let out = project.root.join("target").join("docs-site");
            docs::site::build(&project, &out)?;
            println!("built the docs site into {}", out.display());
            Ok(true)
        }),
        "cluster" => cluster_command(args.subcommand.as_deref() == Some("up")),
        "fuzz" => project::Project::at(&args.root).and_then(|project| {
            let newest = *args
                .kube_minors
                .last()
                .expect("at least one Kubernetes minor");
            fuzz::run(&project, newest)
        }),
        "e2e" => project::Project::at(&args.root)
            .and_then(|project| e2e::run(&project).map(|report| report.failed() == 0)),
        "node-e2e" => project::Project::at(&args.root)
            .and_then(|project| node_e2e::run(&project).map(|report| report.failed() == 0)),
        "node-images" => project::Project::at(&args.root).and_then(|project| {
            let started = std::time::Instant::now();
            for image in node_e2e::build_images(&project)? {
                println!("{} ({:.0} s)", image.reference, image.seconds);
            }
            println!(
                "node images ready in {:.0} s",
                started.elapsed().as_secs_f64()
            );
            Ok(true)
        }),
        "node-cleanup" => {
            let dir = args
                .subcommand
                .clone()
                .map(PathBuf::from)
                .unwrap_or_else(|| project::workspace_root().join(".cache").join("node-e2e"));
            node::host::cleanup(&dir);
            println!("cleaned up the node of {}", dir.display());
            Ok(true)
        }
        "contract" => project::Project::at(&args.root).and_then(|project| {
            contract::run(&project, &args.parts).map(|report| report.failed() == 0)
        }),
        "bench" => project::Project::at(&args.root).and_then(|project| {
            bench::run(&project, args.bench).map(|report| report.failed() == 0)
        }),
        "release" => release_command(&args),
        "schema-defs" => {
            project::Project::at(&args.root).and_then(|p| schema_defs::run(&p).map(|()| true))
        }
        "check" | "bless" => project::Project::at(&args.root).and_then(|project| {
            let options = check::Options {
                kube_minors: args.kube_minors,
                bless: args.command == "bless",
            };
            check::run(&project, &options).map(|report| report.failed() == 0)
        }),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(true)
        }
        other => {
            eprintln!("unknown command {other:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// `release`: the options it needs, then the release.
fn release_command(args: &Args) -> Result<bool, error::Error> {
    let (Some(registry), Some(key), Some(keyring)) = (&args.registry, &args.key, &args.keyring)
    else {
        return Err(error::Error::msg(
            "release needs --registry oci://host/path, --key <signing key's user ID> and --keyring <binary secret keyring>; see docs/releasing.md",
        ));
    };
    let options = release::Options {
        registry: registry.clone(),
        key: key.clone(),
        keyring: keyring.clone(),
        passphrase_file: args.passphrase_file.clone(),
        plain_http: args.plain_http,
    };
    let project = project::Project::at(&args.root)?;
    let tools = tools::ensure()?;
    let helm = helm::Helm::all(&tools).pop().expect("Helm 4 is pinned");
    release::run(&project, &helm, &options).map(|report| report.failed() == 0)
}

/// `go-tools`: every Go program, in the order CI's steps first need them (contract, check, e2e).
fn go_tools_command() -> Result<bool, error::Error> {
    use cluster::binaries::go_installed;
    let started = std::time::Instant::now();
    go_installed(&contract::s3::GATEWAY)?;
    go_installed(&contract::metrics::exporters::NGINX_EXPORTER)?;
    go_installed(&contract::metrics::exporters::REDIS_EXPORTER)?;
    go_installed(&network::cyclonus::CYCLONUS)?;
    cluster::binaries::ensure()?;
    go_installed(&e2e::oci::CRANE)?;
    node::programs::ensure()?;
    println!(
        "Go programs ready in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(true)
}

/// `cluster up`: a control plane left running in .cache/cluster; `cluster down` stops it.
fn cluster_command(up: bool) -> Result<bool, error::Error> {
    let dir = project::workspace_root().join(".cache").join("cluster");
    if !up {
        let stopped = cluster::down(&dir)?;
        println!("stopped {stopped} processes and removed {}", dir.display());
        return Ok(true);
    }
    if dir.join("pids").exists() {
        return Err(error::Error::msg(format!(
            "a control plane is already up (kubeconfig {}); run `cargo xtask cluster down` first",
            dir.join("kubeconfig").display()
        )));
    }
    let plane = cluster::ControlPlane::start(&dir, false, e2e::NODES)?;
    let kubeconfig = plane.detach()?;
    println!("control plane up; logs in {}", dir.display());
    println!("export KUBECONFIG={}", kubeconfig.display());
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, String> {
        parse_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn kube_minors_are_checked() {
        assert_eq!(
            args(&["check", "--kube-minors", "37,1.33,33"])
                .unwrap()
                .kube_minors,
            vec![33, 37]
        );
        assert!(args(&["check", "--kube-minors", "20"])
            .unwrap_err()
            .contains("not supported"));
        assert!(args(&["check", "--bogus"])
            .unwrap_err()
            .contains("unknown option"));
    }
}
