//! The real node's programs, built from pinned sources like the control plane: kubelet and
//! kube-proxy from the control plane's Kubernetes module (`xtask/cluster-binaries/`, go.sum pins
//! every byte), containerd with its `ctr` and runc shim, runc with seccomp (the Pod Security
//! "restricted" profile asks for RuntimeDefault), and CoreDNS for Service names. The CNI plugins
//! and the image builder come from Debian (`ensure_debian_packages`).

use crate::cluster::binaries::{self, go_installed, GoTool, KUBERNETES_VERSION};
use crate::error::{Context, Error};
use std::fs;
use std::path::PathBuf;
use std::time::Instant;

pub const CONTAINERD: GoTool = GoTool {
    name: "containerd",
    version: "v2.4.2",
    packages: &[
        "github.com/containerd/containerd/v2/cmd/containerd",
        "github.com/containerd/containerd/v2/cmd/ctr",
        "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2",
    ],
    cgo_tags: None,
    why: "the real node's container runtime",
};

/// Debian's runc 1.1.5 could not start containers here; v1.5.2 with seccomp can. It links
/// libseccomp (cgo).
pub const RUNC: GoTool = GoTool {
    name: "runc",
    version: "v1.5.2",
    packages: &["github.com/opencontainers/runc"],
    cgo_tags: Some("seccomp"),
    why: "the real node's OCI runtime (needs gcc and libseccomp-dev)",
};

pub const COREDNS: GoTool = GoTool {
    name: "coredns",
    version: "v1.15.0",
    packages: &["github.com/coredns/coredns"],
    cgo_tags: None,
    why: "the real node's cluster DNS",
};

/// Debian packages the node needs: (a file that shows it is installed, the package).
pub const DEBIAN_PACKAGES: [(&str, &str); 10] = [
    // runc's seccomp support links it.
    ("/usr/include/seccomp.h", "libseccomp-dev"),
    ("/usr/lib/cni/bridge", "containernetworking-plugins"),
    ("/usr/sbin/iptables", "iptables"),
    ("/usr/sbin/conntrack", "conntrack"),
    ("/usr/bin/mmdebstrap", "mmdebstrap"),
    // The pause program is linked statically.
    ("/usr/bin/gcc", "gcc"),
    ("/usr/lib/x86_64-linux-gnu/libc.a", "libc6-dev"),
    ("/usr/sbin/ip", "iproute2"),
    // The restarted kubelet's /healthz is asked with it.
    ("/usr/bin/curl", "curl"),
    // The GeoServer stand-in carries the data directory zipped as upstream ships it.
    ("/usr/bin/zip", "zip"),
];

/// Installs whatever of DEBIAN_PACKAGES is missing.
pub fn ensure_debian_packages() -> Result<(), Error> {
    crate::debian::apt_install(&DEBIAN_PACKAGES)
}

/// kubelet and kube-proxy, built once into the tool cache's `node-<version>/`.
pub fn kubernetes_node() -> Result<PathBuf, Error> {
    let entry = format!("node-{KUBERNETES_VERSION}");
    let (cache, _lock) = crate::tools::lock_entry(&entry)?;
    let dir = cache.join(&entry);
    let stamp = dir.join(".built");
    if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == KUBERNETES_VERSION) {
        return Ok(dir);
    }
    fs::create_dir_all(&dir).context(format!("creating {}", dir.display()))?;
    eprintln!("building kubelet and kube-proxy {KUBERNETES_VERSION} from source");
    let started = Instant::now();
    binaries::build_kubernetes(
        &dir,
        [
            "k8s.io/kubernetes/cmd/kubelet",
            "k8s.io/kubernetes/cmd/kube-proxy",
        ],
    )
    .context(
        "kubelet and kube-proxy are built with Go from the module proxy; install Go 1.26 or newer",
    )?;
    for program in ["kubelet", "kube-proxy"] {
        if !dir.join(program).is_file() {
            return Err(Error::msg(format!(
                "the build produced no {}",
                dir.join(program).display()
            )));
        }
    }
    fs::write(&stamp, KUBERNETES_VERSION).context(format!("writing {}", stamp.display()))?;
    eprintln!(
        "built kubelet and kube-proxy in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(dir)
}

/// Where every program of the node is.
pub struct Programs {
    pub kubernetes: PathBuf,
    pub containerd: PathBuf,
    pub runc: PathBuf,
    pub coredns: PathBuf,
}

impl Programs {
    pub fn kubelet(&self) -> PathBuf {
        self.kubernetes.join("kubelet")
    }
    pub fn kube_proxy(&self) -> PathBuf {
        self.kubernetes.join("kube-proxy")
    }
    pub fn ctr(&self) -> PathBuf {
        self.containerd.with_file_name("ctr")
    }
    /// The folder of containerd's shim, which containerd finds on PATH.
    pub fn shim_dir(&self) -> PathBuf {
        self.containerd
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default()
    }
}

/// Builds (or finds) every program; the Go builds in the order the node starts them.
pub fn ensure() -> Result<Programs, Error> {
    ensure_debian_packages()?;
    Ok(Programs {
        containerd: go_installed(&CONTAINERD)?,
        runc: go_installed(&RUNC)?,
        coredns: go_installed(&COREDNS)?,
        kubernetes: kubernetes_node()?,
    })
}
