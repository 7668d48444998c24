//! What the node changes on the host, and how all of it is taken back: the bridge, IP
//! forwarding, the iptables chains of kube-proxy and kubelet, mounts (container roots, network
//! namespaces, kubelet's volumes), cgroups, processes the runtime left (shims, containers) and
//! the few host folders kubelet and containerd use whatever they are told.
//!
//! `Host::prepare` first cleans what a killed run left, then records what it will change;
//! dropping the `Host` (success, failure, panic) or the watchdog (the harness killed) runs
//! `cleanup`, which is safe to run twice.

use super::config::{BRIDGE, NODE_IP};
use crate::error::{Context, Error};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const IP_FORWARD: &str = "/proc/sys/net/ipv4/ip_forward";
/// Folders kubelet or containerd create whatever their configuration says; removed at the end
/// when they did not exist before.
const HOST_PATHS: [&str; 5] = [
    "/var/log/containers",
    "/run/containerd",
    "/var/lib/cni",
    "/run/netns",
    "/var/lib/kubelet",
];
/// What existed before the node started (`ip_forward`, host folders), in the node's folder.
const BEFORE: &str = "host-before";
/// Process ids of the node's own programs, for the watchdog.
pub const PIDS: &str = "node.pids";

pub struct Host {
    pub dir: PathBuf,
}

impl Host {
    /// Cleans a killed run's leftovers, then creates the node's folder and bridge and turns on
    /// IP forwarding. Needs root.
    pub fn prepare(dir: &Path) -> Result<Host, Error> {
        if !is_root() {
            return Err(Error::msg(
                "the real node needs root (kubelet, containerd, network namespaces, iptables): run node-e2e as root",
            ));
        }
        cleanup(dir);
        fs::create_dir_all(dir).context(format!("creating {}", dir.display()))?;
        let free = free_bytes(dir)?;
        if free < NEEDED_BYTES {
            let _ = fs::remove_dir_all(dir);
            return Err(Error::msg(format!(
                "the node needs {} GiB free under {} (its images unpacked, the pods' volumes and logs); {:.1} GiB are: free some (cargo clean, old caches) and run again",
                NEEDED_BYTES >> 30,
                dir.display(),
                free as f64 / (1u64 << 30) as f64
            )));
        }
        let forward = fs::read_to_string(IP_FORWARD).context(format!("reading {IP_FORWARD}"))?;
        let existing: Vec<&str> = HOST_PATHS
            .iter()
            .copied()
            .filter(|p| Path::new(p).exists())
            .collect();
        fs::write(
            dir.join(BEFORE),
            format!(
                "ip_forward={}\nexisting={}\n",
                forward.trim(),
                existing.join(",")
            ),
        )
        .context("recording the host's state")?;
        let host = Host {
            dir: dir.to_path_buf(),
        };
        start_watchdog(dir)?;
        ip(&["link", "add", BRIDGE, "type", "bridge"])?;
        ip(&["addr", "add", &format!("{NODE_IP}/24"), "dev", BRIDGE])?;
        ip(&["link", "set", BRIDGE, "up"])?;
        fs::write(IP_FORWARD, "1").context(format!(
            "turning on {IP_FORWARD} (pods reach Services through the host)"
        ))?;
        Ok(host)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        cleanup(&self.dir);
    }
}

/// Free space the node needs: ~2.5 GiB of unpacked images, the site's volumes and logs, room
/// to spare.
const NEEDED_BYTES: u64 = 6 << 30;

/// Bytes free to root on the filesystem holding `dir` (df's "Avail").
fn free_bytes(dir: &Path) -> Result<u64, Error> {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .context("running df")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| Error::msg(format!("df gave no free space for {}", dir.display())))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn ip(args: &[&str]) -> Result<(), Error> {
    crate::process::exec(Command::new("ip").args(args))
        .map(|_| ())
        .map_err(|e| Error::msg(format!("{e} (apt-get install iproute2)")))
}

/// A watchdog outside the harness's process group: when the harness dies without cleaning up,
/// it runs `xtask node-cleanup <dir>`.
fn start_watchdog(dir: &Path) -> Result<(), Error> {
    let xtask = std::env::current_exe().context("finding the harness's own program")?;
    let script = format!(
        "while kill -0 {harness} 2>/dev/null && [ -d '{dir}' ]; do sleep 1; done\n[ -d '{dir}' ] && exec '{xtask}' node-cleanup '{dir}'\n",
        harness = std::process::id(),
        dir = dir.display(),
        xtask = xtask.display()
    );
    use std::os::unix::process::CommandExt;
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the node's clean-up watchdog")?;
    Ok(())
}

/// Takes back everything the node changed, in order: processes, mounts, network, cgroups,
/// folders. Every step goes on when one fails; nothing here needs the harness's state but the
/// node's folder.
pub fn cleanup(dir: &Path) {
    if !dir.exists() {
        return;
    }
    let before = fs::read_to_string(dir.join(BEFORE)).unwrap_or_default();
    stop_processes(dir);
    unmount_under(dir);
    let _ = Command::new("ip")
        .args(["link", "delete", BRIDGE])
        .stderr(Stdio::null())
        .status();
    remove_chains();
    remove_cgroups();
    for line in before.lines() {
        if let Some(value) = line.strip_prefix("ip_forward=") {
            let _ = fs::write(IP_FORWARD, value);
        }
    }
    let existing: Vec<&str> = before
        .lines()
        .find_map(|l| l.strip_prefix("existing="))
        .map(|l| l.split(',').collect())
        .unwrap_or_default();
    for path in HOST_PATHS {
        if !existing.contains(&path) {
            let _ = fs::remove_dir_all(path);
        }
    }
    let _ = fs::remove_dir_all(dir);
}

/// The node's programs (by their recorded ids), then every process whose command line names
/// the node's folder (containerd's shims) and every process in kubelet's pod cgroups.
fn stop_processes(dir: &Path) {
    let recorded: Vec<i32> = fs::read_to_string(dir.join(PIDS))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    for pid in recorded.iter().rev() {
        crate::cluster::terminate(*pid);
    }
    let marker = dir.display().to_string();
    for _ in 0..5 {
        let mut pids = pod_processes();
        pids.extend(processes_naming(&marker));
        pids.retain(|p| *p != std::process::id() as i32);
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn processes_naming(marker: &str) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
        })
        .collect()
}

/// The cgroup folders kubelet makes for pods (cgroup v1: one tree per controller; v2: one).
fn pod_cgroups() -> Vec<PathBuf> {
    let root = Path::new("/sys/fs/cgroup");
    let mut trees = vec![root.join("kubepods")];
    if let Ok(entries) = fs::read_dir(root) {
        trees.extend(
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("kubepods")),
        );
    }
    trees.into_iter().filter(|p| p.is_dir()).collect()
}

/// `root` and every folder below it (cgroup trees hold no symlinks).
fn folders(root: &Path) -> Vec<PathBuf> {
    let mut found = vec![root.to_path_buf()];
    let mut next = 0;
    while next < found.len() {
        if let Ok(entries) = fs::read_dir(&found[next]) {
            found.extend(
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path()),
            );
        }
        next += 1;
    }
    found
}

fn pod_processes() -> Vec<i32> {
    let mut pids = Vec::new();
    for tree in pod_cgroups() {
        for folder in folders(&tree) {
            let text = fs::read_to_string(folder.join("cgroup.procs")).unwrap_or_default();
            pids.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
        }
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Empty cgroup folders are removed with rmdir, deepest first.
fn remove_cgroups() {
    for tree in pod_cgroups() {
        let mut dirs = folders(&tree);
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for d in dirs {
            let _ = fs::remove_dir(d);
        }
    }
}

/// Mount points under `dir` (container roots, network namespaces, volumes, kubelet's own bind
/// mount of its folder), deepest first.
fn mounts_under(dir: &Path) -> Vec<String> {
    let prefix = dir.display().to_string();
    let mut points: Vec<String> = fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| p.replace("\\040", " "))
        .filter(|p| p == &prefix || p.starts_with(&format!("{prefix}/")))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    points.dedup();
    points
}

fn unmount_under(dir: &Path) {
    for _ in 0..3 {
        let points = mounts_under(dir);
        if points.is_empty() {
            return;
        }
        for point in points {
            let ok = Command::new("umount")
                .arg(&point)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                let _ = Command::new("umount")
                    .args(["-l", &point])
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

/// kube-proxy's and kubelet's chains (KUBE-*) and any CNI-* chain: every table saved, those
/// lines left out, and the rest restored — so rules of others stay as they were.
fn remove_chains() {
    for (save, restore) in [
        ("iptables-save", "iptables-restore"),
        ("ip6tables-save", "ip6tables-restore"),
    ] {
        let Ok(out) = Command::new(save).stderr(Stdio::null()).output() else {
            continue;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !(text.contains("KUBE-") || text.contains("CNI-")) {
            continue;
        }
        let kept = without_node_chains(&text);
        let _ = crate::cluster::run_with_stdin(Command::new(restore), &kept);
    }
}

fn without_node_chains(saved: &str) -> String {
    saved
        .lines()
        .filter(|l| !(l.contains("KUBE-") || l.contains("CNI-")))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_node_chains_go() {
        let saved = "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n-A POSTROUTING -s 172.17.0.0/16 -j MASQUERADE\nCOMMIT\n";
        assert_eq!(
            without_node_chains(saved),
            "*nat\n:PREROUTING ACCEPT [0:0]\n-A POSTROUTING -s 172.17.0.0/16 -j MASQUERADE\nCOMMIT\n"
        );
    }

    #[test]
    fn cleanup_of_a_missing_folder_does_nothing() {
        cleanup(Path::new("/nonexistent/node-e2e"));
    }
}
