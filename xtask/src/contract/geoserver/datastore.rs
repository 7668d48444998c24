//! GeoNode's PostGIS store for uploads in a data directory another release made (a restore into
//! a new release, a moved namespace, a changed password): the start script must point it at the
//! chart's database with the chart's credentials, keep every other parameter, and add the SSL
//! mode with `postgresql.external.tls`. See `datastore.xml` for where the store's text comes from.

use super::chown_tree;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const STORE_XML: &str = include_str!("datastore.xml");

/// The parameters the start script sets: connection parameter -> the GeoServer container's env
/// variable it comes from (the password with GeoServer's `plain:` prefix).
const SET: &[(&str, &str)] = &[
    ("host", "DATABASE_HOST"),
    ("port", "DATABASE_PORT"),
    ("database", "GEONODE_GEODATABASE"),
    ("user", "GEONODE_GEODATABASE_USER"),
    ("passwd", "GEONODE_GEODATABASE_PASSWORD"),
];

/// Where GeoServer keeps the store of the datastore database `name` in workspace geonode.
fn relative(name: &str) -> String {
    format!("workspaces/geonode/{name}/datastore.xml")
}

/// Puts the old release's store into the data directory, readable by all as a restore leaves it.
pub fn place(data: &Path, name: &str) -> Result<(), String> {
    let path = data.join(relative(name));
    let dir = path.parent().unwrap_or(data);
    fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    fs::write(&path, STORE_XML.replace("geonode_data", name))
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).map_err(|e| e.to_string())?;
    chown_tree(dir)
}

/// The store's parameters as placed: key -> value, in file order.
fn placed(name: &str) -> Vec<(String, String)> {
    STORE_XML
        .replace("geonode_data", name)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("<entry key=\""))
        .filter_map(|l| l.strip_suffix("</entry>"))
        .filter_map(|l| l.split_once("\">"))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The store as read back from the data directory (`read_back.py`) against the GeoServer
/// container's env: the chart's connection, each parameter once, the others as they were, and
/// an SSL mode only with TLS (`ssl_mode`, GeoTools' name).
pub fn check(
    facts: &Value,
    env: &BTreeMap<String, String>,
    ssl_mode: Option<&str>,
) -> Result<(), String> {
    let name = env
        .get("GEONODE_GEODATABASE")
        .ok_or("the GeoServer container has no GEONODE_GEODATABASE")?;
    let store = &facts["stores"][relative(name)];
    let Some(entries) = store.as_object() else {
        return Err(format!(
            "the data directory has no store {} after the start",
            relative(name)
        ));
    };
    let mut want: BTreeMap<String, String> = placed(name).into_iter().collect();
    for (key, var) in SET {
        let value = env.get(*var).cloned().unwrap_or_default();
        let value = if *key == "passwd" {
            format!("plain:{value}")
        } else {
            value
        };
        want.insert(key.to_string(), value);
    }
    if let Some(mode) = ssl_mode {
        want.insert("SSL mode".into(), mode.into());
    }
    let got: BTreeMap<String, String> = entries
        .iter()
        .map(|(k, v)| {
            let values: Vec<&str> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let one = match values.as_slice() {
                [one] => one.to_string(),
                more => format!("{} times: {more:?}", more.len()),
            };
            (k.clone(), one)
        })
        .collect();
    if got == want {
        return Ok(());
    }
    let differ: Vec<String> = want
        .keys()
        .chain(got.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| got.get(*k) != want.get(*k))
        .map(|k| format!("{k:?}: {:?}, want {:?}", got.get(k), want.get(k)))
        .collect();
    Err(format!(
        "GeoNode's store {}: {}",
        relative(name),
        differ.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placed_store_has_geonodes_parameters() {
        let params = placed("geonode_data");
        assert_eq!(params.len(), 24);
        assert!(params.contains(&("dbtype".into(), "postgis".into())));
        assert!(params.contains(&("host".into(), "geonode-postgresql.old-site.svc".into())));
    }

    #[test]
    fn a_store_left_as_it_was_is_reported() {
        let name = "geonode_data";
        let entries: serde_json::Map<String, Value> = placed(name)
            .into_iter()
            .map(|(k, v)| (k, Value::from(vec![v])))
            .collect();
        let facts = serde_json::json!({"stores": {relative(name): entries}});
        let env: BTreeMap<String, String> = [
            ("GEONODE_GEODATABASE", name),
            ("DATABASE_HOST", "geonode-postgresql.new-site.svc"),
            ("DATABASE_PORT", "5432"),
            ("GEONODE_GEODATABASE_USER", name),
            ("GEONODE_GEODATABASE_PASSWORD", "new"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let err = check(&facts, &env, None).unwrap_err();
        assert!(
            err.contains("\"host\"") && err.contains("\"passwd\""),
            "{err}"
        );
        assert!(!err.contains("\"port\""), "{err}");
    }
}
