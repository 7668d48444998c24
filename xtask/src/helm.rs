//! Running Helm: `template` for renders, `lint --strict` for the linter.

use crate::project::{Project, NAMESPACE, RELEASE};
use crate::tools::{HelmTool, Tools};
use std::path::PathBuf;
use std::process::Command;

#[derive(Debug, Clone)]
pub struct Helm {
    pub major: u8,
    path: PathBuf,
    home: PathBuf,
}

impl Helm {
    pub fn all(tools: &Tools) -> Vec<Helm> {
        tools
            .helms
            .iter()
            .map(|HelmTool { major, path }| Helm {
                major: *major,
                path: path.clone(),
                home: tools.helm_home.clone(),
            })
            .collect()
    }

    pub fn label(&self) -> String {
        format!("helm{}", self.major)
    }

    /// Helm with its own home (a user's repositories and plugins never change what we render)
    /// and no cluster, unless `kubeconfig` names one.
    pub fn command(&self, kubeconfig: Option<&std::path::Path>) -> Command {
        let mut cmd = Command::new(&self.path);
        cmd.envs(self.homes());
        match kubeconfig {
            Some(path) => cmd.env("KUBECONFIG", path),
            None => cmd.env_remove("KUBECONFIG"),
        };
        cmd.env("NO_COLOR", "1");
        cmd
    }

    /// [`Helm::command`] for a run of a fraction of a second without a cluster (template, lint,
    /// a client-side dry run for the notes): its garbage collector would only cost time (a third
    /// of a render's), and what it leaves is freed when it exits, at under 150 MB.
    fn short_run(&self) -> Command {
        let mut cmd = self.command(None);
        cmd.env("GOGC", "off");
        cmd
    }

    /// Helm's cache, configuration and data homes: ours, so a user's repositories and plugins
    /// never change what we run.
    pub fn homes(&self) -> Vec<(&'static str, PathBuf)> {
        [
            ("HELM_CACHE_HOME", "cache"),
            ("HELM_CONFIG_HOME", "config"),
            ("HELM_DATA_HOME", "data"),
        ]
        .into_iter()
        .map(|(var, sub)| (var, self.home.join(sub)))
        .collect()
    }

    /// The helm program.
    pub fn binary(&self) -> &std::path::Path {
        &self.path
    }

    /// `helm template` with the fixed release name and namespace; stdout on success, Helm's
    /// error text on failure.
    pub fn template(
        &self,
        project: &Project,
        values: &[PathBuf],
        kube_minor: u32,
    ) -> Result<String, String> {
        let mut cmd = self.short_run();
        cmd.args(["template", RELEASE])
            .arg(&project.chart)
            .args(["--namespace", NAMESPACE, "--kube-version"])
            .arg(format!("1.{kube_minor}.0"));
        for v in values {
            cmd.arg("--values").arg(v);
        }
        run(cmd)
    }

    /// `helm install --dry-run=client` with the fixed release name and namespace and the given
    /// values files and `--set` pairs: the rendered objects and the notes. Helm 4 needs no
    /// cluster for it; Helm 3 asks one for its version.
    pub fn notes(
        &self,
        project: &Project,
        values: &[PathBuf],
        sets: &[String],
    ) -> Result<String, String> {
        let mut cmd = self.short_run();
        cmd.args(["install", RELEASE]).arg(&project.chart).args([
            "--dry-run=client",
            "--namespace",
            NAMESPACE,
        ]);
        for v in values {
            cmd.arg("--values").arg(v);
        }
        for s in sets {
            cmd.arg("--set").arg(s);
        }
        run(cmd)
    }

    /// `helm lint --strict` with the given values files.
    pub fn lint(&self, project: &Project, values: &[PathBuf]) -> Result<String, String> {
        let mut cmd = self.short_run();
        cmd.args(["lint", "--strict", "--namespace", NAMESPACE])
            .arg(&project.chart);
        for v in values {
            cmd.arg("--values").arg(v);
        }
        run(cmd)
    }
}

fn run(mut cmd: Command) -> Result<String, String> {
    match cmd.output() {
        Err(e) => Err(format!("could not run {:?}: {e}", cmd.get_program())),
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        Ok(out) => {
            let mut text = String::from_utf8_lossy(&out.stderr).trim().to_string();
            let stdout = String::from_utf8_lossy(&out.stdout);
            // `helm lint` reports its findings on stdout.
            if !stdout.trim().is_empty() {
                text = format!("{}\n{text}", stdout.trim());
            }
            Err(text)
        }
    }
}
