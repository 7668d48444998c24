//! The GeoServer container's start script as the pod runs it, for the parts that run it
//! (`geoserver-start` with catalina.sh stubbed, `geoserver-tomcat` with Tomcat itself).

use super::{chown_tree, deployment, Setup};
use crate::contract::inputs::{require, Inputs, Mapping};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Where the pod mounts the data volume, its tmp emptyDir, and (a reader) the folder it shares
/// with its follower.
const DATA_MOUNT: &str = "/geoserver_data/data";
const TMP_MOUNT: &str = "/tmp";
const FOLLOW_MOUNT: &str = "/run/geonode-k8s/follow";

/// The start script as the pod runs it: the ConfigMap's script, the container's env mapped, the
/// image's CATALINA_HOME.
pub struct Starter {
    pub script: PathBuf,
    pub env: BTreeMap<String, String>,
    pub base: PathBuf,
}

impl Starter {
    pub fn new(inputs: &Inputs, setup: &Setup, data: &Path, home: &Path) -> Result<Self, String> {
        Starter::of(inputs, setup, data, home, &deployment())
    }

    /// The start script of the GeoServer container of `deployment` (the writer's, or the read
    /// replicas').
    pub fn of(
        inputs: &Inputs,
        setup: &Setup,
        data: &Path,
        home: &Path,
        deployment: &str,
    ) -> Result<Self, String> {
        let script = setup.dir.join("scripts/start.sh");
        fs::write(
            &script,
            // One ConfigMap of scripts, named after the writer, for every GeoServer.
            inputs.config(&format!("{}-scripts", super::deployment()), "start.sh")?,
        )
        .map_err(|e| e.to_string())?;
        let command = inputs.command("Deployment", deployment, "geoserver")?;
        if command != ["sh", "/etc/geonode-k8s/start.sh"] {
            return Err(format!(
                "the GeoServer container runs {command:?}, not the chart's start script"
            ));
        }
        let tmp = setup.dir.join("tmp");
        let follow = setup.dir.join("follow");
        for folder in [&tmp, &follow] {
            fs::create_dir_all(folder).map_err(|e| e.to_string())?;
            chown_tree(folder)?;
        }
        // /tmp first: this run's folders are themselves under /tmp.
        let mapping = Mapping {
            hosts: vec![],
            paths: vec![
                (TMP_MOUNT.into(), tmp.display().to_string()),
                (DATA_MOUNT.into(), data.display().to_string()),
                (FOLLOW_MOUNT.into(), follow.display().to_string()),
            ],
        };
        let rendered = inputs.env("Deployment", deployment, "geoserver")?;
        require(
            &rendered,
            "geoserver",
            &["GEOSERVER_DATA_DIR", "CATALINA_BASE", "HOME", "JAVA_OPTS"],
        )?;
        if rendered["GEOSERVER_DATA_DIR"] != DATA_MOUNT {
            return Err(format!(
                "GEOSERVER_DATA_DIR is {}, but the data volume is mounted at {DATA_MOUNT}",
                rendered["GEOSERVER_DATA_DIR"]
            ));
        }
        if !rendered["CATALINA_BASE"].starts_with("/tmp/") {
            return Err(format!(
                "CATALINA_BASE is {}, which is not in the writable tmp emptyDir",
                rendered["CATALINA_BASE"]
            ));
        }
        let mut env: BTreeMap<String, String> = rendered
            .iter()
            .map(|(k, v)| (k.clone(), mapping.apply(v)))
            .collect();
        // Set by the tomcat image, not by the chart.
        env.insert("CATALINA_HOME".into(), home.display().to_string());
        let base = PathBuf::from(&env["CATALINA_BASE"]);
        Ok(Starter { script, env, base })
    }
}
