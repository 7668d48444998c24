//! The GeoServer image, a clearly named model: GeoServer is on no registry reachable here.
//! It carries what the chart's seed and start scripts use in geonode/geoserver — dash, mawk,
//! util-linux's flock, Info-ZIP's unzip, curl, GeoNode's data directory zipped as upstream ships
//! it (vendored, `tests/upstream/geoserver-geonode-ext`) and unpacked where the seed's data image
//! (geonode/geoserver_data) has it, Tomcat's configuration at
//! CATALINA_HOME (Tomcat 9 from Maven Central, as the contract runs it) — and, where the image
//! has Tomcat with GeoServer, a `catalina.sh` that checks the base the start script prepared
//! and starts the GeoServer model (`geoserver/geoserver-model.py`): what the probes, `helm test`
//! and the read replicas depend on, its catalog in memory, GeoFence's rules in PostgreSQL.

use super::debian::{File, Rootfs, Zip};
use super::recipes::{Layer, Recipe};
use super::Config;
use crate::error::Error;
use crate::project::Project;

pub fn recipe(project: &Project) -> Result<Recipe, Error> {
    let tomcat = crate::contract::geoserver::tomcat_home()?;
    let script = |name: &str, text: &str| File {
        path: format!("/usr/local/tomcat/bin/{name}"),
        mode: 0o755,
        bytes: text.as_bytes().to_vec(),
    };
    Ok(Recipe {
        name: "geoserver-model",
        tag: "2.28",
        layer: Layer::Debian(Box::new(Rootfs {
            packages: ["curl", "unzip", "mawk", "python3", "python3-psycopg2"]
                .map(String::from)
                .to_vec(),
            users: Vec::new(),
            trees: vec![
                (tomcat.join("conf"), "/usr/local/tomcat/conf"),
                // Also the seed's data image (geonode/geoserver_data keeps it there).
                (
                    project.root.join("tests/upstream/geoserver-geonode-ext/data"),
                    "/geoserver_data/data",
                ),
            ],
            files: vec![
                script("catalina.sh", include_str!("geoserver/catalina.sh")),
                script(
                    "geoserver-model.py",
                    include_str!("geoserver/geoserver-model.py"),
                ),
            ],
            zips: vec![Zip {
                parent: project.root.join("tests/upstream/geoserver-geonode-ext"),
                folder: "data",
                path: "/usr/local/share/geoserver/geoserver-data-skeleton.zip",
            }],
            commands: vec![
                "mkdir -p /usr/local/tomcat/webapps/geoserver".into(),
                // Tomcat's distribution keeps conf/ to its owner; the official tomcat image
                // opens it up for users other than root, as this does.
                "chmod -R +rX /usr/local/tomcat /geoserver_data".into(),
            ],
        })),
        config: Config {
            env: vec![
                "PATH=/usr/local/tomcat/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                "CATALINA_HOME=/usr/local/tomcat".into(),
                "GEOSERVER_DATA_DIR=/geoserver_data/data".into(),
            ],
            cmd: vec!["catalina.sh".into(), "run".into()],
            ..Config::default()
        },
        differences: "a model: no Java, no GeoServer; a Python server keeps the catalog in memory (refreshed on /rest/reload only) and GeoFence's rules in PostgreSQL (decisions cached), answers the probes, helm test, publishing and GetMap from the prepared data directory; Debian bookworm's dash and mawk where the image has Ubuntu jammy's",
    })
}
