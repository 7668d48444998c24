//! The site every configuration serves: GeoNode's databases set up by the chart's init Job
//! command (migrations, fixtures, collectstatic), one public document, a GeoServer stand-in.

use super::stacks::Site;
use crate::contract::geonode::{venv, GeoNodeRun};
use crate::contract::inputs::Inputs;
use crate::contract::nginx::stand_in;
use crate::contract::redis::RedisPorts;
use crate::process::{exec, free_port, Running};
use crate::project::RELEASE;
use std::path::Path;
use std::time::Instant;

/// The prepared site and what the rounds need from it.
pub struct Prepared {
    pub site: Site,
    /// A public document's id, for its detail.
    pub document: u64,
    /// The largest collected JavaScript file: its URL path and size.
    pub largest_script: (String, u64),
    pub init_seconds: f64,
    pub static_files: usize,
    _geoserver: Running,
}

/// A public document owned by a user of its own, as an uploader leaves one.
const DOCUMENT_PY: &str = r#"
from django.contrib.auth import get_user_model
from geonode.documents.models import Document
user, _ = get_user_model().objects.get_or_create(username="bench-owner", defaults={"email": "bench@bench.test"})
doc = Document.objects.create(title="Bench document", abstract="A document for the bench.", owner=user, doc_url="https://example.org/bench.pdf")
doc.set_default_permissions(owner=user, created=True)
print(doc.pk)
"#;

pub fn prepare(
    inputs: Inputs,
    work: &Path,
    db: u16,
    redis: RedisPorts,
) -> Result<Prepared, String> {
    let venv = venv::ensure().map_err(|e| e.to_string())?;
    let geoserver = free_port()?;
    let gs_dir = work.join("geoserver-stand-in");
    std::fs::create_dir_all(&gs_dir).map_err(|e| e.to_string())?;
    let geoserver_process = stand_in(&gs_dir, geoserver, "geoserver")?;
    let run = GeoNodeRun::new(&inputs, work, venv, db, redis, geoserver)?;
    let job = inputs
        .objects
        .iter()
        .find(|o| o.kind == "Job" && o.name.starts_with(&format!("{RELEASE}-init-")))
        .map(|o| o.name.clone())
        .ok_or("the render has no init Job")?;
    let argv = inputs.command("Job", &job, "init")?;
    let init = run.with_env_of(&inputs, "Job", &job, "init")?;
    let started = Instant::now();
    exec(&mut init.command(&argv)).map_err(|e| format!("the init Job's command: {e}"))?;
    let init_seconds = started.elapsed().as_secs_f64();
    let document = run
        .python(DOCUMENT_PY)?
        .trim()
        .lines()
        .last()
        .and_then(|l| l.parse().ok())
        .ok_or("no document id")?;
    let static_root = run.statics.join("static");
    let files: Vec<(String, u64)> = files_under(&static_root)
        .into_iter()
        .filter_map(|(path, size)| {
            let rel = path.strip_prefix(&run.statics).ok()?;
            Some((format!("/{}", rel.display()), size))
        })
        .collect();
    let largest_script = files
        .iter()
        .filter(|(p, _)| p.ends_with(".js"))
        .max_by_key(|(_, size)| *size)
        .cloned()
        .ok_or("collectstatic left no .js file")?;
    let host = run.site_host();
    Ok(Prepared {
        site: Site {
            run,
            inputs,
            host,
            geoserver,
            work: work.to_path_buf(),
        },
        document,
        largest_script,
        init_seconds,
        static_files: files.len(),
        _geoserver: geoserver_process,
    })
}

/// Every file under `dir` with its size.
fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, u64)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => pending.push(entry.path()),
                Ok(t) if t.is_file() => {
                    out.push((entry.path(), entry.metadata().map_or(0, |m| m.len())))
                }
                _ => {}
            }
        }
    }
    out
}

/// The caching headers of a response (lower-cased header block): Cache-Control, Expires, ETag,
/// Last-Modified, Vary, Pragma, Content-Encoding, each as sent (twice if sent twice).
pub fn cache_headers(headers: &str) -> String {
    const KEEP: &[&str] = &[
        "cache-control",
        "expires",
        "etag",
        "last-modified",
        "vary",
        "pragma",
        "content-encoding",
    ];
    headers
        .lines()
        .filter(|l| {
            l.split_once(':')
                .is_some_and(|(k, _)| KEEP.contains(&k.trim()))
        })
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" · ")
}

/// This machine, for the table's heading: CPUs, memory, kernel, the date.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    let date =
        exec(std::process::Command::new("date").args(["-u", "+%Y-%m-%d"])).unwrap_or_default();
    format!("{cpus} CPUs ({model}), {mem_gib:.0} GiB, {}", date.trim())
}

#[cfg(test)]
mod tests {
    use super::cache_headers;

    #[test]
    fn caching_headers_are_kept_in_order_and_twice_when_sent_twice() {
        let h = "http/1.1 200 ok\r\nserver: nginx\r\ncache-control: max-age=2592000\r\ncache-control: public\r\netag: \"x\"\r\ncontent-length: 5\r\n";
        assert_eq!(
            cache_headers(h),
            "cache-control: max-age=2592000 · cache-control: public · etag: \"x\""
        );
    }
}
