//! Upgrades into this chart: from every release (tags `geonode-<version>`), from the previous
//! commit, and from the last chart that rendered generated credentials itself.

use super::{
    check_release, create_namespace, credentials, helm_install, path, secret_data, Ctx, WAIT,
};
use crate::project::{Project, RELEASE};
use crate::report::Step;
use std::process::Command;

/// The last chart whose generated credentials Helm rendered (with `lookup`, kept by
/// resource-policy): an upgrade from it must keep every one of them.
const RENDERED_CREDENTIALS_CHART: &str = "fc2ef880a88e13fc85f2174ec8082f64e74238d6";

/// The charts upgrades start from, by label: every release (tag `geonode-<version>`), the
/// previous commit, and the last chart that rendered generated credentials, when this clone has it.
pub(super) fn previous_charts(project: &Project) -> Vec<(String, String)> {
    let git =
        |args: &[&str]| crate::versions::git(&project.root, args).map(|s| s.trim().to_string());
    // Every released version (tags geonode-<version>), then the previous commit.
    let mut charts: Vec<(String, String)> = crate::versions::policy::releases(&project.root)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|tag| {
            let commit = git(&["rev-parse", "--verify", &format!("{tag}^{{commit}}")]).ok()?;
            Some((tag, commit))
        })
        .collect();
    if let Ok(previous) = git(&["rev-parse", "--verify", "HEAD~1^{commit}"]) {
        if !charts.iter().any(|(_, c)| *c == previous) {
            charts.push(("previous-commit".to_string(), previous));
        }
    }
    let commit = format!("{RENDERED_CREDENTIALS_CHART}^{{commit}}");
    if git(&["rev-parse", "--verify", "--quiet", &commit]).is_ok()
        && !charts.iter().any(|(_, c)| c == RENDERED_CREDENTIALS_CHART)
    {
        charts.push((
            "rendered-credentials".to_string(),
            RENDERED_CREDENTIALS_CHART.to_string(),
        ));
    }
    charts
}

/// The kubectl arguments of a refusal's one-time step ("Once, run: kubectl <args> (...)").
fn once_step(error: &str) -> Option<Vec<String>> {
    let rest = error.split("Once, run: kubectl ").nth(1)?;
    let command = rest.split(" (").next()?;
    Some(command.split_whitespace().map(String::from).collect())
}

/// Installs the chart as it was at a release or the previous commit, then upgrades to this one: renames, immutable fields and selector changes show up here.
pub(super) fn upgrade_from_previous(ctx: &Ctx, previous: &str, step: &mut Step) {
    let root = &ctx.project.root;
    let old = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return step.fail(format!("creating a folder for the previous chart: {e}")),
    };
    let mut archive = Command::new("sh");
    archive.current_dir(root).arg("-c").arg(format!(
        "git archive {previous} chart | tar -x -C '{}'",
        old.path().display()
    ));
    if let Err(e) = crate::cluster::run(archive) {
        step.notes.push(format!(
            "the chart at {previous} could not be extracted ({e}); skipped"
        ));
        return;
    }
    let old_chart = old.path().join("chart");
    if !old_chart.join("Chart.yaml").is_file() {
        step.notes.push(format!("{previous} has no chart; skipped"));
        return;
    }
    let ns = &format!("geonode-e2e-from-{}", &previous[..previous.len().min(12)]);
    step.record(create_namespace(ctx, ns));
    step.record(
        helm_install(ctx, &old_chart, ns, &[])
            .map_err(|e| format!("installing the chart of {previous}: {e}")),
    );
    // The previous chart may have made the generated credentials itself, or by its Job.
    step.record(credentials::play_job(ctx, ns).map(|_| ()));
    let secrets_before = secret_data(ctx, ns);
    let upgrade = || {
        ctx.helm(&[
            "upgrade",
            RELEASE,
            path(&ctx.project.chart),
            "-n",
            ns,
            "--wait",
            "--wait-for-jobs",
            WAIT,
        ])
        .map(|_| ())
    };
    // A change the chart cannot make in place stops the upgrade with the one-time step to take
    // ("Once, run: kubectl ... (why); then upgrade again"): taken as an operator would, then again.
    let result = upgrade().or_else(|e| match once_step(&e) {
        Some(args) => {
            ctx.plane
                .kubectl(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
            step.notes.push(format!(
                "from {previous}: the chart asked for `kubectl {}` once",
                args.join(" ")
            ));
            upgrade()
        }
        None => Err(e),
    });
    step.record(result.map_err(|e| {
        format!(
            "upgrading from the chart of {previous} failed (a rename or an immutable field?): {e}"
        )
    }));
    credentials::settle(ctx, ns, step);
    let secrets_after = secret_data(ctx, ns);
    let changed: Vec<&String> = secrets_before
        .iter()
        .filter(|(name, data)| secrets_after.get(*name).is_some_and(|d| d != *data))
        .map(|(name, _)| name)
        .collect();
    step.record(if changed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "upgrading from {previous} changed the data of Secrets {changed:?}"
        ))
    });
    check_release(ctx, ns, step);
    step.record(
        ctx.helm(&["uninstall", RELEASE, "-n", ns, "--wait", WAIT])
            .map(|_| ()),
    );
    step.detail = format!("from {}", &previous[..previous.len().min(12)]);
}

#[cfg(test)]
mod tests {
    use super::once_step;

    #[test]
    fn a_refusal_names_its_one_time_step() {
        let e = "Error: execution error: geoserver: ... Once, run: kubectl -n ns delete deployment g-geoserver (GeoServer stops; ...); then upgrade again";
        assert_eq!(
            once_step(e),
            Some(
                ["-n", "ns", "delete", "deployment", "g-geoserver"]
                    .map(String::from)
                    .to_vec()
            )
        );
        assert_eq!(once_step("Error: something else"), None);
    }
}
