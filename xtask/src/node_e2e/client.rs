//! How the node's tests reach the release: a Service's cluster address (kube-proxy's rules on
//! the node route it from the host, as from a pod), one HTTP/1.1 request, a component's pods.

use super::site::{NAMESPACE, RELEASE};
use super::Ctx;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The cluster address of the release's Service of `component`, on `port`.
pub fn service_address(ctx: &Ctx, component: &str, port: u16) -> Result<SocketAddr, String> {
    let ip = ctx.plane.kubectl(&[
        "get",
        "service",
        &format!("{RELEASE}-{component}"),
        "-n",
        NAMESPACE,
        "-o",
        "jsonpath={.spec.clusterIP}",
    ])?;
    format!("{}:{port}", ip.trim())
        .parse()
        .map_err(|e| format!("{component}'s cluster IP {ip:?}: {e}"))
}

/// What a server answered: the status, the headers (names lower-cased), the body.
pub struct Answer {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// One HTTP/1.1 request (Host: localhost, the connection closed after it), with Basic `auth`
/// (base64 of user:password) when given.
pub fn request(
    to: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> Result<Answer, String> {
    let fail = |e: std::io::Error| format!("{method} {path} to {to}: {e}");
    let mut stream = TcpStream::connect_timeout(&to, Duration::from_secs(5)).map_err(fail)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(fail)?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(token) = auth {
        head.push_str(&format!("Authorization: Basic {token}\r\n"));
    }
    stream
        .write_all(format!("{head}\r\n{body}").as_bytes())
        .map_err(fail)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(fail)?;
    let text = String::from_utf8_lossy(&answer).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("{method} {path}: no HTTP status in {head:?}"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Answer {
        status,
        headers,
        body: body.to_string(),
    })
}

/// The release's pods that match a label selector.
pub fn pods(ctx: &Ctx, selector: &str) -> Result<Vec<Value>, String> {
    let out = ctx
        .plane
        .kubectl(&["get", "pods", "-n", NAMESPACE, "-l", selector, "-o", "json"])?;
    let list: Value = serde_json::from_str(&out).map_err(|e| e.to_string())?;
    Ok(list["items"].as_array().cloned().unwrap_or_default())
}

/// The log of `container` in `pods` (a pod's name, or `-l=<selector>`), its last `tail` lines
/// (-1: all); an error's text in its place.
pub fn logs(ctx: &Ctx, pods: &str, container: &str, tail: i32) -> String {
    ctx.plane
        .kubectl(&[
            "logs",
            "-n",
            NAMESPACE,
            pods,
            "-c",
            container,
            &format!("--tail={tail}"),
        ])
        .unwrap_or_else(|e| e)
}

/// curl with `args` run inside a pod's geoserver container (its own GeoServer at 127.0.0.1:8080
/// is reached so, past any Service); curl's output.
pub fn curl_in_geoserver(ctx: &Ctx, pod: &str, args: &[&str]) -> Result<String, String> {
    let exec = [
        "exec",
        "-n",
        NAMESPACE,
        pod,
        "-c",
        "geoserver",
        "--",
        "curl",
    ];
    let argv: Vec<&str> = exec.iter().chain(args).copied().collect();
    ctx.plane.kubectl(&argv)
}
