//! Rules `pod-security-restricted` and `no-host-access`: what Pod Security "restricted"
//! admits, and what hands the node to a pod.

use super::{container_name, Render};
use crate::manifest::{containers, Object};

const RESTRICTED_VOLUME_TYPES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

pub fn check_restricted(object: &Object, _: &Render, out: &mut Vec<String>) {
    let Some(spec) = object.pod_spec() else {
        return;
    };
    let pod = &spec["securityContext"];
    let pod_non_root = pod["runAsNonRoot"] == true;
    let pod_seccomp = matches!(
        pod["seccompProfile"]["type"].as_str(),
        Some("RuntimeDefault" | "Localhost")
    );
    if pod["runAsUser"] == 0 {
        out.push("the pod's securityContext.runAsUser is 0; run as a non-zero uid".into());
    }
    if pod["seccompProfile"]["type"] == "Unconfined" {
        out.push("the pod's seccompProfile is Unconfined; use RuntimeDefault".into());
    }
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        let name = volume["name"].as_str().unwrap_or("(unnamed)");
        let kinds: Vec<&str> = volume
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .filter(|k| *k != "name")
            .collect();
        for kind in kinds {
            if kind != "hostPath" && !RESTRICTED_VOLUME_TYPES.contains(&kind) {
                out.push(format!(
                    "volume {name} is a {kind} volume; restricted pods may only use {}",
                    RESTRICTED_VOLUME_TYPES.join(", ")
                ));
            }
        }
    }
    for (list, c) in containers(spec) {
        let name = container_name(c);
        let sc = &c["securityContext"];
        let mut wrong = Vec::new();
        if sc["runAsNonRoot"] == false || (!pod_non_root && sc["runAsNonRoot"] != true) {
            wrong.push("runAsNonRoot: true (here or in the pod's securityContext)");
        }
        if sc["runAsUser"] == 0 {
            wrong.push("a non-zero runAsUser");
        }
        if sc["allowPrivilegeEscalation"] != false {
            wrong.push("allowPrivilegeEscalation: false");
        }
        let drops_all = sc["capabilities"]["drop"]
            .as_array()
            .is_some_and(|d| d.iter().any(|c| c == "ALL"));
        if !drops_all {
            wrong.push("capabilities.drop: [ALL]");
        }
        let adds_more = sc["capabilities"]["add"]
            .as_array()
            .is_some_and(|a| a.iter().any(|c| c != "NET_BIND_SERVICE"));
        if adds_more {
            wrong.push("no added capability other than NET_BIND_SERVICE");
        }
        let container_seccomp = sc["seccompProfile"]["type"].as_str();
        if container_seccomp == Some("Unconfined")
            || (!pod_seccomp && !matches!(container_seccomp, Some("RuntimeDefault" | "Localhost")))
        {
            wrong
                .push("seccompProfile.type: RuntimeDefault (here or in the pod's securityContext)");
        }
        if !wrong.is_empty() {
            out.push(format!(
                "{list} {name} needs securityContext {}",
                wrong.join(", ")
            ));
        }
    }
}

pub fn check_host_access(object: &Object, _: &Render, out: &mut Vec<String>) {
    let Some(spec) = object.pod_spec() else {
        return;
    };
    for ns in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec[ns] == true {
            out.push(format!("the pod sets {ns}: true; remove it"));
        }
    }
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        if let Some(path) = volume["hostPath"]["path"].as_str() {
            let what = if path.ends_with("docker.sock") {
                "the docker socket"
            } else {
                "a node directory"
            };
            out.push(format!(
                "volume {} mounts {what} ({path}) from the node; use a PersistentVolumeClaim or an emptyDir",
                volume["name"].as_str().unwrap_or("(unnamed)")
            ));
        }
    }
    for (list, c) in containers(spec) {
        let name = container_name(c);
        if c["securityContext"]["privileged"] == true {
            out.push(format!(
                "{list} {name} is privileged; remove securityContext.privileged"
            ));
        }
        for port in c["ports"].as_array().into_iter().flatten() {
            if !port["hostPort"].is_null() && port["hostPort"] != 0 {
                out.push(format!(
                    "{list} {name} binds hostPort {}; expose it through a Service",
                    port["hostPort"]
                ));
            }
        }
        for mount in c["volumeMounts"].as_array().into_iter().flatten() {
            if mount["mountPath"]
                .as_str()
                .is_some_and(|p| p.ends_with("docker.sock"))
            {
                out.push(format!(
                    "{list} {name} mounts a docker socket; GeoNode needs none on Kubernetes"
                ));
            }
        }
    }
}
