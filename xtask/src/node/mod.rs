//! A real Kubernetes node beside the harness's control plane: containerd and runc run every
//! pod's containers, kubelet runs them as the API asks (probes, security contexts, volumes, init
//! containers, Jobs), kube-proxy routes Services, and CoreDNS on the node's bridge answers
//! Service names. Built from pinned sources (`programs`), configured into one folder
//! (`config`), and everything it changes on the host is taken back (`host`).

pub mod config;
pub mod host;
pub mod images;
pub mod programs;

use crate::cluster::{Child, ControlPlane};
use crate::error::{Context, Error};
use config::{NODE_IP, NODE_NAME};
use programs::Programs;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Node {
    pub dir: PathBuf,
    programs: Programs,
    kubelet_port: u16,
    /// containerd, CoreDNS, kube-proxy, kubelet: stopped in reverse order.
    children: Vec<Child>,
}

impl Node {
    /// Starts the runtime, imports `images` (OCI archives), then DNS, kube-proxy and kubelet,
    /// and waits until the node is Ready. `dir` is the host's node folder (`host::Host`).
    pub fn start(
        dir: &Path,
        plane: &ControlPlane,
        programs: Programs,
        images: &[images::Built],
    ) -> Result<Node, Error> {
        for sub in ["cni/net.d", "pod-logs", "containerd"] {
            fs::create_dir_all(dir.join(sub)).context(format!("creating {}", dir.display()))?;
        }
        fs::copy(&plane.kubeconfig, dir.join("kubeconfig")).context("copying the kubeconfig")?;
        let kubelet_port = crate::cluster::free_port()?;
        let files = [
            ("containerd.toml", config::containerd(dir, &programs.runc)),
            ("cni/net.d/10-node-e2e.conflist", config::cni(dir)),
            ("kubelet.yaml", config::kubelet(dir, kubelet_port)),
            ("kube-proxy.yaml", config::kube_proxy(dir)),
            ("Corefile", config::corefile(dir)),
            (
                "resolv.conf",
                "# The pods resolve the cluster's names only (kubelet's clusterDNS).\n".into(),
            ),
        ];
        for (name, text) in files {
            fs::write(dir.join(name), text).context(format!("writing {name}"))?;
        }
        let mut node = Node {
            dir: dir.to_path_buf(),
            programs,
            kubelet_port,
            children: Vec::new(),
        };
        node.start_containerd()?;
        for image in images {
            images::import(&node.programs.ctr(), &node.containerd_socket(), image)?;
        }
        let corefile = dir.join("Corefile");
        node.spawn(
            Command::new(&node.programs.coredns)
                .arg("-conf")
                .arg(&corefile),
            "coredns",
        )?;
        let proxy_config = dir.join("kube-proxy.yaml");
        node.spawn(
            Command::new(node.programs.kube_proxy())
                .arg(format!("--config={}", proxy_config.display())),
            "kube-proxy",
        )?;
        node.start_kubelet()?;
        node.wait_ready(plane, Duration::from_secs(120))?;
        Ok(node)
    }

    pub fn containerd_socket(&self) -> PathBuf {
        self.dir.join("containerd/containerd.sock")
    }

    fn start_containerd(&mut self) -> Result<(), Error> {
        let path = format!(
            "{}:{}",
            self.programs.shim_dir().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let config = self.dir.join("containerd.toml");
        self.spawn(
            Command::new(&self.programs.containerd)
                .arg(format!("--config={}", config.display()))
                .env("PATH", path),
            "containerd",
        )?;
        let socket = self.containerd_socket();
        self.wait_until(
            "containerd made its socket",
            Duration::from_secs(60),
            |_| socket.exists(),
        )
    }

    /// Polls `ready` until it holds, failing when `timeout` passes or a program of the node
    /// exits (with the end of its log).
    fn wait_until(
        &mut self,
        what: &str,
        timeout: Duration,
        mut ready: impl FnMut(&Self) -> bool,
    ) -> Result<(), Error> {
        let started = Instant::now();
        while !ready(self) {
            if started.elapsed() > timeout {
                return Err(Error::msg(format!(
                    "timed out after {} s waiting until {what}; the logs are in {}",
                    timeout.as_secs(),
                    self.dir.display()
                )));
            }
            self.check_alive()?;
            std::thread::sleep(Duration::from_millis(300));
        }
        Ok(())
    }

    fn start_kubelet(&mut self) -> Result<(), Error> {
        let d = &self.dir;
        let args = [
            format!("--config={}", d.join("kubelet.yaml").display()),
            format!("--kubeconfig={}", d.join("kubeconfig").display()),
            format!("--root-dir={}", d.join("kubelet").display()),
            format!("--cert-dir={}", d.join("kubelet-pki").display()),
            format!("--hostname-override={NODE_NAME}"),
            format!("--node-ip={NODE_IP}"),
        ];
        self.spawn(Command::new(self.programs.kubelet()).args(args), "kubelet")
    }

    /// Stops kubelet and starts it again (the pods' containers run on under containerd).
    pub fn restart_kubelet(&mut self, plane: &ControlPlane) -> Result<(), Error> {
        let index = self
            .children
            .iter()
            .position(|c| c.name() == "kubelet")
            .ok_or_else(|| Error::msg("kubelet is not running"))?;
        drop(self.children.remove(index));
        self.start_kubelet()?;
        self.wait_ready(plane, Duration::from_secs(120))?;
        self.wait_kubelet_healthy(Duration::from_secs(60))
    }

    /// The node stays Ready in the API while kubelet restarts (its lease has not run out), so
    /// the new kubelet is asked itself: its /healthz on the node IP.
    fn wait_kubelet_healthy(&mut self, timeout: Duration) -> Result<(), Error> {
        let url = format!("https://{NODE_IP}:{}/healthz", self.kubelet_port);
        self.wait_until(
            &format!("the restarted kubelet answers {url}"),
            timeout,
            |_| {
                Command::new("curl")
                    .args(["-sk", "--max-time", "2", &url])
                    .output()
                    .is_ok_and(|answer| String::from_utf8_lossy(&answer.stdout).trim() == "ok")
            },
        )
    }

    fn spawn(&mut self, cmd: &mut Command, name: &'static str) -> Result<(), Error> {
        let child = Child::spawn(cmd, name, &self.dir, false)?;
        child.record_id(&self.dir.join(host::PIDS))?;
        self.children.push(child);
        Ok(())
    }

    fn check_alive(&mut self) -> Result<(), Error> {
        for child in &mut self.children {
            child.check_alive()?;
        }
        Ok(())
    }

    fn wait_ready(&mut self, plane: &ControlPlane, timeout: Duration) -> Result<(), Error> {
        self.wait_until("the node is Ready", timeout, |_| {
            plane
                .kubectl(&[
                    "get",
                    "node",
                    NODE_NAME,
                    "-o",
                    "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
                ])
                .is_ok_and(|s| s.trim() == "True")
        })
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // kubelet first, so it starts nothing new; the containers themselves go in
        // `host::cleanup`.
        while let Some(child) = self.children.pop() {
            drop(child);
        }
    }
}
