use super::config::has_password_url;
use super::*;
use crate::manifest::parse;

fn findings(yaml: &str) -> Vec<Finding> {
    check(&parse(yaml).unwrap())
}

const GOOD_DEPLOYMENT: &str = r#"---
# Source: t/templates/d.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: web}}
  template:
    metadata:
      labels: {app.kubernetes.io/name: web, app.kubernetes.io/version: "1"}
      annotations: {checksum/web-config: abc}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      volumes: [{name: conf, configMap: {name: web-config, defaultMode: 0644}}]
      containers:
        - name: web
          image: nginx:1.27.3
          readinessProbe: {tcpSocket: {port: 80}}
          livenessProbe: {tcpSocket: {port: 80}}
          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
---
# Source: t/templates/c.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {nginx.conf: "server {}"}
---
# Source: t/templates/s.yaml
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app.kubernetes.io/name: web}, ports: [{port: 80}]}
"#;

fn broken(from: &str, to: &str) -> Vec<Finding> {
    assert!(GOOD_DEPLOYMENT.contains(from), "{from}");
    findings(&GOOD_DEPLOYMENT.replacen(from, to, 1))
}

fn only_rule(found: &[Finding]) -> &'static str {
    let rules: BTreeSet<_> = found.iter().map(|f| f.rule).collect();
    assert_eq!(rules.len(), 1, "expected one rule broken, got {found:#?}");
    found[0].rule
}

#[test]
fn a_good_render_has_no_findings() {
    assert_eq!(findings(GOOD_DEPLOYMENT), vec![]);
}

#[test]
fn each_rule_is_caught_alone() {
    let cases = [
            ("readinessProbe: {tcpSocket: {port: 80}}", "", "probes"),
            ("limits: {memory: 32Mi}", "limits: {}", "resources"),
            ("capabilities: {drop: [ALL]}", "capabilities: {}", "pod-security-restricted"),
            ("runAsNonRoot: true, ", "", "pod-security-restricted"),
            ("nginx:1.27.3", "nginx:1.27-latest", "pinned-image"),
            ("nginx:1.27.3", "nginx", "pinned-image"),
            ("checksum/web-config: abc", "other: abc", "config-checksum"),
            ("nginx.conf: \"server {}\"", "url: \"postgis://u:pw@db:5432/x\"", "no-secret-in-configmap"),
            ("defaultMode: 0644", "defaultMode: 644", "file-mode"),
            ("spec: {selector: {app.kubernetes.io/name: web}", "spec: {selector: {app.kubernetes.io/name: wbe}", "service-selects-pods"),
            ("selector: {matchLabels: {app.kubernetes.io/name: web}}", "selector: {matchLabels: {app.kubernetes.io/name: web, app.kubernetes.io/version: \"1\"}}", "selector-labels"),
            ("allowPrivilegeEscalation: false,", "allowPrivilegeEscalation: false, privileged: false,", ""),
            ("defaultMode: 0644}}]", "defaultMode: 0644}}, {name: tmp, emptyDir: {}}]", "emptydir-size-limit"),
            ("defaultMode: 0644}}]", "defaultMode: 0644}}, {name: tmp, emptyDir: {sizeLimit: 1Gi}}]", ""),
            ("image: nginx:1.27.3", "image: nginx:1.27.3\n          env: [{name: PW, valueFrom: {secretKeyRef: {name: s, key: k}}}]\n          args: [\"--password=$(PW)\"]", "no-secret-in-args"),
            ("image: nginx:1.27.3", "image: nginx:1.27.3\n          env: [{name: PW, valueFrom: {secretKeyRef: {name: s, key: k}}}]\n          args: [\"--password-from-env=PW\"]", ""),
        ];
    for (from, to, rule) in cases {
        let found = broken(from, to);
        if rule.is_empty() {
            assert_eq!(found, vec![], "{to}");
        } else {
            assert_eq!(only_rule(&found), rule, "{to}");
        }
    }
}

#[test]
fn findings_name_object_rule_and_fix() {
    let found = broken("nginx:1.27.3", "nginx:latest");
    let text = found[0].to_string();
    assert!(
        text.starts_with("Deployment web (from t/templates/d.yaml) breaks [pinned-image]"),
        "{text}"
    );
    assert!(
        text.contains("set a fixed version tag or a digest"),
        "{text}"
    );
}

#[test]
fn host_access_is_its_own_rule() {
    let found = broken(
        "volumes: [{name: conf,",
        "volumes: [{name: sock, hostPath: {path: /var/run/docker.sock}}, {name: conf,",
    );
    assert_eq!(only_rule(&found), "no-host-access");
    assert!(found[0].message.contains("docker socket"));
}

#[test]
fn secrets_copied_into_configmaps_are_found() {
    let extra = "---\n# Source: t/templates/x.yaml\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {pw: c3VwZXJzZWNyZXQxMjM=}\n";
    let found = findings(&format!(
        "{}{extra}",
        GOOD_DEPLOYMENT.replace("server {}", "auth supersecret123;")
    ));
    assert_eq!(only_rule(&found), "no-secret-in-configmap");
}

#[test]
fn password_urls() {
    assert!(has_password_url("redis://:hunter22@redis:6379/0"));
    assert!(has_password_url("x postgis://geonode:pw@db/geonode"));
    assert!(!has_password_url(
        "postgis://geonode:$(DB_PASSWORD)@db/geonode"
    ));
    assert!(!has_password_url("http://geoserver:8080/geoserver/"));
    assert!(!has_password_url("mailto:x@y"));
}

#[test]
fn image_pins() {
    assert_eq!(unpinned("docker.io/library/redis:7.4.2-alpine"), None);
    assert_eq!(unpinned(&format!("redis@sha256:{}", "a".repeat(64))), None);
    assert!(unpinned("localhost:5000/redis").is_some());
    assert!(unpinned("geonode/geoserver:2.28.4-latest").is_some());
    assert!(unpinned("redis@sha256:abc").is_some());
    assert_eq!(unpinned("postgis/postgis:15-3.5-alpine"), None);
    for moving in [
        "nginx:stable-alpine",
        "redis:7",
        "redis:7-alpine",
        "nginx:mainline",
    ] {
        assert!(unpinned(moving).is_some(), "{moving}");
    }
}

#[test]
fn base64() {
    assert_eq!(
        base64_decode("c3VwZXJzZWNyZXQxMjM=").as_deref(),
        Some("supersecret123")
    );
    assert_eq!(base64_decode("YQ==").as_deref(), Some("a"));
    assert_eq!(base64_encode(b"ab"), "YWI=");
    for text in ["", "a", "ab", "abc", "abcd", "0123456789abcdef0123"] {
        assert_eq!(
            base64_decode(&base64_encode(text.as_bytes())).as_deref(),
            Some(text)
        );
    }
}

#[test]
fn exceptions_need_known_rules_and_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.yaml");
    std::fs::write(
        &path,
        "- {rule: probes, object: Deployment/x, reason: the image has no shell nor port}\n",
    )
    .unwrap();
    assert_eq!(load_exceptions(&path).unwrap().len(), 1);
    std::fs::write(
        &path,
        "- {rule: probez, object: Deployment/x, reason: the image has no shell nor port}\n",
    )
    .unwrap();
    assert!(load_exceptions(&path)
        .unwrap_err()
        .to_string()
        .contains("unknown rule \"probez\""));
    std::fs::write(&path, "- {rule: probes, object: Deployment/x, reason: x}\n").unwrap();
    assert!(load_exceptions(&path)
        .unwrap_err()
        .to_string()
        .contains("needs a reason"));
}
