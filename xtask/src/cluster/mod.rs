//! A real Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver, kube-controller-manager
//! and kube-scheduler built from the pinned sources, kwok for nodes and pod life cycles. Ports are
//! free ones, state lives in one folder, access is a token in a generated kubeconfig. Every
//! process is stopped and the folder removed when the ControlPlane is dropped (success, failure or
//! panic); `cluster up` detaches it instead and `cluster down` ends it.

pub mod binaries;
mod process;
pub(crate) use process::Child;
pub use process::{run_with_stdin, terminate, wait_for_port};

use crate::error::{Context, Error};
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct ControlPlane {
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
    pub kubectl: PathBuf,
    children: Vec<Child>,
    /// Remove `dir` when dropped (e2e runs), or leave it (`cluster up`).
    owned: bool,
}

pub fn free_port() -> Result<u16, Error> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port on 127.0.0.1")?;
    Ok(listener
        .local_addr()
        .context("reading the free port")?
        .port())
}

fn openssl(args: &[&str], dir: &Path) -> Result<(), Error> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .context("running openssl (install it: apt-get install openssl)")?;
    if !out.status.success() {
        return Err(Error::msg(format!(
            "openssl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}

fn random_token() -> Result<String, Error> {
    let mut buf = [0u8; 24];
    use std::io::Read;
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .context("reading /dev/urandom for the admin token")?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Where the API server listens, and how many kwok nodes the control plane gets.
pub struct Options<'a> {
    /// 127.0.0.1 for kwok's nodes alone; a real node's pods need an address they can reach.
    pub address: &'a str,
    /// Fake nodes; with none, kwok does not run (a real node joins instead).
    pub fake_nodes: usize,
}

impl ControlPlane {
    /// Starts everything on 127.0.0.1 in `dir` (created), and waits until the API server is
    /// ready and `nodes` kwok nodes are Ready.
    pub fn start(dir: &Path, owned: bool, nodes: usize) -> Result<Self, Error> {
        Self::start_with(
            dir,
            owned,
            &Options {
                address: "127.0.0.1",
                fake_nodes: nodes,
            },
        )
    }

    pub fn start_with(dir: &Path, owned: bool, options: &Options) -> Result<Self, Error> {
        let bin = binaries::ensure()?;
        let kubectl = crate::tools::ensure_kubectl()?;
        fs::create_dir_all(dir).context(format!("creating {}", dir.display()))?;
        let mut plane = ControlPlane {
            dir: dir.to_path_buf(),
            kubeconfig: dir.join("kubeconfig"),
            kubectl,
            children: Vec::new(),
            owned,
        };
        if owned {
            plane.start_watchdog()?;
        }
        let (etcd_client, etcd_peer, apiserver) = (free_port()?, free_port()?, free_port()?);

        plane.spawn(
            Command::new(bin.path("etcd")).args([
                "--name=e2e",
                &format!("--data-dir={}", dir.join("etcd").display()),
                &format!("--listen-client-urls=http://127.0.0.1:{etcd_client}"),
                &format!("--advertise-client-urls=http://127.0.0.1:{etcd_client}"),
                &format!("--listen-peer-urls=http://127.0.0.1:{etcd_peer}"),
                &format!("--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer}"),
                &format!("--initial-cluster=e2e=http://127.0.0.1:{etcd_peer}"),
                "--log-level=warn",
                "--unsafe-no-fsync",
            ]),
            "etcd",
        )?;
        process::wait_for_port(etcd_client, Duration::from_secs(30)).context("waiting for etcd")?;

        openssl(&["genrsa", "-out", "sa.key", "2048"], dir)?;
        openssl(&["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir)?;
        let token = random_token()?;
        fs::write(
            dir.join("tokens.csv"),
            format!("{token},admin,admin,system:masters\n"),
        )
        .context("writing tokens.csv")?;
        let certs = dir.join("certs");
        let address = options.address;
        // The `kubernetes` Service's endpoints are the advertised address; a loopback one is
        // refused, and kwok's pods never call the API anyway.
        let reconciler = if address.starts_with("127.") {
            "none"
        } else {
            "lease"
        };
        plane.spawn(
            Command::new(bin.path("kube-apiserver")).args([
                &format!("--etcd-servers=http://127.0.0.1:{etcd_client}"),
                &format!("--bind-address={address}"),
                &format!("--advertise-address={address}"),
                &format!("--secure-port={apiserver}"),
                &format!("--cert-dir={}", certs.display()),
                &format!("--token-auth-file={}", dir.join("tokens.csv").display()),
                "--authorization-mode=RBAC",
                "--service-account-issuer=https://kubernetes.default.svc",
                &format!(
                    "--service-account-key-file={}",
                    dir.join("sa.pub").display()
                ),
                &format!(
                    "--service-account-signing-key-file={}",
                    dir.join("sa.key").display()
                ),
                "--service-cluster-ip-range=10.96.0.0/16",
                &format!("--endpoint-reconciler-type={reconciler}"),
                "--allow-privileged=false",
                // A real kubelet (node-e2e) is reached by its node IP for logs and exec, never
                // by its name, which resolves nowhere.
                "--kubelet-preferred-address-types=InternalIP",
            ]),
            "kube-apiserver",
        )?;
        fs::write(
            &plane.kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: e2e\n  cluster:\n    server: https://{address}:{apiserver}\n    insecure-skip-tls-verify: true\nusers:\n- name: admin\n  user:\n    token: {token}\ncontexts:\n- name: e2e\n  context:\n    cluster: e2e\n    user: admin\ncurrent-context: e2e\n"
            ),
        )
        .context("writing the kubeconfig")?;
        plane.wait_until("the API server is ready", Duration::from_secs(90), |p| {
            p.kubectl(&["get", "--raw", "/readyz"]).is_ok()
        })?;

        let kubeconfig = plane.kubeconfig.display().to_string();
        plane.spawn(
            Command::new(bin.path("kube-controller-manager")).args([
                &format!("--kubeconfig={kubeconfig}"),
                "--leader-elect=false",
                "--secure-port=0",
                &format!(
                    "--service-account-private-key-file={}",
                    dir.join("sa.key").display()
                ),
                &format!("--root-ca-file={}", certs.join("apiserver.crt").display()),
                "--use-service-account-credentials=false",
                "--controllers=*,-nodeipam,-csrsigning,-csrapproving,-csrcleaner",
            ]),
            "kube-controller-manager",
        )?;
        plane.spawn(
            Command::new(bin.path("kube-scheduler")).args([
                &format!("--kubeconfig={kubeconfig}"),
                "--leader-elect=false",
                "--secure-port=0",
            ]),
            "kube-scheduler",
        )?;
        if options.fake_nodes == 0 {
            return Ok(plane);
        }
        plane.spawn(
            Command::new(bin.path("kwok")).args([
                &format!("--kubeconfig={kubeconfig}"),
                "--manage-all-nodes=true",
                &format!("--config={}", bin.path("kwok-stages.yaml").display()),
                &format!("--server-address=127.0.0.1:{}", free_port()?),
            ]),
            "kwok",
        )?;
        plane.create_nodes(options.fake_nodes)?;
        Ok(plane)
    }

    /// Starts one program of the control plane, its output in `<dir>/<name>.log`.
    fn spawn(&mut self, cmd: &mut Command, name: &'static str) -> Result<(), Error> {
        let child = Child::spawn(cmd, name, &self.dir, !self.owned)?;
        if self.owned {
            child.record_id(&self.dir.join(WATCHED_PIDS))?;
        }
        self.children.push(child);
        Ok(())
    }

    /// A watchdog outside the harness's process group: if the harness dies without cleaning up
    /// (Ctrl-C, a kill), it stops the recorded processes and removes the folder. After a normal
    /// teardown it finds nothing left to do.
    fn start_watchdog(&self) -> Result<(), Error> {
        let dir = self.dir.display().to_string();
        let script = format!(
            "while kill -0 {harness} 2>/dev/null && [ -d '{dir}' ]; do sleep 1; done\n\
             if [ -f '{dir}/{WATCHED_PIDS}' ]; then\n\
               kill $(cat '{dir}/{WATCHED_PIDS}') 2>/dev/null; sleep 3; kill -9 $(cat '{dir}/{WATCHED_PIDS}') 2>/dev/null\n\
               rm -rf '{dir}'\n\
             fi\n",
            harness = std::process::id()
        );
        use std::os::unix::process::CommandExt;
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .process_group(0)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting the clean-up watchdog")?;
        Ok(())
    }

    /// Fake nodes with room for the biggest scenario, spread over zones; every fourth is an
    /// arm64 node, as in clusters with Graviton or Ampere pools.
    fn create_nodes(&mut self, count: usize) -> Result<(), Error> {
        let mut manifest = String::new();
        for i in 0..count {
            manifest.push_str(&format!(
                "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: node-{i}\n  annotations:\n    kwok.x-k8s.io/node: fake\n  labels:\n    kubernetes.io/hostname: node-{i}\n    kubernetes.io/os: linux\n    kubernetes.io/arch: {arch}\n    topology.kubernetes.io/zone: zone-{zone}\n    type: kwok\nstatus:\n  allocatable: {{cpu: '32', memory: 128Gi, pods: '110'}}\n  capacity: {{cpu: '32', memory: 128Gi, pods: '110'}}\n",
                zone = i % 3,
                arch = if i % 4 == 3 { "arm64" } else { "amd64" }
            ));
        }
        self.kubectl_stdin(&["apply", "-f", "-"], &manifest)
            .map_err(|e| Error::msg(format!("creating the kwok nodes: {e}")))?;
        self.wait_until("the kwok nodes are Ready", Duration::from_secs(60), |p| {
            p.kubectl(&[
                "wait",
                "--for=condition=Ready",
                "node",
                "--all",
                "--timeout=5s",
            ])
            .is_ok()
        })
    }

    /// The objects of `kinds` in `namespace` (every namespace when empty); none when kubectl
    /// fails.
    pub fn items(&self, kinds: &str, namespace: &str) -> Vec<serde_json::Value> {
        let scope = if namespace.is_empty() {
            "--all-namespaces".to_string()
        } else {
            format!("--namespace={namespace}")
        };
        let text = self
            .kubectl(&["get", kinds, &scope, "-o", "json"])
            .unwrap_or_default();
        let list: serde_json::Value =
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        list["items"].as_array().cloned().unwrap_or_default()
    }

    /// kubectl against this control plane; stdout, or its error output.
    pub fn kubectl(&self, args: &[&str]) -> Result<String, String> {
        self.kubectl_stdin(args, "")
    }

    pub fn kubectl_stdin(&self, args: &[&str], stdin: &str) -> Result<String, String> {
        self.kubectl_capturing(args, stdin)
            .map(|(stdout, _)| stdout)
    }

    /// kubectl, keeping the warnings of a successful call: (stdout, stderr).
    pub fn kubectl_capturing(
        &self,
        args: &[&str],
        stdin: &str,
    ) -> Result<(String, String), String> {
        let mut cmd = Command::new(&self.kubectl);
        cmd.arg(format!("--kubeconfig={}", self.kubeconfig.display()))
            .args(args);
        process::run_capturing(cmd, stdin)
    }

    pub fn wait_until(
        &mut self,
        what: &str,
        timeout: Duration,
        mut ready: impl FnMut(&Self) -> bool,
    ) -> Result<(), Error> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if ready(self) {
                return Ok(());
            }
            for child in &mut self.children {
                child.check_alive()?;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Err(Error::msg(format!(
            "timed out after {} s waiting until {what}; the logs are in {}",
            timeout.as_secs(),
            self.dir.display()
        )))
    }

    /// Leaves the processes running after this value is gone (for `cluster up`); their process
    /// ids go to `pids` for `cluster down`.
    pub fn detach(mut self) -> Result<PathBuf, Error> {
        let pids: Vec<String> = self.children.iter().map(|c| c.id().to_string()).collect();
        fs::write(self.dir.join("pids"), pids.join("\n")).context("writing the process ids")?;
        for child in std::mem::take(&mut self.children) {
            child.forget();
        }
        self.owned = false;
        Ok(self.kubeconfig.clone())
    }
}

/// Process ids the watchdog stops if the harness dies; removed by a normal teardown.
const WATCHED_PIDS: &str = "watched.pids";

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let _ = fs::remove_file(self.dir.join(WATCHED_PIDS));
        // Stop in reverse order: kwok and controllers before the API server before etcd.
        while let Some(child) = self.children.pop() {
            drop(child);
        }
        if self.owned {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Runs a command: stdout on success, its error output otherwise.
pub fn run(cmd: Command) -> Result<String, String> {
    process::run_with_stdin(cmd, "")
}

/// Stops a control plane left by `cluster up` and removes its folder.
pub fn down(dir: &Path) -> Result<usize, Error> {
    let pids = match fs::read_to_string(dir.join("pids")) {
        Ok(p) => p,
        Err(_) => return Ok(0),
    };
    let mut stopped = 0;
    for pid in pids
        .lines()
        .rev()
        .filter_map(|l| l.trim().parse::<i32>().ok())
    {
        if process::terminate(pid) {
            stopped += 1;
        }
    }
    fs::remove_dir_all(dir).context(format!("removing {}", dir.display()))?;
    Ok(stopped)
}
