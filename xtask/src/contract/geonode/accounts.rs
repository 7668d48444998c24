//! What could take or lock an account, with GeoNode's own views: a password-reset link in the
//! log while e-mail is off, and a limit on failed logins that counts nginx instead of the client.

use super::run::GeoNodeRun;
use crate::contract::inputs::Inputs;
use crate::project::RELEASE;
use serde_json::Value;

/// The render with e-mail off (the chart's default).
pub const NO_EMAIL_SETS: &[&str] = &["geonode.email.enabled=false"];

/// With e-mail off as the chart renders it, GeoNode's password reset for the administrator prints
/// nothing of the mail (GeoNode's own fallback, the console backend, prints the whole mail with
/// its reset link), and says that a mail was not sent.
pub fn no_reset_link_in_the_log(run: &GeoNodeRun, no_email: &Inputs) -> Result<(), String> {
    let env = no_email.env("Deployment", &format!("{RELEASE}-django"), "django")?;
    let mut off = run.clone();
    for name in ["EMAIL_ENABLE", "DJANGO_EMAIL_BACKEND"] {
        let value = env
            .get(name)
            .ok_or(format!("the render with e-mail off sets no {name}"))?;
        off = off.with_var(name, value);
    }
    let email = run.env.get("ADMIN_EMAIL").cloned().unwrap_or_default();
    let out = off.python(&format!(
        "import logging, sys\nfrom urllib.parse import urlparse\nfrom django.conf import settings\n\
         from django.test import Client\nlogging.basicConfig(stream=sys.stdout)\n\
         r = Client().post('/account/password/reset/', {{'email': {email:?}}}, HTTP_HOST=urlparse(settings.SITEURL).hostname)\n\
         print(settings.EMAIL_BACKEND, r.status_code)"
    ))?;
    if out.contains("password/reset/key") || out.contains(&email) && out.contains("Subject:") {
        return Err(format!(
            "with e-mail off, a password reset printed the mail: {out}"
        ));
    }
    if !out.contains("e-mail is off") || !out.contains(" 302") {
        return Err(format!(
            "with e-mail off, a password reset did not say that its mail was dropped: {out}"
        ));
    }
    Ok(())
}

/// allauth's limit on failed logins (GeoNode: 10 a minute per address) counts the client whose
/// address nginx puts into X-Forwarded-For, not nginx, whose address every request comes from:
/// one client that fails 12 times is stopped, another client behind the same nginx is not.
/// (Each uwsgi process counts alone while Django's cache is per process: one process here.)
pub fn login_limit_per_client(run: &GeoNodeRun) -> Result<String, String> {
    let out = run.python(
        "import json\nfrom urllib.parse import urlparse\nfrom django.conf import settings\n\
         from django.core.cache import cache\nfrom django.test import Client\n\
         host = urlparse(settings.SITEURL).hostname\ncache.clear()\n\
         def attempt(client, n):\n\
         \x20   c = Client(HTTP_HOST=host, REMOTE_ADDR='10.0.0.9', HTTP_X_FORWARDED_FOR=client)\n\
         \x20   r = c.post('/account/login/', {'login': f'nobody-{n}@contract.test', 'password': 'wrong'})\n\
         \x20   return 'limited' if r.status_code == 429 or b'Too many failed login attempts' in r.content else r.status_code\n\
         first = [attempt('203.0.113.10', n) for n in range(12)]\n\
         other = attempt('203.0.113.20', 100)\n\
         print(json.dumps({'first': first, 'other': other}))",
    )?;
    let seen: Value = serde_json::from_str(out.trim().lines().last().unwrap_or(""))
        .map_err(|e| format!("{e}: {out}"))?;
    let first: Vec<String> = seen["first"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.to_string().trim_matches('"').to_string())
                .collect()
        })
        .unwrap_or_default();
    let limited = first.iter().position(|s| s == "limited");
    match (limited, seen["other"].as_str()) {
        (Some(n), None) if (1..=11).contains(&n) => Ok(format!(
            "failed logins from one client through nginx: limited from attempt {}; another client then: {}",
            n + 1,
            seen["other"]
        )),
        _ => Err(format!(
            "failed logins through nginx (one REMOTE_ADDR): client 203.0.113.10 got {first:?}, then 203.0.113.20 got {}: the limit must stop the first and not the second",
            seen["other"]
        )),
    }
}
