//! A compose site taken out as docs/migrate-from-docker-compose.md says: its block that ends in
//! `SHA256SUMS` is run with bash as written, in a folder of this run, with one thing played:
//! `docker compose exec -T <service> <command>` runs the command as the compose service would
//! (the django service's environment and working directory, the db service's `.env` with the
//! server's address and the superuser's password where the container's socket needs none), the
//! volumes' paths in its arguments mapped to this run.

use super::compose::ComposeSite;
use crate::contract::postgresql;
use crate::docs::blocks;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const PAGE: &str = "docs/migrate-from-docker-compose.md";
/// What the export block ends with: the checksums of everything it wrote.
const LAST: &str = "SHA256SUMS";

/// `docker`, as the block calls it: `compose exec -T <service>` only.
const PLAYED_DOCKER: &str = r#"
docker() {
  if [ "$1 $2 $3" != "compose exec -T" ] || [ ! -f "$PLAY/$4.env" ]; then
    echo "docker $*: only 'docker compose exec -T django|db' is played here" >&2
    return 1
  fi
  local service=$4
  shift 4
  local args=("${@//\/geoserver_data\/data/$PLAY_GEOSERVER_DATA}")
  args=("${args[@]//\/mnt\/volumes\/statics/$PLAY_STATICS}")
  env -i bash -c '. "$0"; cd "${WORKDIR:-/}"; exec "$@"' "$PLAY/$service.env" "${args[@]}"
}
"#;

/// The compose export block of the page: the shell block that runs `docker compose exec` and
/// writes SHA256SUMS (the page's Kubernetes form is not run here).
pub fn block(root: &Path) -> Result<String, String> {
    let text = fs::read_to_string(root.join(PAGE)).map_err(|e| format!("{PAGE}: {e}"))?;
    let found = blocks::extract(PAGE, &text)?;
    let export: Vec<_> = found
        .iter()
        .filter(|b| {
            b.script.contains(&format!("> {LAST}")) && b.script.contains("docker compose exec")
        })
        .collect();
    match export.as_slice() {
        [one] => Ok(one.script.clone()),
        _ => Err(format!(
            "{PAGE} has {} shell blocks running docker compose exec and writing {LAST}, not one: the contract runs that block",
            export.len()
        )),
    }
}

/// A shell file setting `vars` (each value single-quoted).
fn env_file(vars: &BTreeMap<String, String>) -> String {
    vars.iter()
        .map(|(k, v)| format!("export {k}='{}'\n", v.replace('\'', r"'\''")))
        .collect()
}

/// Runs the page's export block against `site` in `dir`; returns the export folder it made
/// (the folder its SHA256SUMS is in).
pub fn run(
    root: &Path,
    site: &ComposeSite,
    dir: &Path,
    db: u16,
    superuser_password: &str,
) -> Result<PathBuf, String> {
    let script = block(root)?;
    // The compose host's folder of this site, and how its services are played.
    let dir = dir.join(format!("compose-host-{}", site.geonode));
    let play = dir.join("play");
    fs::create_dir_all(&play).map_err(|e| e.to_string())?;
    let mut django = site.env.clone();
    django.insert("PATH".into(), site.path());
    django.insert("WORKDIR".into(), site.src.display().to_string());
    let mut database: BTreeMap<String, String> = site
        .env
        .iter()
        .filter(|(k, _)| k.starts_with("POSTGRES_") || k.starts_with("GEONODE_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in [
        ("PATH", format!("{}:/usr/bin:/bin", postgresql::BIN)),
        ("PGHOST", "127.0.0.1".into()),
        ("PGPORT", db.to_string()),
        ("PGPASSWORD", superuser_password.into()),
    ] {
        database.insert(k.into(), v);
    }
    for (service, vars) in [("django", &django), ("db", &database)] {
        fs::write(play.join(format!("{service}.env")), env_file(vars))
            .map_err(|e| e.to_string())?;
    }
    let work = dir.join("beside-docker-compose.yml");
    fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c"])
        .arg(format!("{PLAYED_DOCKER}\n{script}"))
        .current_dir(&work)
        .env("PLAY", &play)
        .env("PLAY_GEOSERVER_DATA", &site.geoserver_data)
        .env("PLAY_STATICS", &site.statics)
        .output()
        .map_err(|e| format!("running {PAGE}'s export block: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{PAGE}'s export block failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // The folder the block made, with SHA256SUMS in it.
    let sums: Vec<PathBuf> = fs::read_dir(&work)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(LAST).is_file())
        .collect();
    match sums.as_slice() {
        [folder] => Ok(folder.clone()),
        _ => Err(format!(
            "{PAGE}'s export block left {} {LAST} files, not one",
            sums.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_has_one_compose_export_block() {
        let script = super::block(&crate::project::workspace_root()).unwrap();
        assert!(script.contains("docker compose exec -T db"), "{script}");
        assert!(script.contains("> SHA256SUMS"), "{script}");
    }
}
