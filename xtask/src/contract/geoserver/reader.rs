//! Part `geoserver-reader-start`: a read replica's start (geoserver.readReplicas), as rendered,
//! on the data directory the writer of the same render configured, with catalina.sh stubbed.
//! The directory is made read-only for it, as the pod mounts it: the reader writes nothing
//! there, notes the updateSequence it is about to load for its follower, copies GeoWebCache's
//! configuration to its own folder; it waits while the writer's start holds the lock, and a
//! reader of another configuration (another admin password) never starts.

use super::start::{catalina_record, hold_start_lock, start_stubbed, stubbed_command};
use super::starter::Starter;
use super::{tree, tree_difference, Setup};
use crate::contract::inputs::Inputs;
use crate::process::exec;
use crate::project::RELEASE;
use crate::report::Step;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// `chmod -R` of the data directory: read-only for the reader's run, writable again after.
fn writable(data: &Path, yes: bool) -> Result<(), String> {
    let mode = if yes { "u+w" } else { "a-w" };
    exec(Command::new("chmod").args(["-R", mode]).arg(data)).map(|_| ())
}

fn update_sequence(global_xml: &str) -> Option<String> {
    let start = global_xml.find("<updateSequence>")? + "<updateSequence>".len();
    let end = global_xml[start..].find("</updateSequence>")? + start;
    Some(global_xml[start..end].trim().to_string())
}

/// The reader's start on the read-only directory: nothing changed, the sequence noted, GeoWebCache's
/// configuration copied.
fn starts_read_only(
    setup: &Setup,
    reader: &Starter,
    data: &Path,
    step: &mut Step,
) -> Result<(), String> {
    let before = tree(data, "").map_err(|e| e.to_string())?;
    writable(data, false)?;
    let started = start_stubbed(setup, reader, &reader.env, step);
    writable(data, true)?;
    started?;
    if let Some(difference) = tree_difference(&before, &tree(data, "").map_err(|e| e.to_string())?)
    {
        return Err(format!(
            "the reader's start changed the data directory: {difference}"
        ));
    }
    let follow = PathBuf::from(&reader.env["FOLLOW_DIR"]);
    let noted = fs::read_to_string(follow.join("loaded-sequence")).unwrap_or_default();
    let global = fs::read_to_string(data.join("global.xml")).map_err(|e| e.to_string())?;
    if Some(noted.trim().to_string()) != update_sequence(&global) {
        return Err(format!(
            "the reader noted updateSequence {noted:?} for its follower; global.xml holds {:?}",
            update_sequence(&global)
        ));
    }
    let config = PathBuf::from(&reader.env["GEOWEBCACHE_CONFIG_DIR"]);
    for file in ["geowebcache.xml", "geowebcache-diskquota.xml"] {
        let (copied, original) = (
            fs::read(config.join(file)),
            fs::read(data.join("gwc").join(file)),
        );
        if copied.is_err() || copied.ok() != original.ok() {
            return Err(format!(
                "GeoWebCache's {file} is not copied into the reader's {}",
                config.display()
            ));
        }
    }
    Ok(())
}

/// The reader waits while a start holds the data volume's lock (the writer editing).
fn waits_for_the_writer(
    setup: &Setup,
    reader: &Starter,
    data: &Path,
    step: &mut Step,
) -> Result<(), String> {
    let mut holder = hold_start_lock(data, 3)?;
    let started = Instant::now();
    let result = start_stubbed(setup, reader, &reader.env, step);
    let waited = started.elapsed();
    let _ = holder.wait();
    result?;
    if waited < Duration::from_secs(2) {
        return Err(format!(
            "the reader started {:.1} s after it began while the writer's start held the lock for 3 s",
            waited.as_secs_f64()
        ));
    }
    Ok(())
}

/// A reader whose configuration the writer did not apply (another admin password) waits for it,
/// then fails in words, never starting GeoServer on the other configuration.
fn refuses_another_configuration(setup: &Setup, reader: &Starter) -> Result<(), String> {
    let mut env = reader.env.clone();
    env.insert(
        "GEOSERVER_ADMIN_PASSWORD".into(),
        "another-password-entirely".into(),
    );
    env.insert("WRITER_WAIT_SECONDS".into(), "5".into());
    let mut cmd = stubbed_command(setup, reader, &env);
    let record = catalina_record(setup);
    match exec(&mut cmd) {
        Ok(out) => Err(format!("a reader of another configuration started: {out}")),
        Err(e) if record.exists() => Err(format!(
            "a reader of another configuration reached Tomcat: {e}"
        )),
        Err(e) if !e.contains("has not configured") => {
            Err(format!("the refusal does not say why: {e}"))
        }
        Err(_) => Ok(()),
    }
}

/// `readers`: the render with geoserver.readReplicas on; `data`: the seeded data directory.
pub fn run(readers: &Inputs, setup: &Setup, data: &Path, home: &Path, step: &mut Step) {
    step.detail = "the readers' render: the writer's start, then the reader's on the directory made read-only (nothing changed, updateSequence noted, GeoWebCache's configuration copied); a reader waits for the writer's lock; a reader of another configuration refuses to start".into();
    let result = (|| -> Result<(), String> {
        let writer = Starter::of(readers, setup, data, home, &format!("{RELEASE}-geoserver"))?;
        let reader = Starter::of(
            readers,
            setup,
            data,
            home,
            &format!("{RELEASE}-geoserver-reader"),
        )?;
        if reader.env.get("GEOSERVER_ROLE").map(String::as_str) != Some("reader") {
            return Err(
                "the readers' GeoServer container is not started as a reader (GEOSERVER_ROLE)"
                    .into(),
            );
        }
        start_stubbed(setup, &writer, &writer.env, step)?;
        let read_only = starts_read_only(setup, &reader, data, step);
        step.record(read_only);
        let waits = waits_for_the_writer(setup, &reader, data, step);
        step.record(waits);
        step.record(refuses_another_configuration(setup, &reader));
        Ok(())
    })();
    step.record(result);
}
