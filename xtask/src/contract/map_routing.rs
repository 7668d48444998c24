//! nginx with GeoServer's read replicas (geoserver.readReplicas): the chart's nginx.conf of that
//! render, in front of recording stand-ins of Django, the writer and the readers' Service. Map and
//! tile requests (GET, not WPS) reach the readers; everything else GeoServer serves reaches the
//! writer; with no reader answering, map requests reach the writer (the upstream's backup).

use super::inputs::Inputs;
use super::nginx::{recorded, stand_in, start_mapped, status_of};
use crate::process::free_port;
use crate::report::Step;
use std::fs;
use std::path::Path;

/// The render's values that turn the readers on.
pub const READER_SETS: &[&str] = &["geoserver.readReplicas.enabled=true"];

/// Requests and who must see them: method, path and query, "reader" or "writer".
const ROUTES: &[(&str, &str, &str)] = &[
    (
        "GET",
        "/geoserver/ows?service=WMS&request=GetMap&case=1",
        "reader",
    ),
    ("GET", "/geoserver/wms?request=GetMap&case=2", "reader"),
    ("HEAD", "/geoserver/wfs?request=GetFeature&case=3", "reader"),
    ("GET", "/geoserver/wcs?request=GetCoverage&case=4", "reader"),
    // Virtual services: a workspace's, a layer's.
    ("GET", "/geoserver/geonode/ows?service=WFS&case=5", "reader"),
    (
        "GET",
        "/geoserver/geonode/roads/wms?request=GetMap&case=6",
        "reader",
    ),
    (
        "GET",
        "/geoserver/gwc/service/wmts?request=GetTile&case=7",
        "reader",
    ),
    (
        "GET",
        "/geoserver/gwc/service/tms/1.0.0/geonode:roads@EPSG:3857@png/3/4/5.png?case=8",
        "reader",
    ),
    // A process may write the catalog: WPS stays on the writer, in any spelling.
    (
        "GET",
        "/geoserver/ows?service=WPS&request=GetCapabilities&case=9",
        "writer",
    ),
    (
        "GET",
        "/geoserver/ows?SERVICE=wps&request=Execute&case=10",
        "writer",
    ),
    (
        "GET",
        "/geoserver/wps?request=GetCapabilities&case=11",
        "writer",
    ),
    // A POST may be a transaction or a WPS request in its body.
    ("POST", "/geoserver/wfs?case=12", "writer"),
    ("POST", "/geoserver/ows?case=13", "writer"),
    // The rest of GeoServer: the map client's REST calls, styles' files, GeoWebCache's home.
    (
        "GET",
        "/geoserver/rest/about/version.json?case=14",
        "writer",
    ),
    (
        "GET",
        "/geoserver/styles/geonode/icon.png?case=15",
        "writer",
    ),
    ("GET", "/geoserver/gwc/?case=16", "writer"),
    ("GET", "/geoserver/index.html?case=17", "writer"),
];

/// Which stand-in saw a request for `path` with `method`: "reader", "writer", both or none.
fn seen_by(dir: &Path, method: &str, path: &str) -> Vec<&'static str> {
    ["reader", "writer"]
        .into_iter()
        .filter(|who| {
            recorded(dir, who)
                .iter()
                .any(|r| r["path"] == path && r["method"] == method)
        })
        .collect()
}

fn route(dir: &Path, base: &str, (method, path, want): (&str, &str, &str)) -> Result<(), String> {
    let code = status_of(base, method, path)?;
    let seen = seen_by(dir, method, path);
    if code.trim() != "200" || seen != [want] {
        return Err(format!(
            "{method} {path}: HTTP {code}, seen by {seen:?}; the {want} should serve it alone"
        ));
    }
    Ok(())
}

pub fn run(inputs: &Inputs, work: &Path, step: &mut Step) {
    let dir = work.join("nginx-readers");
    let result = (|| -> Result<(), String> {
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let [django, writer, reader] = [free_port()?, free_port()?, free_port()?];
        let _django = stand_in(&dir, django, "django")?;
        let _writer = stand_in(&dir, writer, "writer")?;
        let reader_stand_in = stand_in(&dir, reader, "reader")?;
        let upstreams = [
            ("django", 8000, django),
            ("geoserver-reader", 8080, reader),
            ("geoserver", 8080, writer),
        ];
        let (_nginx, listen) =
            start_mapped(inputs, &dir, &upstreams, &[], None, "nginx (readers)")?;
        let base = format!("http://127.0.0.1:{listen}");
        for case in ROUTES {
            route(&dir, &base, *case)?;
        }
        // No reader answers (none ready: their Service refuses): maps come from the writer.
        drop(reader_stand_in);
        route(
            &dir,
            &base,
            (
                "GET",
                "/geoserver/ows?service=WMS&request=GetMap&case=fallback",
                "writer",
            ),
        )?;
        step.passed += ROUTES.len();
        Ok(())
    })();
    step.record(result);
    step.detail = format!(
        "nginx.conf with {}: {} requests routed (OWS and GeoWebCache GETs to the readers; WPS, POSTs, REST and the rest to the writer), and map requests to the writer once no reader answers",
        READER_SETS.join(","),
        ROUTES.len()
    );
}
