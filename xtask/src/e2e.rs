//! `cargo xtask e2e`: the chart's life on a real control plane. Install (Helm waits for every
//! workload and the init Job), upgrade with a changed setting (only the pods that use it roll,
//! generated Secrets keep their values), upgrade from the previous commit's chart, roll back,
//! uninstall (data volumes and their Secrets stay) and install again on the kept data; then a
//! server-side dry run with strict field validation of every values file. The namespace enforces
//! Pod Security "restricted", so a pod the API server refuses fails the run.
//!
//! kwok plays the nodes: pods are scheduled and admitted for real, then marked Running and
//! Ready (and Job pods Succeeded) without running containers; probes and images are not run.

use crate::cluster::ControlPlane;
use crate::error::Error;
use crate::project::{Project, Scenario, RELEASE};
use crate::report::{Report, Step};
use crate::tools;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const NAMESPACE: &str = "geonode-e2e";
const WAIT: &str = "--timeout=4m";

struct Ctx<'a> {
    project: &'a Project,
    plane: ControlPlane,
    helm: PathBuf,
    helm_home: PathBuf,
}

pub fn run(project: &Project) -> Result<Report, Error> {
    let started = Instant::now();
    let mut report = Report::default();
    let tools = tools::ensure()?;
    let helm = tools.helms.last().expect("Helm 4 is pinned").path.clone();
    let dir = crate::workspace_root()
        .join(".cache")
        .join(format!("e2e-{}", std::process::id()));
    let mut plane = None;
    report.step("control-plane", |step| match ControlPlane::start(&dir, true, 3) {
        Ok(p) => {
            step.passed += 1;
            step.detail = format!(
                "etcd, kube-apiserver, kube-controller-manager, kube-scheduler {}, kwok {}, 3 nodes",
                crate::cluster::binaries::KUBERNETES_VERSION,
                crate::cluster::binaries::KWOK_VERSION
            );
            plane = Some(p);
        }
        Err(e) => step.fail(e.to_string()),
    });
    let Some(plane) = plane else {
        report.finish(started.elapsed());
        return Ok(report);
    };
    let ctx = Ctx {
        project,
        plane,
        helm,
        helm_home: tools.helm_home.clone(),
    };
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        // The cluster has no storage provisioner: bind every pending claim to a fresh volume.
        scope.spawn(|| provision_volumes(&ctx, &stop));
        lifecycle(&ctx, &mut report);
        report.step("server-dry-run", |step| server_dry_run(&ctx, step));
        stop.store(true, Ordering::Relaxed);
    });
    report.finish(started.elapsed());
    Ok(report)
}

fn lifecycle(ctx: &Ctx, report: &mut Report) {
    let chart = ctx.project.chart.clone();
    report.step("namespace", |step| step.record(create_namespace(ctx)));
    report.step("install", |step| {
        step.record(helm_install(ctx, &chart, &[]));
        check_release(ctx, step);
    });
    let before = workload_templates(ctx);
    let secrets_before = secret_data(ctx);
    report.step("upgrade", |step| {
        step.record(ctx.helm(&["upgrade", RELEASE, path(&chart), "-n", NAMESPACE, "--wait", WAIT, "--reuse-values", "--set", "nginx.maxBodySize=5g"]).map(|_| ()));
        let after = workload_templates(ctx);
        let rolled: Vec<&String> = after.iter().filter(|(k, v)| before.get(*k) != Some(v)).map(|(k, _)| k).collect();
        step.record(if rolled.iter().map(|s| s.as_str()).eq(["Deployment/geonode-nginx"]) {
            Ok(())
        } else {
            Err(format!("changing nginx.maxBodySize must roll Deployment/geonode-nginx alone; these workloads changed: {rolled:?}"))
        });
        step.record(if secret_data(ctx) == secrets_before {
            Ok(())
        } else {
            Err("the upgrade changed the data of a generated Secret; generated credentials must be kept".into())
        });
        check_release(ctx, step);
    });
    report.step("rollback", |step| {
        step.record(
            ctx.helm(&["rollback", RELEASE, "1", "-n", NAMESPACE, "--wait", WAIT])
                .map(|_| ()),
        );
        step.record(if workload_templates(ctx) == before {
            Ok(())
        } else {
            Err(
                "after `helm rollback` to revision 1 the workloads differ from the first install"
                    .into(),
            )
        });
        check_release(ctx, step);
    });
    report.step("uninstall-keeps-data", |step| {
        step.record(ctx.helm(&["uninstall", RELEASE, "-n", NAMESPACE, "--wait", WAIT]).map(|_| ()));
        for (kind, name) in kept_objects() {
            step.record(ctx.plane.kubectl(&["get", kind, &name, "-n", NAMESPACE]).map(|_| ()).map_err(|e| {
                format!("{kind} {name} must survive `helm uninstall` (it holds data or the key to it): {e}")
            }));
        }
    });
    report.step("reinstall", |step| {
        step.record(helm_install(ctx, &chart, &[]));
        step.record(if secret_data(ctx) == secrets_before {
            Ok(())
        } else {
            Err("a reinstall generated new credentials instead of reusing the kept Secrets".into())
        });
        check_release(ctx, step);
        step.record(
            ctx.helm(&["uninstall", RELEASE, "-n", NAMESPACE, "--wait", WAIT])
                .map(|_| ()),
        );
    });
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

/// Objects an uninstall must leave: the shared data volumes, the databases' claims, the
/// Secrets that open them.
fn kept_objects() -> Vec<(&'static str, String)> {
    vec![
        ("pvc", format!("{RELEASE}-statics")),
        ("pvc", format!("{RELEASE}-geoserver-data")),
        ("pvc", format!("data-{RELEASE}-postgresql-0")),
        ("secret", format!("{RELEASE}-secrets")),
        ("secret", format!("{RELEASE}-postgresql")),
        ("secret", format!("{RELEASE}-redis")),
    ]
}

impl Ctx<'_> {
    fn helm(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = Command::new(&self.helm);
        for (var, sub) in [
            ("HELM_CACHE_HOME", "cache"),
            ("HELM_CONFIG_HOME", "config"),
            ("HELM_DATA_HOME", "data"),
        ] {
            cmd.env(var, self.helm_home.join(sub));
        }
        cmd.env("KUBECONFIG", &self.plane.kubeconfig).args(args);
        crate::cluster::run(cmd)
    }
}

fn create_namespace(ctx: &Ctx) -> Result<(), String> {
    let manifest = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {NAMESPACE}\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n    pod-security.kubernetes.io/enforce-version: latest\n"
    );
    ctx.plane
        .kubectl_stdin(&["apply", "-f", "-"], &manifest)
        .map(|_| ())
}

fn helm_install(ctx: &Ctx, chart: &Path, extra: &[&str]) -> Result<(), String> {
    let mut args = vec![
        "install",
        RELEASE,
        path(chart),
        "-n",
        NAMESPACE,
        "--wait",
        "--wait-for-jobs",
        WAIT,
    ];
    args.extend_from_slice(extra);
    ctx.helm(&args)
        .map(|_| ())
        .map_err(|e| format!("helm install failed: {e}\n{}", why_not_ready(ctx)))
}

/// What Kubernetes said about pods it could not create or schedule.
fn why_not_ready(ctx: &Ctx) -> String {
    ctx.plane
        .kubectl(&[
            "get",
            "events",
            "-n",
            NAMESPACE,
            "--field-selector=type=Warning",
            "-o",
            "custom-columns=OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message",
        ])
        .unwrap_or_default()
}

/// Every object of the release exists; every pod is Ready (or Succeeded, for the Job's).
fn check_release(ctx: &Ctx, step: &mut Step) {
    match ctx.helm(&["get", "manifest", RELEASE, "-n", NAMESPACE]) {
        Err(e) => step.fail(format!("helm get manifest: {e}")),
        Ok(manifest) => step.record(
            ctx.plane
                .kubectl_stdin(
                    &["get", "-n", NAMESPACE, "-f", "-", "-o", "name"],
                    &manifest,
                )
                .map(|_| ())
                .map_err(|e| format!("not every rendered object exists on the server: {e}")),
        ),
    }
    let pods = ctx
        .plane
        .kubectl(&["get", "pods", "-n", NAMESPACE, "-o", "json"])
        .map_err(|e| e.to_string());
    step.record(pods.and_then(|text| {
        let pods: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let items = pods["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return Err("the release has no pods".into());
        }
        let unready: Vec<String> = items
            .iter()
            .filter(|p| {
                let phase = p["status"]["phase"].as_str().unwrap_or("");
                let ready = p["status"]["conditions"].as_array().is_some_and(|c| {
                    c.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                });
                !(phase == "Succeeded" || (phase == "Running" && ready))
            })
            .map(|p| {
                format!(
                    "{} ({})",
                    p["metadata"]["name"].as_str().unwrap_or("?"),
                    p["status"]["phase"].as_str().unwrap_or("?")
                )
            })
            .collect();
        if unready.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "pods not Ready: {}\n{}",
                unready.join(", "),
                why_not_ready(ctx)
            ))
        }
    }));
}

/// Deployment and StatefulSet pod templates, by `Kind/name`.
fn workload_templates(ctx: &Ctx) -> BTreeMap<String, String> {
    let text = ctx
        .plane
        .kubectl(&[
            "get",
            "deployments,statefulsets",
            "-n",
            NAMESPACE,
            "-o",
            "json",
        ])
        .unwrap_or_default();
    let list: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            (
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap_or("?"),
                    o["metadata"]["name"].as_str().unwrap_or("?")
                ),
                o["spec"]["template"].to_string(),
            )
        })
        .collect()
}

/// The data of the release's Secrets, by name.
fn secret_data(ctx: &Ctx) -> BTreeMap<String, String> {
    let text = ctx
        .plane
        .kubectl(&["get", "secrets", "-n", NAMESPACE, "-o", "json"])
        .unwrap_or_default();
    let list: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["type"] == "Opaque")
        .map(|o| {
            (
                o["metadata"]["name"].as_str().unwrap_or("?").to_string(),
                o["data"].to_string(),
            )
        })
        .collect()
}

/// Binds each pending claim of the namespace to a new hostPath volume of its class, size and
/// access modes, until `stop`.
fn provision_volumes(ctx: &Ctx, stop: &AtomicBool) {
    let mut made = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let text = ctx
            .plane
            .kubectl(&["get", "pvc", "-n", NAMESPACE, "-o", "json"])
            .unwrap_or_default();
        let list: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        for claim in list["items"].as_array().into_iter().flatten() {
            if claim["status"]["phase"] != "Pending" || !claim["spec"]["volumeName"].is_null() {
                continue;
            }
            made += 1;
            let name = claim["metadata"]["name"].as_str().unwrap_or("?");
            let class = claim["spec"]["storageClassName"].as_str().unwrap_or("");
            let size = claim["spec"]["resources"]["requests"]["storage"]
                .as_str()
                .unwrap_or("1Gi");
            let modes = claim["spec"]["accessModes"].to_string();
            let pv = format!(
                "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: e2e-pv-{made}\nspec:\n  capacity: {{storage: {size}}}\n  accessModes: {modes}\n  persistentVolumeReclaimPolicy: Retain\n  storageClassName: \"{class}\"\n  hostPath: {{path: /tmp/e2e-pv-{made}}}\n  claimRef: {{namespace: {NAMESPACE}, name: {name}}}\n"
            );
            let _ = ctx.plane.kubectl_stdin(&["apply", "-f", "-"], &pv);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Every values file, rendered and sent to the API server as a server-side dry run with strict
/// field validation: what the server would refuse, short of creating anything.
fn server_dry_run(ctx: &Ctx, step: &mut Step) {
    let scenarios = match ctx.project.scenarios() {
        Ok(s) => s,
        Err(e) => return step.fail(e.to_string()),
    };
    for scenario in &scenarios {
        step.record(dry_run_one(ctx, scenario).map_err(|e| format!("{}: {e}", scenario.name)));
    }
    step.detail = format!(
        "{} scenarios, kubectl apply --dry-run=server --validate=strict",
        scenarios.len()
    );
}

fn dry_run_one(ctx: &Ctx, scenario: &Scenario) -> Result<(), String> {
    let mut args = vec![
        "template".to_string(),
        RELEASE.into(),
        path(&ctx.project.chart).into(),
        "-n".into(),
        NAMESPACE.into(),
    ];
    for values in scenario
        .values
        .iter()
        .chain(ctx.project.render_pins_for(scenario).iter())
    {
        args.push("-f".into());
        args.push(values.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let manifest = ctx.helm(&args)?;
    // Kinds whose CRDs this cluster lacks (Gateway API) cannot be checked by the server.
    let served: String = manifest
        .split("\n---")
        .filter(|doc| !doc.contains("kind: HTTPRoute"))
        .collect::<Vec<_>>()
        .join("\n---");
    ctx.plane
        .kubectl_stdin(
            &[
                "apply",
                "-n",
                NAMESPACE,
                "--dry-run=server",
                "--validate=strict",
                "-f",
                "-",
            ],
            &served,
        )
        .map(|_| ())
}
