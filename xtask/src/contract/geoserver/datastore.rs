//! GeoNode's PostGIS store for uploads in a data directory another release made (a restore into
//! a new release, a moved namespace, a changed password, an imported site whose store has another
//! name): the start script must point every store of workspace geonode on the chart's datastore
//! database at it with the chart's credentials, keep every other parameter, add the SSL mode with
//! `postgresql.external.tls`, and leave stores on other databases alone. See `datastore.xml` for where the store's text comes from.

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

/// A store of workspace geonode in a data directory: its folder (and name), and the database its
/// connection names.
#[derive(Clone, Copy)]
pub struct Store<'a> {
    pub folder: &'a str,
    pub database: &'a str,
}

impl Store<'_> {
    /// GeoNode's store as GeoNode 5 makes it: named after the datastore database.
    pub fn named_after(database: &str) -> Store<'_> {
        Store {
            folder: database,
            database,
        }
    }

    /// Where GeoServer keeps it.
    pub fn relative(&self) -> String {
        format!("workspaces/geonode/{}/datastore.xml", self.folder)
    }

    fn xml(&self) -> String {
        STORE_XML
            .replace(
                "<name>geonode_data</name>",
                &format!("<name>{}</name>", self.folder),
            )
            .replace("geonode_data", self.database)
    }

    /// Puts the store into the data directory, readable by all as a restore leaves it.
    pub fn place(&self, data: &Path) -> Result<(), String> {
        let path = data.join(self.relative());
        let dir = path.parent().unwrap_or(data);
        fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        fs::write(&path, self.xml()).map_err(|e| format!("writing {}: {e}", path.display()))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).map_err(|e| e.to_string())?;
        chown_tree(dir)
    }

    /// The store's parameters as placed: key -> value, in file order.
    fn placed(&self) -> Vec<(String, String)> {
        self.xml()
            .lines()
            .filter_map(|l| l.trim().strip_prefix("<entry key=\""))
            .filter_map(|l| l.strip_suffix("</entry>"))
            .filter_map(|l| l.split_once("\">"))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// The store as read back from the data directory (`read_back.py`): as placed, and with `env`
/// (the GeoServer container's) on this release's database: the chart's connection, each parameter
/// once, the others as they were, and an SSL mode only with TLS (`ssl_mode`, GeoTools' name).
pub fn check(
    facts: &Value,
    store: Store,
    env: Option<&BTreeMap<String, String>>,
    ssl_mode: Option<&str>,
) -> Result<(), String> {
    let entries = facts["stores"][store.relative()]
        .as_object()
        .ok_or(format!(
            "the data directory has no store {} after the start",
            store.relative()
        ))?;
    let mut want: BTreeMap<String, String> = store.placed().into_iter().collect();
    for (key, var) in env.map_or(&[][..], |_| SET) {
        let value = env.and_then(|e| e.get(*var)).cloned().unwrap_or_default();
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
        "the store {}: {}",
        store.relative(),
        differ.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placed_store_has_geonodes_parameters() {
        let params = Store::named_after("geonode_data").placed();
        assert_eq!(params.len(), 24);
        assert!(params.contains(&("dbtype".into(), "postgis".into())));
        assert!(params.contains(&("host".into(), "geonode-postgresql.old-site.svc".into())));
    }

    #[test]
    fn a_store_left_as_it_was_is_reported() {
        let name = "geonode_data";
        let store = Store::named_after(name);
        let entries: serde_json::Map<String, Value> = store
            .placed()
            .into_iter()
            .map(|(k, v)| (k, Value::from(vec![v])))
            .collect();
        let facts = serde_json::json!({"stores": {store.relative(): entries}});
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
        let err = check(&facts, store, Some(&env), None).unwrap_err();
        assert!(
            err.contains("\"host\"") && err.contains("\"passwd\""),
            "{err}"
        );
        assert!(!err.contains("\"port\""), "{err}");
    }
}
