//! The `providers` step: every provider's values file, alone and under each scenario file (the
//! other files of `values/`, put after it as the docs say), must still give the site what that
//! provider needs: its Ingress class and annotations, nginx's Service annotations, the trusted
//! proxies, who may reach nginx and the StorageClasses ([`table::PROVIDERS`], each row with its
//! sources). A scenario carries sizes, replicas and backups; were it to name another provider's
//! ingress class, annotations or ingressFrom, the combination would fail here. The install's
//! notes of each combination are checked too: the command that finds the site's address, the
//! GeoServer admin's password, and a warning while the site's host is a placeholder.

mod table;

use crate::helm::Helm;
use crate::manifest::{self, string_map_owned, Object};
use crate::parallel;
use crate::project::{Project, Scenario, NAMESPACE, RELEASE};
use crate::report::Step;
use serde_json::Value;
use std::collections::BTreeMap;
pub use table::{Provider, PROVIDERS};

pub fn check_step(project: &Project, helm: &Helm, step: &mut Step) {
    let scenarios = match project.scenarios() {
        Ok(s) => s,
        Err(e) => return step.fail(e.to_string()),
    };
    let files: Vec<&Scenario> = scenarios.iter().filter(|s| s.values.is_some()).collect();
    if !files
        .iter()
        .any(|s| PROVIDERS.iter().any(|p| p.file == s.name))
    {
        // A chart checked without the provider files (the harness's fixtures).
        step.notes
            .push("no provider's values file in values/: nothing to layer".into());
        return;
    }
    let providers: Vec<(&Provider, &Scenario)> = PROVIDERS
        .iter()
        .filter_map(|p| match files.iter().find(|s| s.name == p.file) {
            Some(s) => Some((p, *s)),
            None => {
                step.fail(format!(
                    "the providers table names values/{}.yaml, which does not exist",
                    p.file
                ));
                None
            }
        })
        .collect();
    let layered: Vec<&Scenario> = files
        .iter()
        .copied()
        .filter(|s| !PROVIDERS.iter().any(|p| p.file == s.name))
        .collect();
    // Each provider alone and under each scenario; then the defaults and each scenario alone,
    // which reach the site by a port-forward.
    let mut jobs: Vec<(Option<usize>, Option<&Scenario>)> = Vec::new();
    for p in 0..providers.len() {
        jobs.push((Some(p), None));
        jobs.extend(layered.iter().map(|s| (Some(p), Some(*s))));
    }
    jobs.extend(
        scenarios
            .iter()
            .filter(|s| !PROVIDERS.iter().any(|p| p.file == s.name))
            .map(|s| (None, Some(s))),
    );
    let results = parallel::map(&jobs, |&(p, s)| {
        let mut values: Vec<_> = p
            .iter()
            .filter_map(|&p| providers[p].1.values.clone())
            .collect();
        values.extend(s.and_then(|s| s.values.clone()));
        helm.notes(project, &values, &[])
    });
    for (&(p, s), result) in jobs.iter().zip(results) {
        let files: Vec<String> = p
            .map(|p| providers[p].1)
            .into_iter()
            .chain(s)
            .map(|s| match &s.values {
                Some(_) => format!("values/{}.yaml", s.name),
                None => "the defaults".to_string(),
            })
            .collect();
        let name = files.join(" + ");
        match p.map(|p| providers[p].0) {
            Some(provider) => step.record(result.and_then(|out| judge(provider, &out)).map_err(|e| {
                format!(
                    "{name}: {e}\n  what {} needs is in xtask/src/providers/table.rs, from:\n    {}",
                    provider.file,
                    provider.sources.join("\n    ")
                )
            })),
            None => step.record(
                result
                    .and_then(|out| judge_port_forward(&out))
                    .map_err(|e| format!("{name}: {e}")),
            ),
        }
    }
    step.detail = format!(
        "{} providers × (alone + {} scenario files), and the defaults and scenarios alone: objects and notes",
        providers.len(),
        layered.len()
    );
}

/// One install's dry run (objects and notes) against the provider's row; every mismatch listed.
pub fn judge(provider: &Provider, out: &str) -> Result<(), String> {
    let (manifest_text, notes) = split_dry_run(out)?;
    let objects = manifest::parse(manifest_text)?;
    let mut problems = Vec::new();
    ingress(provider, &objects, &mut problems);
    nginx(provider, &objects, &mut problems);
    claims(provider, &objects, &mut problems);
    let address = format!("kubectl -n {NAMESPACE} get ingress {RELEASE} -o jsonpath=");
    notes_say(notes, ("the Ingress's address", &address), &mut problems);
    verdict(problems)
}

/// Every problem found, one per line; none: passed.
fn verdict(problems: Vec<String>) -> Result<(), String> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// `helm install --dry-run`'s output: the objects after `MANIFEST:`, and the notes.
fn split_dry_run(out: &str) -> Result<(&str, &str), String> {
    let start = out
        .find("\nMANIFEST:\n")
        .ok_or("the dry run printed no MANIFEST: section")?;
    let rest = &out[start + "\nMANIFEST:\n".len()..];
    Ok(match rest.find("\nNOTES:\n") {
        Some(end) => (&rest[..end], &rest[end..]),
        None => (rest, ""),
    })
}

fn of_template<'a>(objects: &'a [Object], kind: &str, template: &str) -> Vec<&'a Object> {
    objects
        .iter()
        .filter(|o| o.kind == kind && o.source.ends_with(template))
        .collect()
}

fn expected_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn ingress(provider: &Provider, objects: &[Object], problems: &mut Vec<String>) {
    let found = of_template(objects, "Ingress", "/ingress/ingress.yaml");
    let [ingress] = found.as_slice() else {
        return problems.push(format!("{} Ingresses rendered, not one", found.len()));
    };
    let class = ingress.value["spec"]["ingressClassName"].as_str();
    if class != provider.ingress_class {
        problems.push(format!(
            "the Ingress's spec.ingressClassName is {class:?}, not {:?}",
            provider.ingress_class
        ));
    }
    let annotations = string_map_owned(&ingress.value["metadata"]["annotations"]);
    let wanted = expected_map(provider.ingress_annotations);
    if annotations != wanted {
        problems.push(format!(
            "the Ingress's annotations are {annotations:?}, not {wanted:?}"
        ));
    }
}

fn nginx(provider: &Provider, objects: &[Object], problems: &mut Vec<String>) {
    for service in of_template(objects, "Service", "/nginx/service.yaml") {
        let annotations = string_map_owned(&service.value["metadata"]["annotations"]);
        let wanted = expected_map(provider.service_annotations);
        if annotations != wanted {
            problems.push(format!(
                "nginx's Service has the annotations {annotations:?}, not {wanted:?}"
            ));
        }
    }
    let trusted: Vec<String> = of_template(objects, "ConfigMap", "/nginx/configmap.yaml")
        .iter()
        .flat_map(|c| manifest::string_map(&c.value["data"]).map(|(_, text)| text))
        .flat_map(str::lines)
        .filter_map(|l| l.trim().strip_prefix("set_real_ip_from "))
        .map(|r| r.trim_end_matches(';').to_string())
        .collect();
    if trusted != provider.trusted_proxies {
        problems.push(format!(
            "nginx trusts X-Forwarded-For from {trusted:?}, not {:?}",
            provider.trusted_proxies
        ));
    }
    let wanted: Value = match yaml_serde::from_str(provider.ingress_from) {
        Ok(v) => v,
        Err(e) => return problems.push(format!("the table's ingress_from is not YAML: {e}")),
    };
    for policy in of_template(objects, "NetworkPolicy", "/nginx/networkpolicy.yaml") {
        // Who reaches the site's port (the metrics exporter's has a rule of its own).
        let peers: Vec<&Value> = policy.value["spec"]["ingress"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|rule| {
                rule["ports"]
                    .as_array()
                    .is_some_and(|ports| ports.iter().any(|p| p["port"] == 8080))
            })
            .flat_map(|rule| rule["from"].as_array().into_iter().flatten())
            .filter(|peer| !is_release_test_pods(peer))
            .collect();
        let wanted_peers: Vec<&Value> = wanted.as_array().into_iter().flatten().collect();
        if peers != wanted_peers {
            problems.push(format!(
                "nginx's NetworkPolicy admits {}, not {}",
                Value::from(peers.into_iter().cloned().collect::<Vec<_>>()),
                wanted
            ));
        }
    }
}

/// The chart's own `helm test` pods, which every nginx policy admits beside networkPolicy.ingressFrom.
fn is_release_test_pods(peer: &Value) -> bool {
    peer.get("namespaceSelector").is_none()
        && peer["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == RELEASE
}

fn claims(provider: &Provider, objects: &[Object], problems: &mut Vec<String>) {
    let mut found: Vec<(String, Value)> = Vec::new();
    for object in objects {
        if object.kind == "PersistentVolumeClaim" {
            found.push((object.name.clone(), object.value["spec"].clone()));
        }
        for template in object.value["spec"]["volumeClaimTemplates"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let name = format!("{} of {}", template["metadata"]["name"], object.name);
            found.push((name, template["spec"].clone()));
        }
    }
    for (name, spec) in found {
        let shared = spec["accessModes"][0] == "ReadWriteMany";
        let wanted = match provider.read_write_many_class {
            rwx if shared && !rwx.is_empty() => rwx,
            _ => provider.storage_class,
        };
        let class = spec["storageClassName"].as_str().unwrap_or("");
        if class != wanted {
            problems.push(format!(
                "the claim {name} has the StorageClass {class:?}, not {wanted:?}"
            ));
        }
    }
}

/// A site without an Ingress (the defaults, a scenario alone): its notes forward a local port
/// anyone may open, whatever siteUrl says.
fn judge_port_forward(out: &str) -> Result<(), String> {
    let (_, notes) = split_dry_run(out)?;
    let forward = format!("kubectl -n {NAMESPACE} port-forward svc/{RELEASE}-nginx 8080:80");
    let mut problems = Vec::new();
    notes_say(
        notes,
        ("a port-forward from port 8080", &forward),
        &mut problems,
    );
    verdict(problems)
}

/// What the notes must tell on every provider and scenario: how to reach the site (`reach`),
/// GeoServer's admin password, and a warning while the host is a placeholder.
fn notes_say(notes: &str, reach: (&str, &str), problems: &mut Vec<String>) {
    let geoserver = "geoserver-admin-password}' | base64 -d";
    for (what, text) in [reach, ("GeoServer's admin password", geoserver)] {
        if !notes.contains(text) {
            problems.push(format!("the notes give no command for {what} ({text:?})"));
        }
    }
    let placeholder =
        notes.contains("://geonode.example.org/") || notes.contains("://maps.example.org/");
    if placeholder && !notes.contains("placeholders of the example values") {
        problems.push("the site's host is a placeholder, and the notes do not warn of it".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_pods_are_told_from_the_providers_peers() {
        let tests: Value = yaml_serde::from_str(
            "podSelector: {matchLabels: {app.kubernetes.io/instance: geonode}}",
        )
        .unwrap();
        assert!(is_release_test_pods(&tests));
        for provider in PROVIDERS {
            let peers: Value = yaml_serde::from_str(provider.ingress_from).unwrap();
            let peers = peers.as_array().expect("a list of peers");
            assert!(
                peers.iter().all(|p| !is_release_test_pods(p)),
                "{}",
                provider.file
            );
        }
    }

    #[test]
    fn the_dry_run_is_split_at_its_sections() {
        let out = "NAME: g\nHOOKS:\n---\na: 1\nMANIFEST:\n---\nb: 2\n\nNOTES:\nhello\n";
        let (objects, notes) = split_dry_run(out).unwrap();
        assert_eq!(objects, "---\nb: 2\n");
        assert!(notes.contains("hello"));
        assert!(split_dry_run("NOTES:\nx").is_err());
    }

    #[test]
    fn a_scenario_that_brings_its_own_ingress_class_is_caught() {
        let gke = PROVIDERS.iter().find(|p| p.file == "gke").unwrap();
        let out = "NAME: geonode\nMANIFEST:\n---\n# Source: geonode/templates/ingress/ingress.yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: geonode
  annotations:
    nginx.ingress.kubernetes.io/proxy-body-size: \"0\"
spec:
  ingressClassName: nginx
";
        let problems = judge(gke, out).unwrap_err();
        assert!(
            problems.contains("spec.ingressClassName is Some(\"nginx\"), not None"),
            "{problems}"
        );
        assert!(
            problems.contains("nginx.ingress.kubernetes.io/proxy-body-size"),
            "{problems}"
        );
        assert!(
            problems.contains("nginx trusts X-Forwarded-For from []"),
            "{problems}"
        );
    }

    #[test]
    fn notes_without_the_commands_are_reported() {
        let mut problems = Vec::new();
        notes_say(
            "Reach the site at https://geonode.example.org/",
            ("the Ingress's address", "get ingress"),
            &mut problems,
        );
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
