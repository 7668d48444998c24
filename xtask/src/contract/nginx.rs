//! nginx: the chart's whole configuration, in front of recording stand-ins.

use super::inputs::{service, Inputs, Mapping};
use super::MAX_BODY_BYTES;
use crate::process::{chmod, exec, free_port, start_container, wait_for_port, Running};
use crate::project::RELEASE;
use crate::report::Step;
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::Command;

/// A stand-in HTTP server that answers 200 and records each request (method, path, headers,
/// body length) as a JSON line.
const STAND_IN_PY: &str = r#"
import http.server, json, sys
port, log = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with open(log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": len(body)}) + "\n")
        self.send_response(200); self.send_header("Content-Type", "text/plain"); self.end_headers(); self.wfile.write(b"stand-in\n")
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_one
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
"#;

/// The chart's nginx.conf with its upstreams, port and paths mapped to this run, checked with
/// `nginx -t` and started. `statics` is the folder behind /static/ and /uploaded/.
pub fn start_nginx(
    inputs: &Inputs,
    dir: &Path,
    statics: &Path,
    django: u16,
    geoserver: u16,
) -> Result<(Running, u16), String> {
    let upstreams = [("django", 8000, django), ("geoserver", 8080, geoserver)];
    let statics = ("/mnt/volumes/statics/", statics);
    start_mapped(inputs, dir, &upstreams, &[], Some(statics), "nginx")
}

/// The rendered nginx.conf with each upstream (component, its Service's port, the local port that
/// stands in for it), its listen port, the ports it listens on the pod's loopback (`loopback`:
/// the pod's, this run's), /tmp/ and `folder` (a path in the pod, and here) mapped to this run,
/// checked with `nginx -t` and started as `what`; and the port it listens on.
pub fn start_mapped(
    inputs: &Inputs,
    dir: &Path,
    upstreams: &[(&str, u16, u16)],
    loopback: &[(u16, u16)],
    folder: Option<(&str, &Path)>,
    what: &str,
) -> Result<(Running, u16), String> {
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    chmod(dir, 0o755).map_err(|e| e.to_string())?;
    let listen = free_port()?;
    let mut hosts: Vec<(String, String)> = upstreams
        .iter()
        .map(|(component, port, local)| (service(component, *port), format!("127.0.0.1:{local}")))
        .collect();
    hosts.push(("listen 8080;".into(), format!("listen 127.0.0.1:{listen};")));
    hosts.extend(loopback.iter().map(|(pod, here)| {
        (
            format!("listen 127.0.0.1:{pod};"),
            format!("listen 127.0.0.1:{here};"),
        )
    }));
    // Applied in order: /tmp/ first, since this run's folder is itself under /tmp.
    let mut paths = vec![("/tmp/".into(), format!("{}/", dir.display()))];
    if let Some((inside, here)) = folder {
        paths.push((inside.into(), format!("{}/", here.display())));
    }
    let mapping = Mapping { hosts, paths };
    let conf = dir.join("nginx.conf");
    let rendered = inputs.config(&format!("{RELEASE}-nginx-config"), "nginx.conf")?;
    for (from, _) in &mapping.hosts {
        if !rendered.contains(from.as_str()) {
            return Err(format!(
                "{what}'s rendered nginx.conf does not contain {from:?}; the upstream names changed"
            ));
        }
    }
    fs::write(&conf, mapping.apply(&rendered)).map_err(|e| e.to_string())?;
    let nginx = check_and_start(&conf, what, listen)?;
    Ok((nginx, listen))
}

/// nginx on the configuration `conf` (listening on `listen`): checked with `nginx -t`, then
/// started in the foreground. `what` names it in errors.
pub fn check_and_start(conf: &Path, what: &str, listen: u16) -> Result<Running, String> {
    exec(Command::new("nginx").arg("-t").arg("-c").arg(conf))
        .map_err(|e| format!("nginx -t rejects {what}'s configuration: {e}"))?;
    start_container(
        Command::new("nginx")
            .arg("-c")
            .arg(conf)
            .args(["-g", "daemon off;"]),
        what,
        listen,
    )
}

/// A recording stand-in on `port`, its requests in `<dir>/<name>.jsonl`.
pub fn stand_in(dir: &Path, port: u16, name: &str) -> Result<Running, String> {
    let running = Running::spawn(
        Command::new("python3")
            .arg("-c")
            .arg(STAND_IN_PY)
            .arg(port.to_string())
            .arg(dir.join(format!("{name}.jsonl"))),
    )
    .map_err(|e| format!("starting the {name} stand-in: {e}"))?;
    wait_for_port(port)?;
    Ok(running)
}

/// `curl -s` for the site: its Host, and https as the scheme a trusted proxy forwards.
fn site_curl(host: &str) -> Command {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-s",
        "-H",
        &format!("Host: {host}"),
        "-H",
        "X-Forwarded-Proto: https",
    ]);
    cmd
}

/// The response headers, lower-cased (the status line first).
pub fn http_headers(host: &str, url: &str) -> Result<String, String> {
    exec(site_curl(host).args(["-o", "/dev/null", "-D", "-", url])).map(|h| h.to_ascii_lowercase())
}

/// The response body.
pub fn http_body(host: &str, args: &[&str]) -> Result<String, String> {
    exec(site_curl(host).args(args))
}

/// Every request a stand-in (`django`, `geoserver`...) recorded: method, path, headers.
pub fn recorded(dir: &Path, stand_in: &str) -> Vec<Value> {
    fs::read_to_string(dir.join(format!("{stand_in}.jsonl")))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

/// The headers a request reached a stand-in (`django` or `geoserver`) with, by its path.
fn seen_by(dir: &Path, stand_in: &str, path: &str) -> Result<Value, String> {
    recorded(dir, stand_in)
        .into_iter()
        .find(|r| r["path"] == path)
        .map(|r| r["headers"].clone())
        .ok_or_else(|| format!("the {stand_in} stand-in saw no request for {path}"))
}

/// A trusted proxy's (127.0.0.1, in nginx.trustedProxies of tests/contract/values.yaml)
/// X-Forwarded-For reaches Django and GeoServer; anyone else's (127.0.0.2) is replaced with what
/// nginx sees, and the client's address is set, never appended. The scheme is the site's (http
/// here), whoever claims https. GeoServer's locations set headers of their own, which in nginx
/// drops every inherited one unless they are set again.
fn forwarded_headers_trusted_only(dir: &Path, base: &str) -> Result<(), String> {
    let send = |from: &str, path: &str| {
        exec(Command::new("curl").args([
            "-s",
            "-o",
            "/dev/null",
            "--interface",
            from,
            "-H",
            "Host: geonode.example.org",
            "-H",
            "X-Forwarded-For: 203.0.113.7",
            "-H",
            "X-Forwarded-Proto: https",
            "-H",
            "X-Forwarded-Host: evil.example",
            &format!("{base}{path}"),
        ]))
    };
    let pick = |headers: &Value| {
        [
            "Host",
            "X-Forwarded-For",
            "X-Real-IP",
            "X-Forwarded-Proto",
            "X-Forwarded-Host",
        ]
        .map(|h| headers[h].as_str().unwrap_or("").to_string())
    };
    let host = "geonode.example.org";
    for (who, stand_in, prefix) in [
        ("Django", "django", ""),
        ("GeoServer", "geoserver", "/geoserver/ows?from="),
    ] {
        let (from_proxy, from_anyone) = (
            format!("{prefix}/from-a-trusted-proxy"),
            format!("{prefix}/from-anyone"),
        );
        send("127.0.0.1", &from_proxy)?;
        send("127.0.0.2", &from_anyone)?;
        let trusted = pick(&seen_by(dir, stand_in, &from_proxy)?);
        let want = [host, "203.0.113.7", "203.0.113.7", "http", host];
        if trusted != want {
            return Err(format!(
                "from a trusted proxy, {who} got Host, X-Forwarded-For, X-Real-IP, X-Forwarded-Proto, X-Forwarded-Host {trusted:?}, not {want:?}"
            ));
        }
        let anyone = pick(&seen_by(dir, stand_in, &from_anyone)?);
        let want = [host, "127.0.0.2", "127.0.0.2", "http", host];
        if anyone != want {
            return Err(format!(
                "from an untrusted address, {who} got Host, X-Forwarded-For, X-Real-IP, X-Forwarded-Proto, X-Forwarded-Host {anyone:?}, not {want:?}: a client could claim another address or the scheme"
            ));
        }
    }
    Ok(())
}

/// Files under /uploaded/ come with nosniff and a scriptless sandbox, and hidden ones not at all.
fn uploads_are_inert(statics: &Path, base: &str) -> Result<(), String> {
    let uploaded = statics.join("uploaded");
    fs::write(
        uploaded.join("documents/page.html"),
        "<script>alert(1)</script>",
    )
    .map_err(|e| e.to_string())?;
    fs::write(uploaded.join(".env"), "SECRET=1").map_err(|e| e.to_string())?;
    fs::create_dir_all(uploaded.join("documents/.git")).map_err(|e| e.to_string())?;
    fs::write(uploaded.join("documents/.git/config"), "x").map_err(|e| e.to_string())?;
    let headers = http_headers(
        "geonode.example.org",
        &format!("{base}/uploaded/documents/page.html"),
    )?;
    if !headers.starts_with("http/1.1 200")
        || !headers.contains("x-content-type-options: nosniff")
        || !headers.contains("content-security-policy: sandbox")
    {
        return Err(format!(
            "an uploaded HTML file is served without nosniff and a sandbox: {headers}"
        ));
    }
    for hidden in ["/uploaded/.env", "/uploaded/documents/.git/config"] {
        expect(
            &format!("GET {hidden} (a hidden file)"),
            http_status("geonode.example.org", &[&format!("{base}{hidden}")]),
            "404",
        )?;
    }
    Ok(())
}

/// GeoServer's paths through the chart's nginx, each with the answer it must get: GeoServer's
/// admin surfaces (its web UI, the form login in every spelling, its REST API, GeoWebCache's,
/// the old GeoFence chain) answer 403 by default; a ';' (Tomcat's path parameters, which would
/// carry a request past nginx's locations) 400; what GeoNode's map client calls reaches GeoServer
/// with the methods it sends, and no other method (403).
const GEOSERVER_PATHS: &[(&str, &str, &str)] = &[
    ("GET", "/geoserver/web/", "403"),
    (
        "GET",
        "/geoserver/web/wicket/bookmarkable/org.geoserver.web.admin.StatusPage",
        "403",
    ),
    ("POST", "/geoserver/j_spring_security_check", "403"),
    ("POST", "/geoserver/j_spring_security_check/", "403"),
    ("POST", "//geoserver//j_spring_security_check", "403"),
    ("POST", "/geoserver/j_spring_security_chec%6b", "403"),
    ("GET", "/geoserver/rest", "403"),
    ("GET", "/geoserver/rest/workspaces.json", "403"),
    ("PUT", "/geoserver/rest/security/self/password", "403"),
    ("POST", "/geoserver/rest/reload", "403"),
    (
        "GET",
        "/geoserver/rest/workspaces/geonode/datastores.json",
        "403",
    ),
    ("GET", "/geoserver/gwc/rest/layers", "403"),
    ("GET", "/geoserver/geofence/rules", "403"),
    ("GET", "/geoserver/;/web/", "400"),
    ("GET", "/geoserver/rest/styles/..;/workspaces.json", "400"),
    ("GET", "/geoserver/rest/styles/x%3B/..%3B/settings", "400"),
    ("GET", "/geoserver/web;jsessionid=1/", "400"),
    ("GET", "/geoserver/rest/styles/point.sld", "200"),
    (
        "GET",
        "/geoserver/rest/workspaces/geonode/styles/roads.json",
        "200",
    ),
    ("PUT", "/geoserver/rest/styles/roads?raw=true", "200"),
    (
        "DELETE",
        "/geoserver/rest/workspaces/geonode/styles/roads_ms_1",
        "200",
    ),
    (
        "POST",
        "/geoserver/rest/workspaces/geonode/styles.json?name=roads_ms_1",
        "200",
    ),
    ("POST", "/geoserver/rest/styles/roads", "403"),
    ("GET", "/geoserver/rest/styles.json", "403"),
    ("GET", "/geoserver/rest/styles/a/b", "403"),
    ("GET", "/geoserver/rest/layers/geonode:roads.json", "200"),
    (
        "PUT",
        "/geoserver/rest/workspaces/geonode/layers/roads.json",
        "200",
    ),
    ("DELETE", "/geoserver/rest/layers/geonode:roads.json", "403"),
    ("POST", "/geoserver/rest/layers/geonode:roads.json", "403"),
    (
        "GET",
        "/geoserver/rest/sldservice/geonode:roads/classify.json?attribute=type",
        "200",
    ),
    (
        "POST",
        "/geoserver/rest/sldservice/geonode:roads/classify.json",
        "403",
    ),
    ("GET", "/geoserver/rest/about/version.json", "200"),
    ("HEAD", "/geoserver/rest/about/manifest", "200"),
    ("GET", "/geoserver/rest/fonts", "200"),
    ("PUT", "/geoserver/rest/fonts.json", "403"),
    (
        "GET",
        "/geoserver/gwc/service/wmts?request=GetCapabilities",
        "200",
    ),
    ("GET", "/geoserver/index.html", "200"),
];

/// Each of GEOSERVER_PATHS gets its answer, and the GeoServer stand-in sees exactly the ones
/// that must reach it.
fn geoserver_paths(dir: &Path, base: &str) -> Result<(), String> {
    for (method, path, code) in GEOSERVER_PATHS {
        expect(
            &format!("{method} {path}"),
            status_of(base, method, path),
            code,
        )?;
        let seen = recorded(dir, "geoserver")
            .iter()
            .any(|r| r["path"] == *path && r["method"] == *method);
        if seen != (*code == "200") {
            return Err(format!(
                "{method} {path}: answered {code}, but GeoServer's stand-in {} it",
                if seen { "saw" } else { "did not see" }
            ));
        }
    }
    Ok(())
}

/// The status code of `method` on the site's `path` (as given: no dot segment resolved), at
/// nginx's `base` URL.
pub fn status_of(base: &str, method: &str, path: &str) -> Result<String, String> {
    let url = format!("{base}{path}");
    let how = if method == "HEAD" {
        vec!["-I"]
    } else {
        vec!["-X", method]
    };
    let args: Vec<&str> = ["--path-as-is"]
        .into_iter()
        .chain(how)
        .chain([url.as_str()])
        .collect();
    http_status("geonode.example.org", &args)
}

/// The HTTP status code.
pub fn http_status(host: &str, args: &[&str]) -> Result<String, String> {
    exec(
        site_curl(host)
            .args(["-o", "/dev/null", "-w", "%{http_code}"])
            .args(args),
    )
}

pub fn expect(what: &str, got: Result<String, String>, code: &str) -> Result<(), String> {
    match got {
        Ok(c) if c.trim() == code => Ok(()),
        Ok(c) => Err(format!("{what}: HTTP {c}, expected {code}")),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

pub fn run(inputs: &Inputs, work: &Path, step: &mut Step) {
    let dir = work.join("nginx");
    let result = (|| -> Result<(), String> {
        let statics = dir.join("statics");
        fs::create_dir_all(statics.join("static/css")).map_err(|e| e.to_string())?;
        fs::create_dir_all(statics.join("uploaded/documents")).map_err(|e| e.to_string())?;
        fs::write(statics.join("static/css/site.css"), "body{}\n").map_err(|e| e.to_string())?;
        fs::write(statics.join("uploaded/documents/report.txt"), "uploaded\n")
            .map_err(|e| e.to_string())?;
        let (django, geoserver) = (free_port()?, free_port()?);
        let _django = stand_in(&dir, django, "django")?;
        let _geoserver = stand_in(&dir, geoserver, "geoserver")?;
        let (_nginx, listen) = start_nginx(inputs, &dir, &statics, django, geoserver)?;
        let curl = |args: &[&str]| http_status("geonode.example.org", args);
        let base = format!("http://127.0.0.1:{listen}");
        for (what, path) in [
            (
                "GET /static/css/site.css (from the statics volume)",
                "/static/css/site.css",
            ),
            (
                "GET /uploaded/documents/report.txt",
                "/uploaded/documents/report.txt",
            ),
            ("GET /-/healthz", "/-/healthz"),
            ("GET / (proxied to Django)", "/"),
            (
                "GET /geoserver/ows (proxied to GeoServer)",
                "/geoserver/ows?service=WMS",
            ),
        ] {
            expect(what, curl(&[&format!("{base}{path}")]), "200")?;
        }
        geoserver_paths(&dir, &base)?;
        uploads_are_inert(&statics, &base)?;
        let big = dir.join("big.bin");
        fs::write(&big, vec![b'x'; MAX_BODY_BYTES + 1024]).map_err(|e| e.to_string())?;
        let upload = format!("@{}", big.display());
        expect(
            "POST over nginx.maxBodySize to /",
            curl(&[
                "-X",
                "POST",
                "--data-binary",
                &upload,
                &format!("{base}/upload/"),
            ]),
            "413",
        )?;
        forwarded_headers_trusted_only(&dir, &base)?;
        if !recorded(&dir, "geoserver").iter().any(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/geoserver/ows"))
        }) {
            return Err("GeoServer's stand-in saw no /geoserver/ows request".into());
        }
        Ok(())
    })();
    step.record(result);
    step.detail = "chart's nginx.conf: nginx -t, statics, uploads (nosniff, sandbox, no hidden files), GeoServer's admin closed but the style editor's REST calls, 413 over the limit, forwarded headers (to Django and GeoServer) from trusted proxies only; GeoServer and Django are recording stand-ins".into();
}
