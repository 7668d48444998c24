//! The node's configuration files, as text: containerd's, the CNI network's, kubelet's,
//! kube-proxy's and CoreDNS's. Every path points into the node's folder, so the node writes
//! nothing elsewhere that the configuration can move (what it cannot is in `cleanup`).

use std::path::Path;

/// The node's bridge: its address is the node IP (kubelet refuses a loopback one, and these
/// kernels have no dummy links), the pods' gateway, and where the API server and CoreDNS
/// listen. A private /24 no host network uses.
pub const BRIDGE: &str = "gnk8s-node0";
pub const NODE_IP: &str = "10.250.0.1";
pub const POD_SUBNET: &str = "10.250.0.0/24";
pub const NODE_NAME: &str = "node-e2e";
/// The pause image every pod's sandbox runs, built and imported by the harness.
pub const PAUSE_IMAGE: &str = "localhost/node-e2e/pause:1";

pub fn containerd(dir: &Path, runc: &Path) -> String {
    let d = dir.display();
    format!(
        r#"version = 3
root = "{d}/containerd/root"
state = "{d}/containerd/state"

[grpc]
  address = "{d}/containerd/containerd.sock"

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "{PAUSE_IMAGE}"

[plugins.'io.containerd.cri.v1.runtime']
  # These machines lack CAP_SYS_RESOURCE: the sandbox's oom_score_adj of -998 is refused, and
  # runc fails with "can't get final child's PID from pipe".
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
      BinaryName = "{runc}"
      Root = "{d}/runc"
      SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "{d}/cni/net.d"

[plugins.'io.containerd.nri.v1.nri']
  disable = true
"#,
        runc = runc.display()
    )
}

/// One bridge network; host-local hands out the /24 and routes everything through the bridge
/// (without the default route, pods cannot reach ClusterIPs). No masquerading: nothing outside
/// the node is reachable anyway.
pub fn cni(dir: &Path) -> String {
    serde_json::json!({
        "cniVersion": "1.0.0",
        "name": "node-e2e",
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": true,
                "hairpinMode": true,
                "ipMasq": false,
                "ipam": {
                    "type": "host-local",
                    "dataDir": dir.join("cni/networks").display().to_string(),
                    "ranges": [[{"subnet": POD_SUBNET, "gateway": NODE_IP}]],
                    "routes": [{"dst": "0.0.0.0/0"}]
                }
            },
            {"type": "loopback"}
        ]
    })
    .to_string()
}

/// kubelet's configuration. The API server has no client certificate for the kubelet, so the
/// kubelet's own API allows anonymous requests (it listens on the node's private bridge only).
pub fn kubelet(dir: &Path, port: u16) -> String {
    let d = dir.display();
    format!(
        r#"apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: {NODE_IP}
port: {port}
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
containerRuntimeEndpoint: unix://{d}/containerd/containerd.sock
# These machines run cgroup v1 without systemd in charge of it.
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
clusterDNS: [{NODE_IP}]
clusterDomain: cluster.local
resolvConf: {d}/resolv.conf
podLogsDir: {d}/pod-logs
# The images exist only on this node: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# Memory only: the harness's disk is shared with its caches and may be fuller than any disk
# threshold allows; evicting pods (and collecting the only copies of the images) would prove
# nothing. `Host::prepare` checks the free space instead.
evictionHard:
  memory.available: 100Mi
mergeDefaultEvictionSettings: false
serializeImagePulls: false
"#
    )
}

pub fn kube_proxy(dir: &Path) -> String {
    format!(
        r#"apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: {kubeconfig}
hostnameOverride: {NODE_NAME}
bindAddress: {NODE_IP}
clusterCIDR: {POD_SUBNET}
healthzBindAddress: ""
metricsBindAddress: ""
# kube-proxy may not raise the host's conntrack table here.
conntrack:
  maxPerCore: 0
"#,
        kubeconfig = dir.join("kubeconfig").display()
    )
}

/// CoreDNS on the host, on the node IP: the cluster's names from the API server, nothing
/// forwarded (no name outside the cluster resolves here).
pub fn corefile(dir: &Path) -> String {
    format!(
        ".:53 {{\n    bind {NODE_IP}\n    errors\n    kubernetes cluster.local in-addr.arpa ip6.arpa {{\n        kubeconfig {kubeconfig}\n        pods insecure\n    }}\n    cache 5\n}}\n",
        kubeconfig = dir.join("kubeconfig").display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_in_the_node_folder() {
        let dir = Path::new("/n");
        let texts = [
            containerd(dir, Path::new("/n/bin/runc")),
            kubelet(dir, 10250),
            kube_proxy(dir),
            corefile(dir),
        ];
        for text in texts {
            for word in text.split(|c: char| c.is_whitespace() || c == '"') {
                if word.starts_with('/') && !word.starts_with("/usr/lib/cni") {
                    assert!(word.starts_with("/n/"), "{word} is outside the node folder");
                }
            }
        }
        let cni: serde_json::Value = serde_json::from_str(&cni(dir)).unwrap();
        assert_eq!(
            cni["plugins"][0]["ipam"]["dataDir"].as_str(),
            Some("/n/cni/networks")
        );
        assert_eq!(cni["plugins"][0]["bridge"].as_str(), Some(BRIDGE));
    }

    #[test]
    fn the_bridge_name_fits_a_linux_interface_name() {
        assert!(BRIDGE.len() <= 15);
    }
}
