//! Part `geoserver-start`: the GeoServer container's start script and environment, as rendered,
//! on the seeded upstream data directory with `catalina.sh` stubbed; what it wrote is read back
//! with a real XML parser and checked against what Django is told (its container's env) and
//! where Django really is (its Service).

use super::datastore::{self, Store};
use super::starter::Starter;
use super::{deployment, tomcat, tree, Setup, Tree};
use crate::contract::inputs::{require, service, Inputs};
use crate::process::{exec, exec_container};
use crate::project::RELEASE;
use crate::report::Step;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Instant;

const READ_BACK_PY: &str = include_str!("read_back.py");

/// Returns the Tomcat home it used and its files, for the Tomcat part.
pub fn run(
    inputs: &Inputs,
    tls_inputs: &Inputs,
    setup: &Setup,
    data: &Path,
    step: &mut Step,
) -> Option<(PathBuf, Tree)> {
    step.detail = "start script on the seeded data dir (catalina.sh stubbed): XML read back against Django's env and Service; GeoNode's PostGIS store from another release pointed at this one; twice; metacharacters; GeoFence's URL, the store's SSL mode and the JDBC root certificate with postgresql.external.tls".into();
    let (home, pristine) = match tomcat::prepare(setup) {
        Ok(prepared) => prepared,
        Err(e) => {
            step.fail(e);
            return None;
        }
    };
    let result = (|| -> Result<(), String> {
        let starter = Starter::new(inputs, setup, data, &home)?;
        // GeoNode's side: Django's settings, and the OAuth2 application the init Job makes.
        let mut django = inputs.env("Deployment", &format!("{RELEASE}-django"), "django")?;
        for (name, value) in inputs.env("Job", &inputs.init_job()?, "init")? {
            django.entry(name).or_insert(value);
        }
        let upstream = read_back(&setup.upstream)?;
        let stores = stores(&starter.env["GEONODE_GEODATABASE"]);
        for store in &stores {
            store.place(data)?;
        }
        let first = start_stubbed(setup, &starter, &starter.env, step)?;
        let facts = read_back(data)?;
        check_against_django(inputs, &facts, &upstream, &django, step);
        // The stores on the chart's database take its connection, the other keeps its own.
        for store in &stores[..2] {
            step.record(datastore::check(&facts, *store, Some(&django), None));
        }
        step.record(datastore::check(&facts, stores[2], None, None));
        step.record(one_writer(&facts));
        check_base(&starter.base, &home, &pristine, step);
        // Every start runs the script: a second one leaves the same files.
        start_stubbed(setup, &starter, &starter.env, step)?;
        step.record(if read_back(data)? == facts {
            Ok(())
        } else {
            Err("a second start changed what the first wrote (elements added twice?)".into())
        });
        // Secrets with characters special to XML, sh, awk and Java properties reach the files
        // as they are.
        let odd = r#" p&<w>"d'$(x)\n%s;`\u12"#;
        let mut env = starter.env.clone();
        for key in [
            "GEOSERVER_ADMIN_PASSWORD",
            "OAUTH2_CLIENT_SECRET",
            "OAUTH2_API_KEY",
            "GEONODE_GEODATABASE_PASSWORD",
        ] {
            env.insert(key.into(), odd.into());
        }
        start_stubbed(setup, &starter, &env, step)?;
        let odd_facts = read_back(data)?;
        let store = format!(
            "workspaces/geonode/{}/datastore.xml",
            env["GEONODE_GEODATABASE"]
        );
        let got = [
            odd_facts["users"]["admin"].clone(),
            odd_facts["oauth"]["clientSecret"][0].clone(),
            odd_facts["roles"]["authApiKey"][0].clone(),
            odd_facts["stores"][&store]["passwd"][0].clone(),
            odd_facts["geofence"]["geofenceDataSource.password"].clone(),
        ];
        let want = [
            format!("plain:{odd}"),
            odd.to_string(),
            odd.to_string(),
            format!("plain:{odd}"),
            odd.to_string(),
        ];
        step.record(if got.iter().zip(&want).all(|(g, w)| g == w.as_str()) {
            Ok(())
        } else {
            Err(format!("secrets with XML and shell metacharacters ({odd:?}) came back as admin password, client secret, API key, store password, GeoFence's password (as Java reads the properties): {got:?}"))
        });
        let tls = tls_reaches_geofence(tls_inputs, setup, &starter, data, step);
        step.record(tls);
        step.record(starts_wait_for_the_lock(setup, &starter, data));
        // Back to the rendered values for the next part.
        start_stubbed(setup, &starter, &starter.env, step)?;
        if first.is_empty() {
            return Err("catalina.sh was not called".into());
        }
        Ok(())
    })();
    if let Err(e) = result {
        step.fail(e);
        return None;
    }
    step.failures.is_empty().then_some((home, pristine))
}

/// What several processes on one data directory need (docs/scaling.md, "One GeoServer"): file
/// locks for GeoServer's configuration and GeoWebCache (not GeoNode's in-process ones), no
/// second-level cache in GeoFence, and no temporary file left by the edits.
/// The stores a data directory of another site may hold in workspace geonode: GeoNode's, named
/// after the datastore database; an imported site's, named after the old site's database and
/// pointed at this one by the import (restore.py); one on another database, which stays as it is.
fn stores(database: &str) -> [Store<'_>; 3] {
    [
        Store::named_after(database),
        Store {
            folder: "project_data",
            database,
        },
        Store::named_after("another_site_data"),
    ]
}

fn one_writer(facts: &Value) -> Result<(), String> {
    let locks = &facts["locks"];
    let cache = &facts["geofence"]
        ["geofenceEntityManagerFactory.jpaPropertyMap[hibernate.cache.use_second_level_cache]"];
    if locks["global.xml"] != "fileLockProvider"
        || locks["gwc-gs.xml"] != "nioLock"
        || cache != "false"
    {
        return Err(format!(
            "after the start, global.xml locks with {}, gwc-gs.xml with {}, GeoFence's second-level cache is {cache}: want fileLockProvider, nioLock, false",
            locks["global.xml"], locks["gwc-gs.xml"]
        ));
    }
    match facts["leftovers"].as_array() {
        Some(left) if !left.is_empty() => Err(format!("the start left temporary files: {left:?}")),
        _ => Ok(()),
    }
}

/// A start waits while another holds the data volume's start lock (`flock`, as a second start
/// on the same volume would), and goes on once it is released.
fn starts_wait_for_the_lock(setup: &Setup, starter: &Starter, data: &Path) -> Result<(), String> {
    let mut holder = hold_start_lock(data, 4)?;
    let record = catalina_record(setup);
    let started = Instant::now();
    let out = exec(&mut stubbed_command(setup, starter, &starter.env))
        .map_err(|e| format!("the start script failed: {e}"))?;
    let waited = started.elapsed();
    let _ = holder.wait();
    if waited < std::time::Duration::from_secs(3) || !record.exists() {
        return Err(format!(
            "a start finished {:.1} s after it began while another held the start lock for 4 s (or did not reach Tomcat: {out})",
            waited.as_secs_f64()
        ));
    }
    Ok(())
}

/// postgresql.external.tls: with the TLS render's env, GeoFence's JDBC URL carries its sslmode and
/// root certificate, and the bundle is where the JDBC driver looks when a URL names none
/// (`<user.home>/.postgresql/root.crt`, user.home being the container's HOME).
fn tls_reaches_geofence(
    tls_inputs: &Inputs,
    setup: &Setup,
    starter: &Starter,
    data: &Path,
    step: &mut Step,
) -> Result<(), String> {
    let rendered = tls_inputs.env("Deployment", &deployment(), "geoserver")?;
    require(
        &rendered,
        "geoserver",
        &["PGSSLMODE", "PGSSLROOTCERT", "DATABASE_HOST"],
    )?;
    let bundle = setup.dir.join("tmp/contract-postgresql-ca.crt");
    let pem = "-----BEGIN CERTIFICATE-----\ncontract\n-----END CERTIFICATE-----\n";
    fs::write(&bundle, pem).map_err(|e| e.to_string())?;
    let mut env = starter.env.clone();
    for key in ["PGSSLMODE", "DATABASE_HOST", "DATABASE_PORT", "JAVA_OPTS"] {
        env.insert(key.into(), rendered[key].clone());
    }
    env.insert("PGSSLROOTCERT".into(), bundle.display().to_string());
    start_stubbed(setup, starter, &env, step)?;
    let facts = read_back(data)?;
    // GeoNode's store: the TLS server, and GeoTools' name for the mode (verify-full: VERIFY_FULL).
    let ssl_mode = env["PGSSLMODE"].to_uppercase().replace('-', "_");
    datastore::check(
        &facts,
        Store::named_after(&env["GEONODE_GEODATABASE"]),
        Some(&env),
        Some(&ssl_mode),
    )?;
    let url = facts["geofence"]["geofenceDataSource.url"].clone();
    let want = crate::contract::jdbc::geofence_tls_url(
        &env["DATABASE_HOST"],
        &env["DATABASE_PORT"],
        &env["GEONODE_GEODATABASE"],
        &env["PGSSLMODE"],
        &env["PGSSLROOTCERT"],
    );
    if url != want.as_str() {
        return Err(format!(
            "with postgresql.external.tls, GeoFence's JDBC URL is {url}, not {want}"
        ));
    }
    let home = &env["HOME"];
    let root = fs::read_to_string(Path::new(home).join(".postgresql/root.crt")).unwrap_or_default();
    let user_home = format!("-Duser.home={}", rendered["HOME"]);
    if root != pem || !rendered["JAVA_OPTS"].split(' ').any(|o| o == user_home) {
        return Err(format!(
            "the CA bundle is not in $HOME/.postgresql/root.crt ({home}), or JAVA_OPTS lacks {user_home}: the JDBC driver would not find it for stores whose URL names no root certificate"
        ));
    }
    Ok(())
}

/// Runs the start script with a stub `catalina.sh` that records its arguments; returns them.
pub(super) fn start_stubbed(
    setup: &Setup,
    starter: &Starter,
    env: &BTreeMap<String, String>,
    step: &mut Step,
) -> Result<String, String> {
    let stub_dir = setup.dir.join("stub");
    fs::create_dir_all(&stub_dir).map_err(|e| e.to_string())?;
    let record = catalina_record(setup);
    let stub = stub_dir.join("catalina.sh");
    fs::write(
        &stub,
        format!("#!/bin/sh\necho \"$@\" > {}\n", record.display()),
    )
    .map_err(|e| e.to_string())?;
    fs::set_permissions(&stub, fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
    let out = exec_container(&mut stubbed_command(setup, starter, env), "geoserver")
        .map_err(|e| format!("the start script failed: {e}"))?;
    if out.contains(&env["GEOSERVER_ADMIN_PASSWORD"]) || out.contains(&env["OAUTH2_API_KEY"]) {
        step.fail("the start script printed a secret");
    }
    let called = fs::read_to_string(&record).unwrap_or_default();
    if called.trim() != "run" {
        return Err(format!(
            "the start script did not end in `catalina.sh run` (called with {called:?})"
        ));
    }
    Ok(called)
}

/// Where the stub `catalina.sh` (written by `start_stubbed`) records how it was called.
pub(super) fn catalina_record(setup: &Setup) -> PathBuf {
    setup.dir.join("tmp/catalina-called")
}

/// The start script as the GeoServer user with `env`, the stub `catalina.sh` first on its PATH;
/// the stub's record of an earlier start removed.
pub(super) fn stubbed_command(
    setup: &Setup,
    starter: &Starter,
    env: &BTreeMap<String, String>,
) -> Command {
    let _ = fs::remove_file(catalina_record(setup));
    let mut cmd = setup.as_geoserver("sh", env);
    cmd.env(
        "PATH",
        format!("{}:{}", setup.dir.join("stub").display(), setup.path()),
    )
    .arg(&starter.script);
    cmd
}

/// The data volume's start lock held for `seconds` by another process, as another start would
/// hold it; the holder, to wait for.
pub(super) fn hold_start_lock(data: &Path, seconds: u64) -> Result<Child, String> {
    let holder = Command::new("flock")
        .arg(data.join(".geonode-k8s-start.lock"))
        .args(["sleep", &seconds.to_string()])
        .spawn()
        .map_err(|e| format!("holding the start lock: {e}"))?;
    // Until flock has it.
    std::thread::sleep(std::time::Duration::from_millis(300));
    Ok(holder)
}

/// The files the start script edits, read by `read_back.py`.
fn read_back(data: &Path) -> Result<Value, String> {
    let out = exec(
        std::process::Command::new("python3")
            .arg("-c")
            .arg(READ_BACK_PY)
            .arg(data),
    )
    .map_err(|e| format!("reading the data directory back: {e}"))?;
    serde_json::from_str(out.trim()).map_err(|e| format!("{e}: {out}"))
}

fn check_against_django(
    inputs: &Inputs,
    facts: &Value,
    upstream: &Value,
    django: &BTreeMap<String, String>,
    step: &mut Step,
) {
    let site = django.get("SITEURL").cloned().unwrap_or_default();
    // Django as GeoServer must reach it: its Service's name and port.
    let internal = inputs
        .find("Service", &format!("{RELEASE}-django"))
        .ok()
        .and_then(|s| s.value["spec"]["ports"][0]["port"].as_u64())
        .map(|port| format!("http://{}", service("django", port as u16)))
        .unwrap_or_default();
    let env = |k: &str| django.get(k).cloned().unwrap_or_default();
    let one = |file: &str, tag: &str| -> String {
        match facts[file][tag].as_array().map(Vec::as_slice) {
            Some([v]) => v.as_str().unwrap_or_default().to_string(),
            other => format!("<{tag}> {} times", other.map_or(0, |v| v.len())),
        }
    };
    let expectations = [
        (
            "role service baseUrl",
            one("roles", "baseUrl"),
            internal.clone(),
        ),
        (
            "role service authApiKey (Django's OAUTH2_API_KEY)",
            one("roles", "authApiKey"),
            env("OAUTH2_API_KEY"),
        ),
        (
            "OAuth2 cliendId (Django's OAUTH2_CLIENT_ID)",
            one("oauth", "cliendId"),
            env("OAUTH2_CLIENT_ID"),
        ),
        (
            "OAuth2 clientSecret (Django's OAUTH2_CLIENT_SECRET)",
            one("oauth", "clientSecret"),
            env("OAUTH2_CLIENT_SECRET"),
        ),
        (
            "OAuth2 accessTokenUri",
            one("oauth", "accessTokenUri"),
            format!("{internal}/o/token/"),
        ),
        (
            "OAuth2 checkTokenEndpointUrl",
            one("oauth", "checkTokenEndpointUrl"),
            format!("{internal}/api/o/v4/tokeninfo/"),
        ),
        (
            "OAuth2 userAuthorizationUri",
            one("oauth", "userAuthorizationUri"),
            format!("{site}o/authorize/"),
        ),
        (
            "OAuth2 redirectUri (the OAuth2 application's, see geonode-init)",
            one("oauth", "redirectUri"),
            format!("{site}geoserver/index.html"),
        ),
        (
            "OAuth2 logoutUri",
            one("oauth", "logoutUri"),
            format!("{site}account/logout/"),
        ),
        (
            "global.xml proxyBaseUrl",
            facts["global"]["proxyBaseUrl"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            format!("{site}geoserver"),
        ),
        (
            "logging.xml stdOutLogging",
            one("logging", "stdOutLogging"),
            "true".into(),
        ),
        (
            "admin's password (Django's GEOSERVER_ADMIN_PASSWORD)",
            facts["users"]["admin"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            format!("plain:{}", env("GEOSERVER_ADMIN_PASSWORD")),
        ),
        (
            "GeoFence JDBC URL",
            facts["geofence"]["geofenceDataSource.url"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            format!(
                "jdbc:postgresql://{}:{}/{}",
                env("DATABASE_HOST"),
                env("DATABASE_PORT"),
                env("GEONODE_GEODATABASE")
            ),
        ),
        (
            "GeoFence user",
            facts["geofence"]["geofenceDataSource.username"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            env("GEONODE_GEODATABASE_USER"),
        ),
        (
            "GeoFence password",
            facts["geofence"]["geofenceDataSource.password"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            env("GEONODE_GEODATABASE_PASSWORD"),
        ),
    ];
    for (what, got, want) in expectations {
        step.record(if got == want && !want.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{what}: the start script wrote {got:?}, Django needs {want:?}"
            ))
        });
    }
    step.record(if upstream["roles"]["authApiKey"].is_null()
        && facts["users"]["admin"] != upstream["users"]["admin"]
    {
        Ok(())
    } else {
        Err("upstream's data directory is not what tests/upstream/README.md says, or the admin password is still upstream's".into())
    });
    let loose: Vec<String> = facts["modes"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, mode)| *mode != "0o600")
        .map(|(file, mode)| format!("{file} {}", mode.as_str().unwrap_or("?")))
        .collect();
    step.record(if loose.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "files holding secrets are readable by others: {}",
            loose.join(", ")
        ))
    });
}

/// Tomcat's base: the image's conf copied with upstream's two edits; the image left untouched.
fn check_base(base: &Path, home: &Path, pristine: &Tree, step: &mut Step) {
    let read = |p: &str| fs::read_to_string(base.join(p)).unwrap_or_default();
    step.record(
        if read("conf/catalina.properties").contains("xom-*.jar,bcprov*.jar")
            && read("conf/web.xml").contains("org.apache.catalina.filters.CorsFilter")
            && base.join("webapps").is_symlink()
        {
            Ok(())
        } else {
            Err(format!(
                "{} lacks upstream's edits (bcprov jar scan, CorsFilter) or the image's webapps",
                base.display()
            ))
        },
    );
    step.record(match tree(home, "") {
        Ok(t) if &t == pristine => Ok(()),
        _ => Err(format!(
            "the start script changed files of the image's Tomcat ({})",
            home.display()
        )),
    });
}
