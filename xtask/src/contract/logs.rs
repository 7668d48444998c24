//! The last step of a contract run: what the chart's own programs printed (the logs a cluster
//! keeps of its containers, which anyone with `pods/log` read sees) searched for every credential
//! and token the run used: each value of every rendered Secret (the chart's, and the operator's
//! the renders name), the OAuth2 access and refresh tokens and grant codes GeoNode issued, and
//! password-reset links. None may be there; the requests that carried a token must be.

use super::inputs::Inputs;
use super::postgresql::psql;
use crate::manifest::Object;
use crate::report::Step;
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// What a log must not hold whatever the run's secrets: GeoNode's reset links carry a key that
/// sets the password.
const NEVER: &[&str] = &["/password/reset/key/"];

/// A value shorter than this is no credential of the run's (the pins and generated values are
/// longer) and would be found in any text.
const SHORTEST: usize = 8;

/// Every credential the renders hold: each Secret value, and each line of a multi-line one (a
/// key in PEM), so a log that printed one line of it is caught too.
fn rendered_secrets<'a>(objects: impl Iterator<Item = &'a Object>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for object in objects.filter(|o| o.kind == "Secret") {
        let data = object.value["data"].as_object().into_iter().flatten();
        let decoded = data.filter_map(|(_, v)| v.as_str().and_then(crate::policy::base64_decode));
        let plain = object.value["stringData"].as_object().into_iter().flatten();
        let plain = plain.filter_map(|(_, v)| v.as_str().map(str::to_string));
        for value in decoded.chain(plain) {
            found.extend(
                value
                    .lines()
                    .map(str::trim)
                    .filter(|l| l.len() >= SHORTEST && !l.starts_with("-----"))
                    .map(str::to_string),
            );
        }
    }
    found
}

/// The tokens GeoNode issued in the run, from its database (what the run's last step, the
/// restore, left: everything issued before the backup).
fn issued_tokens(
    port: u16,
    env: &std::collections::BTreeMap<String, String>,
) -> Result<BTreeSet<String>, String> {
    let out = psql(
        port,
        &env["GEONODE_DATABASE_USER"],
        &env["GEONODE_DATABASE_PASSWORD"],
        &env["GEONODE_DATABASE"],
        "select token from oauth2_provider_accesstoken union all select token from oauth2_provider_refreshtoken \
         union all select code from oauth2_provider_grant",
    )?;
    Ok(out
        .lines()
        .map(str::trim)
        .filter(|l| l.len() >= SHORTEST)
        .map(str::to_string)
        .collect())
}

/// The step. `renders`: every render of the run; `database`: the contract's PostgreSQL, when the
/// GeoNode part ran; `carried`: what each request that carried a token must have left in a log.
pub fn run(renders: &[&Inputs], database: Option<u16>, carried: &[(&str, &str)], step: &mut Step) {
    let result = (|| -> Result<String, String> {
        let dir = crate::process::container_logs().ok_or("this run keeps no container logs")?;
        let mut secrets = rendered_secrets(renders.iter().flat_map(|r| r.objects.iter()));
        let mut tokens = 0;
        if let Some(port) = database {
            let env = renders[0].env(
                "Deployment",
                &format!("{}-django", crate::project::RELEASE),
                "django",
            )?;
            let issued = issued_tokens(port, &env)?;
            if issued.is_empty() {
                return Err("GeoNode's database holds no token: the run issued none, so none was searched for".into());
            }
            tokens = issued.len();
            secrets.extend(issued);
        }
        let mut logs = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            logs.push((path, text));
        }
        let mut problems = Vec::new();
        for (path, text) in &logs {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
            for secret in &secrets {
                if text.contains(secret.as_str()) {
                    let shown: String = secret.chars().take(4).collect();
                    problems.push(format!(
                        "{name} holds a credential ({shown}…, {} characters)",
                        secret.len()
                    ));
                }
            }
            for never in NEVER {
                if text.contains(never) {
                    problems.push(format!("{name} holds a password-reset link ({never})"));
                }
            }
        }
        for (log, line) in carried {
            if !logs
                .iter()
                .any(|(p, text)| p.file_name() == Some(log.as_ref()) && text.contains(line))
            {
                problems.push(format!("{log} does not show the request it must ({line:?}): the search would prove nothing"));
            }
        }
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        let bytes: usize = logs.iter().map(|(_, t)| t.len()).sum();
        Ok(format!(
            "{} logs ({bytes} bytes) of {}; {} credentials searched for ({tokens} tokens GeoNode issued), none found",
            logs.len(),
            logs.iter().filter_map(|(p, _)| p.file_stem()?.to_str()).collect::<Vec<_>>().join(", "),
            secrets.len()
        ))
    })();
    step.record_note(result);
}

/// Where a contract run keeps them: beside its other files.
pub fn folder(work: &Path) -> std::path::PathBuf {
    work.join("container-logs")
}
