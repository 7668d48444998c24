//! Upstream's own setup as the reference: geonode-project 5.1.0's `uwsgi.ini` and the steps its
//! `entrypoint.sh` runs at every start of an initialised site, behind geonode-docker's nginx
//! configuration (files in tests/upstream/geonode-reference/, with their commits). Adapted only
//! in hosts, ports and paths; left out: `service cron restart` and `invoke update` (Docker and
//! DNS look-ups; the chart's environment stands in for what it exports) and invoke's own
//! start-up, so upstream's start is a lower bound. It runs with the chart's Django environment,
//! except its own STATIC_ROOT (its collectstatic must not write into the chart's) and upstream's
//! value of each variable the chart tunes (GEONODE_DB_CONN_MAX_AGE, from `.env.sample`).

use super::stacks::{assemble, Site, Stack, Start};
use super::table::UPSTREAM;
use crate::contract::nginx::check_and_start;
use crate::process::free_port;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

const REFERENCE: &str = "tests/upstream/geonode-reference";

/// `$NAME` replaced by its value for every NAME in `values`, as upstream's entrypoint runs
/// envsubst with the names of the variables it has: others (nginx's own, lower case, and names
/// it has no value for) stay as written. The names replaced are added to `used`.
fn envsubst(text: &str, values: &BTreeMap<&str, String>, used: &mut BTreeSet<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..len];
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_uppercase()) {
            out.push('$');
            rest = after;
            continue;
        }
        match values.get(name) {
            Some(value) => {
                used.insert(name.to_string());
                out.push_str(value);
            }
            None => {
                out.push('$');
                out.push_str(name);
            }
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// geonode-docker's nginx.conf and geonode.conf with the values its entrypoint gives envsubst,
/// on this run's ports and folders; `listen 80`/`443` on 127.0.0.1, pid, logs and temporary
/// files in `dir`.
fn nginx(
    site: &Site,
    dir: &Path,
    uwsgi: u16,
    static_root: &Path,
) -> Result<(crate::process::Running, u16), String> {
    let root = crate::project::workspace_root()
        .join(REFERENCE)
        .join("geonode-docker/docker/nginx");
    let read = |name: &str| {
        fs::read_to_string(root.join(name))
            .map_err(|e| format!("{}: {e}", root.join(name).display()))
    };
    fs::create_dir_all(dir.join("sites-enabled")).map_err(|e| e.to_string())?;
    let (listen, other) = (free_port()?, free_port()?);
    let values: BTreeMap<&str, String> = [
        ("RESOLVER", "127.0.0.1".to_string()),
        ("HTTP_HOST", site.host.clone()),
        ("PUBLIC_HOST", site.host.clone()),
        ("HTTP_SCHEME", "http".into()),
        ("GEONODE_LB_HOST_IP", "127.0.0.1".into()),
        ("GEONODE_LB_PORT", uwsgi.to_string()),
        ("GEOSERVER_LB_HOST_IP", "127.0.0.1".into()),
        ("GEOSERVER_LB_PORT", site.geoserver.to_string()),
        ("STATIC_ROOT", format!("{}/", static_root.display())),
        (
            "MEDIA_ROOT",
            format!("{}/", site.run.statics.join("uploaded").display()),
        ),
    ]
    .into_iter()
    .collect();
    let d = dir.display();
    let mut used = BTreeSet::new();
    let main = envsubst(&read("nginx.conf.envsubst")?, &values, &mut used);
    let replace = |text: String, from: &str, to: &str| -> Result<String, String> {
        if text.contains(from) {
            Ok(text.replacen(from, to, 1))
        } else {
            Err(format!(
                "nginx.conf.envsubst has no {from:?}; the reference changed"
            ))
        }
    };
    let mut main = main;
    for (from, to) in [
        ("listen              80;", format!("listen 127.0.0.1:{listen};")),
        ("listen          80 default_server;", format!("listen 127.0.0.1:{listen} default_server;")),
        ("listen          443;", format!("listen 127.0.0.1:{other};")),
        ("http {", format!("pid {d}/nginx.pid;\nerror_log {d}/error.log;\nhttp {{\n    access_log {d}/access.log;\n    client_body_temp_path {d}/body;\n    proxy_temp_path {d}/proxy;\n    fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;")),
    ] {
        main = replace(main, from, &to)?;
    }
    // HTTPS off, as upstream's entrypoint leaves it without HTTPS_HOST: an empty include.
    fs::write(dir.join("nginx.https.enabled.conf"), "").map_err(|e| e.to_string())?;
    fs::write(dir.join("nginx.conf"), main).map_err(|e| e.to_string())?;
    let geonode = envsubst(&read("geonode.conf.envsubst")?, &values, &mut used);
    if used.len() != values.len() {
        return Err(format!(
            "upstream's nginx files use {used:?} of {:?}; the reference changed",
            values.keys()
        ));
    }
    fs::write(dir.join("sites-enabled/geonode.conf"), geonode).map_err(|e| e.to_string())?;
    let process = check_and_start(&dir.join("nginx.conf"), "upstream's nginx", listen)?;
    Ok((process, listen))
}

/// geonode-project's uwsgi.ini with this run's socket, log, working directory and module (the
/// stock GeoNode's, as the chart's default runs) and without its cron lines (backup clean-ups on
/// a folder that is not here).
fn uwsgi_ini(site: &Site, dir: &Path, port: u16) -> Result<std::path::PathBuf, String> {
    let path = crate::project::workspace_root()
        .join(REFERENCE)
        .join("geonode-project/src/uwsgi.ini");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let src = site.run.config.with_file_name("src");
    let wsgi = src.join("wsgi.py");
    fs::write(&wsgi, "").map_err(|e| e.to_string())?;
    let overrides: BTreeMap<&str, String> = [
        ("http-socket", format!("127.0.0.1:{port}")),
        ("logto", dir.join("uwsgi.log").display().to_string()),
        ("chdir", src.display().to_string()),
        ("module", "geonode.wsgi:application".into()),
        ("touch-reload", wsgi.display().to_string()),
    ]
    .into_iter()
    .collect();
    let mut seen = Vec::new();
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let key = line.split('=').next().unwrap_or("").trim();
            if let Some(value) = overrides.get(key) {
                seen.push(key);
                format!("{key} = {value}")
            } else if key == "cron" {
                format!("# {line}")
            } else {
                line.to_string()
            }
        })
        .collect();
    if seen.len() != overrides.len() {
        return Err(format!(
            "{} lacks some of {:?}; the reference changed",
            path.display(),
            overrides.keys()
        ));
    }
    let ini = dir.join("uwsgi.ini");
    fs::write(&ini, lines.join("\n") + "\n").map_err(|e| e.to_string())?;
    Ok(ini)
}

/// Upstream's stack: its nginx, and a start that runs the entrypoint's steps then uwsgi; run
/// once here as upstream's first start would (collectstatic into its own folder, thesauri).
pub fn stack(site: &Site) -> Result<Stack, String> {
    let dir = site.work.join("upstream");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    crate::process::chmod(&dir, 0o755).map_err(|e| e.to_string())?;
    let static_root = site.run.statics.join("static-upstream");
    let uwsgi = free_port()?;
    let nginx = nginx(site, &dir.join("nginx"), uwsgi, &static_root)?;
    let ini = uwsgi_ini(site, &dir, uwsgi)?;
    // Upstream's own value where the chart tunes one (geonode-project's .env.sample line 39):
    // a new database connection for every request.
    let run = site
        .run
        .with_var("STATIC_ROOT", &format!("{}/", static_root.display()))
        .with_var("GEONODE_DB_CONN_MAX_AGE", "0");
    let step = |argv: &[&str], serves: bool| Start {
        argv: argv.iter().map(|a| a.to_string()).collect(),
        run: run.clone(),
        serves,
    };
    let starts = vec![
        step(&["django-admin", "migrate", "--noinput"], false),
        step(
            &[
                "django-admin",
                "migrate",
                "--noinput",
                "--database=datastore",
            ],
            false,
        ),
        step(&["django-admin", "collectstatic", "--noinput"], false),
        step(&["django-admin", "thesaurus", "autoload"], false),
        Start {
            argv: vec!["uwsgi".into(), "--ini".into(), ini.display().to_string()],
            run: run.clone(),
            serves: true,
        },
    ];
    let mut stack = assemble(UPSTREAM, nginx, starts, dir.join("uwsgi.log"));
    stack.restart(site, 0)?;
    Ok(stack)
}

#[cfg(test)]
mod tests {
    use super::envsubst;
    use std::collections::{BTreeMap, BTreeSet};

    #[test]
    fn envsubst_replaces_named_variables_and_leaves_the_others() {
        let values: BTreeMap<&str, String> = [
            ("HTTP_HOST", "localhost".to_string()),
            ("HTTP_SCHEME", "http".into()),
        ]
        .into_iter()
        .collect();
        let mut used = BTreeSet::new();
        let got = envsubst(
            "proxy_redirect http://$upstream $HTTP_SCHEME://$HTTP_HOST; $host $VARIABLES",
            &values,
            &mut used,
        );
        assert_eq!(
            got,
            "proxy_redirect http://$upstream http://localhost; $host $VARIABLES"
        );
        assert_eq!(used.len(), 2);
    }
}
