//! Part `geoserver-seed`: the seed init container's script and environment, as rendered, filling
//! empty volumes from the skeleton zip; killed at random moments and run again; two at once;
//! on volumes that already hold data.

use super::{chown_tree, deployment, tree, tree_difference, Setup, Tree};
use crate::contract::inputs::{require, Inputs, Mapping};
use crate::process::{exec, exec_container, Running};
use crate::report::Step;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where the geonode/geoserver image carries GeoNode's data-directory skeleton
/// (geonode-docker docker/geoserver/Dockerfile: GEOSERVER_SHARE_DIR).
const IMAGE_SKELETON_ZIP: &str = "/usr/local/share/geoserver/geoserver-data-skeleton.zip";
/// Where the copy-data-image init container leaves the data image's /geoserver_data/data
/// (geoserver.seed.dataImage, the default).
const DATA_IMAGE_COPY: &str = "/mnt/seed-source/data";
/// Where the seed container mounts the data volume.
const TARGET_MOUNT: &str = "/mnt/geoserver-data";
/// Kills in a row; the issue asks for at least 40.
const KILL_TRIALS: usize = 60;
const CONCURRENT_TRIALS: usize = 10;
/// The seed's own entries in the volume (markers, lock, staging), left out of comparisons.
const OWN: &str = ".geonode-k8s-";

/// One check of the seed: what it shows, or why it fails.
type Check = fn(&Seeder, &Tree) -> Result<String, String>;

/// The seed as the pod runs it: the ConfigMap's script, the init container's env mapped.
struct Seeder<'a> {
    setup: &'a Setup,
    script: PathBuf,
    env: BTreeMap<String, String>,
    mapping: Mapping,
}

impl Seeder<'_> {
    /// The seed's command for a fresh volume at `target`, with `source` as SEED_SOURCE if given.
    fn command(&self, target: &Path, source: Option<&Path>) -> Command {
        let mut env: BTreeMap<String, String> = self
            .env
            .iter()
            .map(|(k, v)| (k.clone(), self.mapping.apply(v)))
            .collect();
        env.insert("TARGET_DIR".into(), target.display().to_string());
        if let Some(source) = source {
            env.insert("SEED_SOURCE".into(), source.display().to_string());
        }
        let mut cmd = self.setup.as_geoserver("sh", &env);
        cmd.arg(&self.script);
        cmd
    }

    fn run(&self, target: &Path) -> Result<String, String> {
        exec_container(&mut self.command(target, None), "seed-data-dir")
    }

    /// A new empty volume, owned as fsGroup would leave it.
    fn volume(&self, name: &str) -> Result<PathBuf, String> {
        let target = self.setup.dir.join("volumes").join(name);
        if target.exists() {
            fs::remove_dir_all(&target).map_err(|e| e.to_string())?;
        }
        fs::create_dir_all(&target).map_err(|e| e.to_string())?;
        chown_tree(&target)?;
        Ok(target)
    }
}

pub fn run(inputs: &Inputs, setup: &Setup, step: &mut Step) -> Option<PathBuf> {
    step.detail = format!(
        "seed script on GeoNode's data dir from the rendered source (the data image's folder; the image's skeleton zip too): fresh, {KILL_TRIALS} random kills and reruns, {CONCURRENT_TRIALS}× two at once, existing data kept"
    );
    let seeder = match seeder(inputs, setup) {
        Ok(s) => s,
        Err(e) => {
            step.fail(e);
            return None;
        }
    };
    let want = match tree(&setup.upstream, OWN) {
        Ok(t) => t,
        Err(e) => {
            step.fail(e.to_string());
            return None;
        }
    };
    let fresh = fresh_seed(&seeder, &want);
    let seeded = fresh.as_ref().ok().cloned();
    step.record(fresh.map(|_| ()));
    let checks: [(&str, Check); 5] = [
        ("killed and rerun", killed_and_rerun),
        ("two seeders at once", concurrent),
        ("existing data", existing_data),
        ("chart 0.1.0's interrupted seed", interrupted_by_old_chart),
        ("other sources", other_sources),
    ];
    for (name, check) in checks {
        match check(&seeder, &want) {
            Ok(note) => {
                step.passed += 1;
                if !note.is_empty() {
                    step.notes.push(format!("{name}: {note}"));
                }
            }
            Err(e) => step.fail(format!("{name}: {e}")),
        }
    }
    seeded
}

fn seeder<'a>(inputs: &Inputs, setup: &'a Setup) -> Result<Seeder<'a>, String> {
    let scripts = setup.dir.join("scripts");
    fs::create_dir_all(&scripts).map_err(|e| e.to_string())?;
    let script = scripts.join("seed-data-dir.sh");
    fs::write(
        &script,
        inputs.config(&format!("{}-scripts", deployment()), "seed-data-dir.sh")?,
    )
    .map_err(|e| e.to_string())?;
    chown_tree(&scripts)?;
    let env = inputs.env("Deployment", &deployment(), "seed-data-dir")?;
    require(&env, "seed-data-dir", &["SEED_SOURCE", "TARGET_DIR"])?;
    let source = env["SEED_SOURCE"].as_str();
    if ![IMAGE_SKELETON_ZIP, DATA_IMAGE_COPY].contains(&source) || env["TARGET_DIR"] != TARGET_MOUNT
    {
        return Err(format!(
            "the seed container seeds {} from {source}, but the geonode/geoserver image carries its skeleton at {IMAGE_SKELETON_ZIP}, the data image's copy is at {DATA_IMAGE_COPY} and the volume is mounted at {TARGET_MOUNT}",
            env["TARGET_DIR"]
        ));
    }
    let command = inputs.command("Deployment", &deployment(), "seed-data-dir")?;
    if command != ["sh", "/etc/geonode-k8s/seed-data-dir.sh"] {
        return Err(format!(
            "the seed container runs {command:?}, not the chart's seed script"
        ));
    }
    // The statics volume, where the seed makes the assets folder GeoServer mounts alone.
    let statics = setup.dir.join("statics");
    fs::create_dir_all(&statics).map_err(|e| e.to_string())?;
    chown_tree(&statics)?;
    Ok(Seeder {
        setup,
        script,
        env,
        mapping: Mapping {
            hosts: vec![],
            paths: vec![
                (
                    IMAGE_SKELETON_ZIP.into(),
                    setup.skeleton_zip.display().to_string(),
                ),
                // The copy of the data image's folder: GeoNode's data directory, vendored.
                (DATA_IMAGE_COPY.into(), setup.upstream.display().to_string()),
                (STATICS_MOUNT.into(), statics.display().to_string()),
            ],
        },
    })
}

/// Where GeoNode's pods mount the statics volume.
const STATICS_MOUNT: &str = "/mnt/volumes/statics";

/// Whether `target` holds exactly the upstream data directory.
fn complete(target: &Path, want: &Tree) -> Result<(), String> {
    let got = tree(target, OWN).map_err(|e| e.to_string())?;
    match tree_difference(want, &got) {
        None => Ok(()),
        Some(d) => Err(format!(
            "{} is not the upstream data directory: {d}",
            target.display()
        )),
    }
}

fn fresh_seed(seeder: &Seeder, want: &Tree) -> Result<PathBuf, String> {
    let target = seeder.volume("fresh")?;
    seeder
        .run(&target)
        .map_err(|e| format!("a fresh seed failed: {e}"))?;
    complete(&target, want)?;
    if !target.join(".geonode-k8s-seeded").exists() || target.join(".geonode-k8s-seed").exists() {
        return Err("a fresh seed left no done marker, or its staging folder".into());
    }
    let assets = seeder.setup.dir.join("statics/assets");
    if !assets.is_dir() {
        return Err(format!(
            "the seed did not make {} (ASSETS_DIR), which GeoServer mounts alone",
            assets.display()
        ));
    }
    Ok(target)
}

/// A small generator for the kill moments (xorshift); its seed is printed with the result.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        bound.mul_f64((self.0 % 1_000_000) as f64 / 1_000_000.0)
    }
}

/// What a killed seed had reached, read from what it left.
fn phase(target: &Path) -> &'static str {
    if target.join(".geonode-k8s-seeded").exists() {
        "after its marker"
    } else if target.join(".geonode-k8s-seed/.complete").exists() {
        "moving into place"
    } else if target.join(".geonode-k8s-seed").exists() {
        "unpacking"
    } else {
        "before unpacking"
    }
}

fn killed_and_rerun(seeder: &Seeder, want: &Tree) -> Result<String, String> {
    // How long a whole seed takes here: kills land anywhere in it.
    let mut durations = Vec::new();
    for _ in 0..3 {
        let target = seeder.volume("timing")?;
        let started = Instant::now();
        seeder.run(&target)?;
        durations.push(started.elapsed());
    }
    // The quickest run: slower ones waited on a busy disk, and kills past the end teach nothing.
    let window = durations
        .iter()
        .min()
        .copied()
        .unwrap_or_default()
        .mul_f64(1.1);
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut random = Random(seed);
    let mut phases: BTreeMap<&str, usize> = BTreeMap::new();
    for trial in 1..=KILL_TRIALS {
        let target = seeder.volume("killed")?;
        let delay = random.below(window);
        let child = Running::spawn(
            seeder
                .command(&target, None)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .map_err(|e| format!("starting the seed: {e}"))?;
        std::thread::sleep(delay);
        drop(child); // SIGKILL to its whole process group, unzip and mv included
        let reached = phase(&target);
        *phases.entry(reached).or_default() += 1;
        if reached == "after its marker" {
            complete(&target, want).map_err(|e| {
                format!("trial {trial} (random seed {seed}, killed after {delay:?}): the done marker was written over an incomplete data directory: {e}")
            })?;
        }
        seeder.run(&target).map_err(|e| {
            format!(
                "trial {trial} (random seed {seed}): the rerun after a kill {reached} failed: {e}"
            )
        })?;
        complete(&target, want).map_err(|e| {
            format!("trial {trial} (random seed {seed}, killed {reached} after {delay:?}), after the rerun: {e}")
        })?;
        if target.join(".geonode-k8s-seed").exists() {
            return Err(format!(
                "trial {trial}: the rerun left its staging folder behind"
            ));
        }
    }
    let reached: Vec<String> = phases.iter().map(|(p, n)| format!("{n} {p}")).collect();
    Ok(format!(
        "{KILL_TRIALS} kills within {window:?} (random seed {seed}): {}; every rerun complete",
        reached.join(", ")
    ))
}

fn concurrent(seeder: &Seeder, want: &Tree) -> Result<String, String> {
    for trial in 1..=CONCURRENT_TRIALS {
        let target = seeder.volume("concurrent")?;
        let spawn = || {
            seeder
                .command(&target, None)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| e.to_string())
        };
        let (first, second) = (spawn()?, spawn()?);
        let mut unpacked = 0;
        for child in [first, second] {
            let out = child.wait_with_output().map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr);
            if !out.status.success() {
                return Err(format!("trial {trial}: a seeder failed: {}", text.trim()));
            }
            // The source unpacked (the zip) or copied (the data image's folder).
            unpacked +=
                text.matches("seed: unpacking").count() + text.matches("seed: copying").count();
        }
        complete(&target, want).map_err(|e| format!("trial {trial}: {e}"))?;
        if unpacked != 1 {
            return Err(format!(
                "trial {trial}: the skeleton was unpacked {unpacked} times; one seeder must wait for the other"
            ));
        }
    }
    Ok(String::new())
}

fn existing_data(seeder: &Seeder, _: &Tree) -> Result<String, String> {
    // A seeded volume a user changed: the seed runs again (every pod start) and changes nothing.
    let target = seeder.volume("changed")?;
    seeder.run(&target)?;
    let global = target.join("global.xml");
    let mut changed = fs::read_to_string(&global).map_err(|e| e.to_string())?;
    changed.push_str("<!-- changed by a user -->\n");
    fs::write(&global, &changed).map_err(|e| e.to_string())?;
    fs::write(target.join("styles/mine.sld"), "mine").map_err(|e| e.to_string())?;
    let before = tree(&target, OWN).map_err(|e| e.to_string())?;
    seeder.run(&target)?;
    if tree(&target, OWN).map_err(|e| e.to_string())? != before {
        return Err("running the seed on a seeded volume changed what a user had changed".into());
    }
    // A volume that holds a data directory the chart did not seed (an existing claim): adopted.
    let target = seeder.volume("adopted")?;
    fs::write(target.join("global.xml"), "<global/>").map_err(|e| e.to_string())?;
    let before = tree(&target, OWN).map_err(|e| e.to_string())?;
    seeder.run(&target)?;
    if tree(&target, OWN).map_err(|e| e.to_string())? != before
        || !target.join(".geonode-k8s-seeded").exists()
    {
        return Err("a volume holding data was not adopted unchanged".into());
    }
    Ok(String::new())
}

fn interrupted_by_old_chart(seeder: &Seeder, want: &Tree) -> Result<String, String> {
    // What chart 0.1.0's `cp -Rn` left when killed: its in-progress marker, a truncated file.
    let target = seeder.volume("old-chart")?;
    fs::write(target.join(".geonode-k8s-seeding"), "").map_err(|e| e.to_string())?;
    fs::write(target.join("global.xml"), "<glo").map_err(|e| e.to_string())?;
    chown_tree(&target)?;
    seeder.run(&target)?;
    complete(&target, want)?;
    let aside: Vec<PathBuf> = fs::read_dir(&target)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".geonode-k8s-interrupted-"))
        })
        .collect();
    match aside.as_slice() {
        [folder] if fs::read_to_string(folder.join("global.xml")).is_ok_and(|t| t == "<glo") => {
            Ok(String::new())
        }
        _ => Err(format!(
            "the half-copied files were not kept aside in one .geonode-k8s-interrupted-* folder: {aside:?}"
        )),
    }
}

fn other_sources(seeder: &Seeder, want: &Tree) -> Result<String, String> {
    // The rendered source is one of these; the other is checked here. geoserver.seed.dataImage:
    // the data image's /geoserver_data/data, copied to an emptyDir; off: the image's zip.
    let target = seeder.volume("data-image")?;
    exec(&mut seeder.command(&target, Some(&seeder.setup.upstream)))?;
    complete(&target, want)?;
    let target = seeder.volume("skeleton-zip")?;
    exec(&mut seeder.command(&target, Some(&seeder.setup.skeleton_zip)))?;
    complete(&target, want)?;
    // A GeoServer image without the skeleton: a clear error that says what to set.
    let target = seeder.volume("no-skeleton")?;
    let missing = seeder.setup.dir.join("no-such-skeleton.zip");
    match exec(&mut seeder.command(&target, Some(&missing))) {
        Ok(_) => Err("the seed succeeded without a skeleton".into()),
        Err(e) if e.contains("geoserver.seed.dataImage") => Ok(String::new()),
        Err(e) => Err(format!(
            "without a skeleton the seed fails without saying what to set: {e}"
        )),
    }
}
