//! What the API server itself must refuse: every values file as a server-side dry run with strict
//! field validation (Pod Security warnings count), and negative controls that show the checks
//! can fail.

use super::*;

/// Every values file, rendered and sent to the API server as a server-side dry run with strict
/// field validation, into an empty namespace: what the server would refuse, short of creating it.
pub fn server_dry_run(ctx: &Ctx, step: &mut Step) {
    let scenarios = match ctx.project.scenarios() {
        Ok(s) => s,
        Err(e) => return step.fail(e.to_string()),
    };
    if let Err(e) = create_namespace(ctx, DRY_RUN_NAMESPACE).and_then(|()| apply_crds(ctx)) {
        return step.fail(e);
    }
    for scenario in &scenarios {
        step.record(dry_run_one(ctx, scenario).map_err(|e| format!("{}: {e}", scenario.name)));
    }
    step.detail = format!(
        "{} scenarios, kubectl create --dry-run=server --validate=strict, the CRDs of tests/crd-schemas/ applied",
        scenarios.len()
    );
}

/// The custom resources' CRDs the repository keeps (tests/crd-schemas/: the Prometheus
/// Operator's), applied as their projects publish them, so the server checks those objects too.
pub fn apply_crds(ctx: &Ctx) -> Result<(), String> {
    let dir = ctx.project.root.join("tests").join("crd-schemas");
    let mut names = Vec::new();
    let files = crate::project::files_under(&dir).map_err(|e| e.to_string())?;
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
    {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        ctx.plane
            .kubectl_stdin(&["apply", "--server-side", "-f", "-"], &text)?;
        if let Some(name) = text.lines().find_map(|l| l.strip_prefix("  name: ")) {
            names.push(format!("crd/{}", name.trim()));
        }
    }
    let mut wait = vec!["wait", "--for=condition=established", "--timeout=60s"];
    wait.extend(names.iter().map(String::as_str));
    ctx.plane.kubectl(&wait).map(|_| ())
}

fn dry_run_one(ctx: &Ctx, scenario: &Scenario) -> Result<(), String> {
    let files: Vec<PathBuf> = scenario
        .values
        .iter()
        .chain(ctx.project.render_pins_for(scenario).iter())
        .cloned()
        .collect();
    server_accepts(ctx, &files, &[])
}

/// The chart rendered with these values and `--set`s, as a server-side dry run with strict field
/// validation in the restricted namespace. Pod Security warnings on workloads ("would violate
/// PodSecurity") count as refusals: their pods would be.
fn server_accepts(ctx: &Ctx, files: &[PathBuf], sets: &[&str]) -> Result<(), String> {
    let mut args: Vec<String> = vec![
        "template".into(),
        RELEASE.into(),
        path(&ctx.project.chart).into(),
    ];
    args.extend(["-n".into(), DRY_RUN_NAMESPACE.into()]);
    for values in files {
        args.extend(["-f".into(), values.display().to_string()]);
    }
    for set in sets {
        args.extend(["--set".into(), set.to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let manifest = ctx.helm(&args)?;
    // Kinds whose CRDs this cluster lacks (Gateway API) cannot be checked by the server.
    let served: Vec<&str> = manifest
        .split("\n---")
        .filter(|doc| !doc.contains("\nkind: HTTPRoute"))
        .collect();
    // Objects the values put in another namespace (the dashboard beside Grafana) go to a
    // dry-run namespace of their own: the docs' pages may have made the real one, and its objects.
    let mut by_namespace: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for doc in served {
        let other = doc
            .lines()
            .find_map(|l| l.strip_prefix("  namespace: "))
            .map(str::trim)
            .filter(|n| *n != DRY_RUN_NAMESPACE);
        let (namespace, doc) = match other {
            Some(other) => {
                let own = format!("{DRY_RUN_NAMESPACE}-{other}");
                let moved = doc.replace(
                    &format!("\n  namespace: {other}\n"),
                    &format!("\n  namespace: {own}\n"),
                );
                (own, moved)
            }
            None => (DRY_RUN_NAMESPACE.to_string(), doc.to_string()),
        };
        by_namespace.entry(namespace).or_default().push(doc);
    }
    let mut warnings = String::new();
    for (namespace, docs) in by_namespace {
        if namespace != DRY_RUN_NAMESPACE {
            create_namespace(ctx, &namespace)?;
        }
        let (_, said) = ctx.plane.kubectl_capturing(
            &[
                "create",
                "-n",
                &namespace,
                "--dry-run=server",
                "--validate=strict",
                "-o",
                "name",
                "-f",
                "-",
            ],
            &docs.join("\n---"),
        )?;
        warnings.push_str(&said);
    }
    let refused: Vec<&str> = warnings
        .lines()
        .filter(|l| l.contains("would violate PodSecurity"))
        .collect();
    if refused.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the namespace's Pod Security level would refuse these pods:\n{}",
            refused.join("\n")
        ))
    }
}

/// The checks above must be able to fail: a pod that breaks the namespace's Pod Security level,
/// and an upgrade that changes an immutable field, are each reported.
pub fn negative_controls(ctx: &Ctx, step: &mut Step) {
    // The chart refuses it too unless the risk is accepted; accepted, the server must.
    let refused = server_accepts(
        ctx,
        &[],
        &[
            "nginx.containerSecurityContext.allowPrivilegeEscalation=true",
            "acceptedRisks={privileged-containers}",
        ],
    );
    let verdict = match &refused {
        Err(e) if e.contains("would violate PodSecurity") => Ok(()),
        Err(e) => Err(format!(
            "a pod breaking Pod Security restricted was refused for another reason: {e}"
        )),
        Ok(()) => Err("a pod breaking Pod Security restricted was accepted by the check".into()),
    };
    if let (Ok(()), Err(e)) = (&verdict, &refused) {
        step.notes.push(format!(
            "a privilege-escalating nginx is refused: {}",
            e.lines().nth(1).unwrap_or("")
        ));
    }
    step.record(verdict);
    let ns = "geonode-e2e-immutable";
    step.record(create_namespace(ctx, ns));
    step.record(helm_install(ctx, &ctx.project.chart, ns, &[]));
    let upgrade = ctx.helm(&[
        "upgrade",
        RELEASE,
        path(&ctx.project.chart),
        "-n",
        ns,
        "--reuse-values",
        "--set",
        "postgresql.persistence.size=20Gi",
        WAIT,
    ]);
    let verdict = match upgrade {
        Err(e) if e.contains("immutable") || e.contains("Forbidden") => Ok(()),
        Err(e) => Err(format!(
            "the immutable-field upgrade failed for another reason: {e}"
        )),
        Ok(_) => {
            Err("an upgrade that changes a StatefulSet's volumeClaimTemplates went through".into())
        }
    };
    if verdict.is_ok() {
        step.notes.push("changing postgresql.persistence.size after install (a StatefulSet's volumeClaimTemplates) is refused by the API server, and reported".into());
    }
    step.record(verdict);
    let _ = ctx.helm(&["uninstall", RELEASE, "-n", ns, "--wait", WAIT]);
    step.record(planted_secret_refused(ctx));
}

/// A Secret of a generated credential's name that the release's credentials Job did not make
/// (planted in the namespace before the install) is refused by the Job, never taken for the
/// site's credentials.
fn planted_secret_refused(ctx: &Ctx) -> Result<(), String> {
    let ns = "geonode-e2e-planted";
    create_namespace(ctx, ns)?;
    let planted = format!("{RELEASE}-secrets");
    ctx.plane.kubectl(&[
        "create",
        "secret",
        "generic",
        &planted,
        "-n",
        ns,
        "--from-literal=secret-key=planted-before-the-install",
    ])?;
    helm_install(ctx, &ctx.project.chart, ns, &[])?;
    let played = super::credentials::play_job(ctx, ns);
    let _ = ctx.helm(&["uninstall", RELEASE, "-n", ns, "--wait", WAIT]);
    match played {
        Err(e) if e.contains("did not make it") => Ok(()),
        Err(e) => Err(format!(
            "the credentials Job failed on a planted Secret {planted}, but not for it: {e}"
        )),
        Ok(out) => Err(format!(
            "the credentials Job took the planted Secret {planted}: {out}"
        )),
    }
}
