//! The docs' shell blocks, run as a reader would run them: page by page, each block in order
//! with `bash -euo pipefail`, in a folder holding `chart/` and `values/` (what the pages'
//! commands name) and `tests/docs/` (the setup scripts), with `helm` (Helm 4) and `kubectl` on PATH and the control plane as the
//! cluster. A page may need a release it does not install itself (troubleshooting looks at the
//! quickstart's): a line `<!-- e2e setup: <command> -->` on the page, invisible on the site, runs
//! first. kwok plays the credentials Job's pod, so after each block the harness plays the Job's
//! script as e2e's install does. After a page, the namespaces its commands name are deleted
//! (only those: the step runs beside e2e's others, which make namespaces of their own).
//!
//! Blocks marked `# not runnable here: <reason>` are skipped and counted (docs::blocks).

use super::{credentials, Ctx};
use crate::docs::blocks::{self, Block};
use crate::report::Step;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const SETUP: &str = "<!-- e2e setup:";

/// The step `docs-shell-blocks`.
pub fn run(ctx: &Ctx, step: &mut Step) {
    let found = match blocks::all(&ctx.project.root) {
        Ok(found) => found,
        Err(e) => return step.fail(e.to_string()),
    };
    let work = match workspace(ctx) {
        Ok(work) => work,
        Err(e) => return step.fail(e),
    };
    let mut pages: Vec<&str> = found.iter().map(|b| b.page.as_str()).collect();
    pages.dedup();
    for page in pages {
        let started = Instant::now();
        let runnable: Vec<&Block> = found
            .iter()
            .filter(|b| b.page == page && b.not_runnable.is_none())
            .collect();
        if runnable.is_empty() {
            continue;
        }
        let setup = setup_lines(ctx, page);
        let named: BTreeSet<String> = runnable
            .iter()
            .map(|b| b.script.as_str())
            .chain(setup.iter().flatten().map(String::as_str))
            .flat_map(namespaces_named)
            .collect();
        let result = setup.and_then(|setup| {
            for command in setup {
                shell(ctx, work.path(), &command).map_err(|e| {
                    format!("{page}: the page's `{SETUP} {command} -->` failed: {e}")
                })?;
            }
            for block in &runnable {
                shell(ctx, work.path(), &block.script).map_err(|e| {
                    format!("{}: the block failed: {e}\n{}", block.at(), block.script)
                })?;
                settle_credentials(ctx, &named);
            }
            Ok(())
        });
        match result {
            Ok(()) => step.passed += runnable.len(),
            Err(e) => step.fail(e),
        }
        step.record(remove_namespaces(ctx, &named).map_err(|e| format!("{page}: {e}")));
        step.notes.push(format!(
            "{page}: {} blocks in {:.0} s",
            runnable.len(),
            started.elapsed().as_secs_f64()
        ));
    }
    step.detail = crate::docs::site::block_counts(&found);
}

/// A folder with `chart`, `values` and `tests/docs` (the pages' setup scripts) linked from the
/// project, and `bin/` with helm and kubectl.
fn workspace(ctx: &Ctx) -> Result<tempfile::TempDir, String> {
    let work = tempfile::tempdir().map_err(|e| format!("making the docs' working folder: {e}"))?;
    let link = |from: &Path, to: &Path| {
        std::os::unix::fs::symlink(from, to)
            .map_err(|e| format!("linking {} as {}: {e}", from.display(), to.display()))
    };
    link(&ctx.project.chart, &work.path().join("chart"))?;
    link(&ctx.project.values_dir, &work.path().join("values"))?;
    let tests = work.path().join("tests");
    std::fs::create_dir(&tests).map_err(|e| format!("creating {}: {e}", tests.display()))?;
    link(
        &ctx.project.root.join("tests").join("docs"),
        &tests.join("docs"),
    )?;
    let bin = work.path().join("bin");
    std::fs::create_dir(&bin).map_err(|e| format!("creating {}: {e}", bin.display()))?;
    link(ctx.helm.binary(), &bin.join("helm"))?;
    link(&ctx.plane.kubectl, &bin.join("kubectl"))?;
    Ok(work)
}

/// The page's `<!-- e2e setup: ... -->` commands, in order.
fn setup_lines(ctx: &Ctx, page: &str) -> Result<Vec<String>, String> {
    let path = ctx.project.root.join(page);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {page}: {e}"))?;
    Ok(text
        .lines()
        .filter_map(|l| l.trim().strip_prefix(SETUP))
        .filter_map(|l| l.trim().strip_suffix("-->"))
        .map(|l| l.trim().to_string())
        .collect())
}

/// `script` with bash in `work`, the control plane as the cluster; its output on failure.
fn shell(ctx: &Ctx, work: &Path, script: &str) -> Result<(), String> {
    let path = format!(
        "{}:{}",
        work.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(work)
        .env("PATH", path)
        .env("KUBECONFIG", &ctx.plane.kubeconfig)
        .env("NO_COLOR", "1")
        .envs(ctx.helm.homes())
        .output()
        .map_err(|e| format!("running bash: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "exit {}:\n{}{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// kwok does not run the credentials Job's pod: play its script in the page's namespaces.
fn settle_credentials(ctx: &Ctx, named: &BTreeSet<String>) {
    for namespace in named {
        let _ = credentials::play_job(ctx, namespace);
    }
}

/// The namespaces a script names: `-n X`, `--namespace X`, `--namespace=X`, `namespace X`
/// (`kubectl create namespace X`).
fn namespaces_named(script: &str) -> BTreeSet<String> {
    let words: Vec<&str> = script.split_whitespace().collect();
    let mut found = BTreeSet::new();
    for (i, word) in words.iter().enumerate() {
        if let Some(name) = word.strip_prefix("--namespace=") {
            found.insert(name.to_string());
        } else if matches!(*word, "-n" | "--namespace" | "namespace") {
            if let Some(next) = words.get(i + 1) {
                let name = next.trim_end_matches(';');
                if name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !name.is_empty()
                {
                    found.insert(name.to_string());
                }
            }
        }
    }
    found
}

/// Deletes those namespaces where they exist and waits until they are gone, so the next page
/// can make them again.
fn remove_namespaces(ctx: &Ctx, named: &BTreeSet<String>) -> Result<(), String> {
    let existing: BTreeSet<String> = super::items(ctx, "namespaces", "")
        .iter()
        .filter_map(|n| n["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    let made: Vec<&String> = named.intersection(&existing).collect();
    if made.is_empty() {
        return Ok(());
    }
    let mut args = vec!["delete", "namespace", "--wait=true", "--timeout=3m"];
    args.extend(made.iter().map(|n| n.as_str()));
    ctx.plane.kubectl(&args).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_namespaces_a_script_names() {
        let script = "kubectl create namespace geonode\nhelm install geonode ./chart -n geonode\nkubectl --namespace=maps get pods; kubectl get ns --namespace other\n";
        let found: Vec<String> = namespaces_named(script).into_iter().collect();
        assert_eq!(found, ["geonode", "maps", "other"]);
    }
}
