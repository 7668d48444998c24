//! geonode.oidc: a login through an OpenID Connect provider, with the chart's rendered settings
//! and GeoNode's own provider code (allauth's OAuth2 flow and GeoNode's geonode_openid_connect).
//!
//! The provider is the contract's (oidc_provider.py: Keycloak's endpoint paths, Python's standard
//! library); Django answers in-process through django.test.Client, with the Django container's
//! environment. The client secret is in an operator's Secret, added to the render as an operator
//! creates it (`operator_secret`).

use super::run::GeoNodeRun;
use crate::contract::inputs::Inputs;
use crate::manifest::Object;
use crate::process::{free_port, wait_for_port, Running};
use crate::report::Step;
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The operator's Secret that tests/contract/values.yaml names (geonode.oidc.clientSecret), and
/// the chart's default key.
const SECRET_NAME: &str = "contract-oidc-client";
const SECRET_KEY: &str = "client-secret";
const PROVIDER_PY: &str = include_str!("oidc_provider.py");
/// The variables that hold the provider's URLs (the contract's placeholder port in them).
const URL_VARS: &[&str] = &[
    "GEONODE_K8S_OIDC_ISSUER",
    "GEONODE_K8S_OIDC_AUTHORIZE_URL",
    "GEONODE_K8S_OIDC_TOKEN_URL",
    "GEONODE_K8S_OIDC_USERINFO_URL",
];

/// The provider's users, by login_hint: the first logs in, the second meets a wrong client secret.
fn users() -> Value {
    json!({
        "amelie": {"sub": "9d4c2f1e-contract-amelie", "preferred_username": "amelie.sso", "email": "amelie@contract.test", "given_name": "Amelie", "family_name": "Contract"},
        "boris": {"sub": "5a7b3e90-contract-boris", "preferred_username": "boris.sso", "email": "boris@contract.test", "given_name": "Boris", "family_name": "Contract"},
    })
}

/// The client's secret as an operator keeps it: a Secret of their own (a random secret per run),
/// which the chart references and never renders.
pub fn operator_secret() -> Result<Object, String> {
    let secret = crate::contract::inputs::random_hex(24)?;
    Ok(crate::contract::inputs::operator_secret(
        SECRET_NAME,
        &[(SECRET_KEY, &secret)],
    ))
}

/// A variable of `run`'s environment, empty when it is missing (the checks then say what is wrong).
fn var<'a>(run: &'a GeoNodeRun, name: &str) -> &'a str {
    run.env.get(name).map(String::as_str).unwrap_or_default()
}

/// The "oidc-login" step.
pub fn run(run: &GeoNodeRun, inputs: &Inputs, work: &Path, step: &mut Step) {
    match login_works(run, inputs, work) {
        Ok(outcome) => {
            step.passed += 1;
            step.notes = outcome.notes;
            step.record(outcome.approval);
        }
        Err(e) => step.fail(e),
    }
    step.detail = "a login through an OpenID Connect provider on Keycloak's paths under the issuer (the chart's endpoints, PKCE S256, the client secret of the operator's Secret) makes a GeoNode user that waits for approval (geonode.accounts.approvalRequired) and, approved, logs in; with a wrong secret the token request is refused and nobody logs in".into();
}

/// A login that works, what an operator should know of it, and whether
/// geonode.accounts.approvalRequired held for the account it made.
struct Outcome {
    notes: Vec<String>,
    approval: Result<(), String>,
}

/// The contract's provider, running on 127.0.0.1; its log has one JSON line per request.
struct Provider {
    _process: Running,
    log: PathBuf,
    output: PathBuf,
}

impl Provider {
    fn start(work: &Path, port: u16, at: &GeoNodeRun, secret: &str) -> Result<Provider, String> {
        let dir = work.join("oidc-provider");
        fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let (script, log, output) = (
            dir.join("oidc_provider.py"),
            dir.join("requests.jsonl"),
            dir.join("output.log"),
        );
        fs::write(&script, PROVIDER_PY).map_err(|e| format!("writing the provider: {e}"))?;
        let out = fs::File::create(&output).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let process = Running::spawn(
            Command::new("python3")
                .arg(&script)
                .arg(port.to_string())
                .arg(var(at, "GEONODE_K8S_OIDC_ISSUER"))
                .arg(var(at, "GEONODE_K8S_OIDC_CLIENT_ID"))
                .arg(&log)
                .arg(users().to_string())
                .env("CONTRACT_OIDC_CLIENT_SECRET", secret)
                .stdout(out)
                .stderr(err),
        )
        .map_err(|e| format!("starting the OIDC provider: {e}"))?;
        let provider = Provider {
            _process: process,
            log,
            output,
        };
        wait_for_port(port).map_err(|e| {
            format!(
                "the OIDC provider does not listen on {port}: {e}; its output:\n{}",
                provider.output()
            )
        })?;
        Ok(provider)
    }

    /// The requests it answered so far.
    fn requests(&self) -> Vec<Value> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    fn output(&self) -> String {
        fs::read_to_string(&self.output).unwrap_or_default()
    }
}

/// The Django container's environment with the provider's URLs on this run's port instead of the
/// contract values' placeholder one.
fn at_provider(run: &GeoNodeRun, port: u16) -> Result<GeoNodeRun, String> {
    let var = |name: &str| {
        run.env.get(name).cloned().ok_or_else(|| {
            format!("the django container's environment has no {name}, with geonode.oidc enabled")
        })
    };
    let issuer = var("GEONODE_K8S_OIDC_ISSUER")?;
    let placeholder = issuer
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .filter(|authority| authority.starts_with("127.0.0.1:"))
        .ok_or_else(|| format!("the contract's issuer {issuer:?} is not on 127.0.0.1:<port>"))?
        .to_string();
    let mut at = run.clone();
    for name in URL_VARS {
        let value = var(name)?;
        if !value.contains(&placeholder) {
            return Err(format!(
                "{name} is {value:?}, not at the issuer's {placeholder}: the chart's endpoints must default to Keycloak's under the issuer"
            ));
        }
        at = at.with_var(
            name,
            &value.replace(&placeholder, &format!("127.0.0.1:{port}")),
        );
    }
    Ok(at)
}

/// GeoNode's side, in one Django program: its login page, then each login of `P["logins"]` (by
/// login_hint) with a new browser (django.test.Client): GeoNode's login URL, the provider's
/// authorization endpoint (its redirect not followed), GeoNode's callback. After each, the
/// account GeoNode made for the provider's subject; an inactive one is approved when P["approve"],
/// as an administrator would. Prints one line, OIDC-RESULT <json>.
const LOGIN_PY: &str = r#"
import html, json, os, re, urllib.error, urllib.request
from urllib.parse import parse_qs, urlencode, urlparse
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from allauth.socialaccount.models import SocialAccount

P = json.loads(os.environ["CONTRACT_OIDC_LOGIN"])
site = urlparse(settings.SITEURL)
browser = {"HTTP_HOST": site.netloc, "secure": site.scheme == "https"}

class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

def authorize(url, hint):
    try:
        r = urllib.request.build_opener(Stay).open(url + "&" + urlencode({"login_hint": hint}), timeout=30)
        return {"status": r.status, "body": r.read().decode()[:300]}
    except urllib.error.HTTPError as e:
        return {"status": e.code, "location": e.headers.get("Location", ""), "body": e.read().decode()[:300]}

def text(response):
    return response.content.decode(errors="replace")

def login(hint):
    client = Client()
    r = client.get("/account/geonode_openid_connect/login/?process=login", **browser)
    out = {"login_status": r.status_code, "login_location": r.get("Location", "")}
    if r.status_code != 302:
        out["login_page"] = text(r)[:400]
        return out
    url = urlparse(out["login_location"])
    out["authorize_endpoint"] = f"{url.scheme}://{url.netloc}{url.path}"
    out["authorize_params"] = {k: v[0] for k, v in parse_qs(url.query).items()}
    out["provider"] = authorize(out["login_location"], hint)
    back = urlparse(out["provider"].get("location", ""))
    if out["provider"]["status"] != 302 or not back.path:
        return out
    r = client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()}, **browser)
    out["callback_status"] = r.status_code
    out["callback_location"] = r.get("Location", "")
    if r.status_code != 302:
        page = text(r)
        error = re.search(r"Exception:</strong>(.*?)</li>", page, re.S)
        out["callback_failure_page"] = "Login Failure" in page
        out["callback_error"] = html.unescape(error.group(1)).strip() if error else page[:300]
    out["session_user"] = client.session.get("_auth_user_id")
    return out

def account(claims):
    sa = SocialAccount.objects.filter(provider="geonode_openid_connect", uid=claims["sub"]).select_related("user").first()
    users = get_user_model().objects.filter(email=claims["email"]).count()
    if sa is None:
        return {"social_account": False, "users_with_email": users}
    u = sa.user
    return {"social_account": True, "users_with_email": users, "id": str(u.pk), "username": u.username, "email": u.email,
            "first_name": u.first_name, "last_name": u.last_name, "is_active": u.is_active,
            "groups": sorted(g.name for g in u.groups.all())}

page = text(Client().get("/account/login/", **browser))
result = {"approval_required": settings.ACCOUNT_APPROVAL_REQUIRED, "adapter": settings.SOCIALACCOUNT_ADAPTER, "login_page_offers": settings.SOCIALACCOUNT_PROVIDERS["geonode_openid_connect"]["NAME"] in page and "/account/geonode_openid_connect/login/" in page, "logins": []}
for hint in P["logins"]:
    attempt = login(hint)
    attempt["account"] = account(P["users"][hint])
    if P["approve"] and attempt["account"].get("is_active") is False:
        u = get_user_model().objects.get(pk=attempt["account"]["id"])
        u.is_active = True
        u.save()
        attempt["approved"] = True
    result["logins"].append(attempt)
print("OIDC-RESULT " + json.dumps(result))
"#;

/// Runs LOGIN_PY with `run`'s environment: the logins of `hints`, approving when `approve`.
fn logins(run: &GeoNodeRun, hints: &[&str], approve: bool) -> Result<Value, String> {
    let params = json!({"logins": hints, "users": users(), "approve": approve});
    let out = run
        .with_var("CONTRACT_OIDC_LOGIN", &params.to_string())
        .python(LOGIN_PY)
        .map_err(|e| format!("GeoNode's login program failed: {e}"))?;
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("OIDC-RESULT "))
        .ok_or_else(|| format!("GeoNode's login program printed no result: {out}"))?;
    serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))
}

/// The provider on a free port; GeoNode's logins through it, with the client secret of the
/// operator's Secret and then with a wrong one; what the provider saw.
fn login_works(run: &GeoNodeRun, inputs: &Inputs, work: &Path) -> Result<Outcome, String> {
    // The chart hands Django the operator's secret (its secretKeyRef, resolved from the Secret).
    let secret = inputs.secret(SECRET_NAME, SECRET_KEY)?;
    if run.env.get("GEONODE_K8S_OIDC_CLIENT_SECRET") != Some(&secret) {
        return Err(format!("the django container's GEONODE_K8S_OIDC_CLIENT_SECRET is not the one of the operator's Secret {SECRET_NAME} (key {SECRET_KEY})"));
    }
    let port = free_port()?;
    let at = at_provider(run, port)?;
    let provider = Provider::start(work, port, &at, &secret)?;
    let accepted = logins(&at, &["amelie", "amelie"], true)?;
    let seen = provider.requests();
    let notes = check_accepted(&at, &accepted, &seen)
        .map_err(|e| with_provider(e, &accepted, &provider))?;
    let approval = approval_holds(&at, &accepted);
    let wrong = at.with_var("GEONODE_K8S_OIDC_CLIENT_SECRET", "wrong");
    let refused = logins(&wrong, &["boris"], false)?;
    let after: Vec<Value> = provider.requests().split_off(seen.len());
    check_refused(&refused, &after).map_err(|e| with_provider(e, &refused, &provider))?;
    Ok(Outcome { notes, approval })
}

fn with_provider(error: String, result: &Value, provider: &Provider) -> String {
    format!(
        "{error}\nGeoNode's side: {result}\nthe provider's requests:\n{}\nits output: {}",
        provider
            .requests()
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        provider.output().trim()
    )
}

/// GeoNode sends the browser to the chart's authorize endpoint with the client's ID, its
/// callback under SITEURL, a state and (geonode.oidc.pkce) an S256 challenge.
fn check_authorize(at: &GeoNodeRun, attempt: &Value) -> Result<(), String> {
    let endpoint = format!(
        "{}/protocol/openid-connect/auth",
        var(at, "GEONODE_K8S_OIDC_ISSUER").trim_end_matches('/')
    );
    if attempt["login_status"] != 302 || attempt["authorize_endpoint"] != endpoint.as_str() {
        return Err(format!("GET /account/geonode_openid_connect/login/ did not redirect to Keycloak's authorization endpoint under the issuer, {endpoint}"));
    }
    let params = &attempt["authorize_params"];
    let callback = format!(
        "{}account/geonode_openid_connect/login/callback/",
        var(at, "SITEURL")
    );
    let scope = params["scope"].as_str().unwrap_or_default();
    if params["client_id"] != var(at, "GEONODE_K8S_OIDC_CLIENT_ID")
        || params["redirect_uri"] != callback.as_str()
        || params["response_type"] != "code"
        || params["state"].as_str().unwrap_or_default().is_empty()
        || !scope.split(' ').any(|s| s == "openid")
    {
        return Err(format!("the authorization request lacks the client's ID, redirect_uri {callback}, response_type code, a state or scope openid: {params}"));
    }
    // geonode.oidc.pkce, true by default: the contract proves the default.
    if params["code_challenge_method"] != "S256" || params["code_challenge"] == "" {
        return Err(format!(
            "the authorization request has no S256 code challenge (GEONODE_K8S_OIDC_PKCE is {:?}): {params}",
            var(at, "GEONODE_K8S_OIDC_PKCE")
        ));
    }
    Ok(())
}

/// Every login made one token request with the client's ID, the Secret's client secret and a
/// verifier of its S256 challenge, and the provider answered it; GeoNode then asked userinfo.
fn check_tokens(seen: &[Value], logins: usize) -> Result<(), String> {
    let at_path = |end: &str| {
        seen.iter()
            .filter(|r| r["path"].as_str().unwrap_or_default().ends_with(end))
            .collect::<Vec<_>>()
    };
    let tokens = at_path("/token");
    let good = |r: &Value| {
        r["status"] == 200
            && r["secret_ok"] == true
            && r["client_id_ok"] == true
            && r["pkce"] == "verified S256"
    };
    if tokens.len() != logins || !tokens.iter().all(|r| good(r)) {
        return Err(format!(
            "the provider did not get {logins} good token requests (status 200 with the client's ID, the client secret of the operator's Secret and a verifier of the S256 challenge); it got: {}",
            tokens.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
        ));
    }
    if !at_path("/userinfo").iter().any(|r| r["bearer_ok"] == true) {
        return Err("GeoNode did not ask the userinfo endpoint with the access token".into());
    }
    Ok(())
}

/// With the right secret: the first login makes the account (inactive until approved when
/// ACCOUNT_APPROVAL_REQUIRED, see approval_holds); a login of the active account opens a session
/// for it.
fn check_accepted(at: &GeoNodeRun, result: &Value, seen: &[Value]) -> Result<Vec<String>, String> {
    let logins = result["logins"].as_array().cloned().unwrap_or_default();
    let (Some(first), Some(last)) = (logins.first(), logins.last()) else {
        return Err("GeoNode's login program made no login".into());
    };
    check_authorize(at, first)?;
    check_tokens(seen, logins.len())?;
    let claims = &users()["amelie"];
    let account = &first["account"];
    if account["social_account"] != true || account["email"] != claims["email"] {
        return Err(format!(
            "the first login made no GeoNode user with a social account of provider geonode_openid_connect, uid {} and e-mail {} (the callback answered {} {} {})",
            claims["sub"], claims["email"], first["callback_status"], first["callback_location"], first["callback_error"]
        ));
    }
    if last["callback_status"] != 302
        || last["session_user"] != account["id"]
        || last["account"]["is_active"] != true
    {
        return Err(format!(
            "a login of the account (approved first when it was inactive) did not open a session for it: the callback answered {} {} {}",
            last["callback_status"], last["callback_location"], last["callback_error"]
        ));
    }
    if result["login_page_offers"] != true {
        return Err(format!(
            "GeoNode's login page (/account/login/) does not offer a login with {:?}",
            var(at, "GEONODE_K8S_OIDC_NAME")
        ));
    }
    let via = seen
        .iter()
        .find_map(|r| r["secret_via"].as_str())
        .unwrap_or("?");
    Ok(vec![format!(
        "the provider's user {} (preferred_username {}) became GeoNode user {}, {} after its first login, in groups {}; the client secret went to the token endpoint as a {via} field",
        claims["email"],
        claims["preferred_username"],
        account["username"],
        if account["is_active"] == true { "active" } else { "inactive" },
        account["groups"],
    )])
}

/// geonode.accounts.approvalRequired ("new accounts wait for an administrator's approval") holds
/// for an account made by a first login: inactive, sent to GeoNode's moderation page, no session.
fn approval_holds(at: &GeoNodeRun, result: &Value) -> Result<(), String> {
    let first = &result["logins"][0];
    let waits = first["account"]["is_active"] == false
        && first["session_user"].is_null()
        && first["callback_location"]
            .as_str()
            .is_some_and(|l| l.contains("/account/moderation_sent/"));
    if var(at, "ACCOUNT_APPROVAL_REQUIRED") != "True" || waits {
        return Ok(());
    }
    Err(format!(
        "geonode.accounts.approvalRequired does not hold for accounts made by an OpenID Connect login: with ACCOUNT_APPROVAL_REQUIRED={} in Django, the first login made GeoNode user {} active ({}) and logged it in (callback to {}). GeoNode 5.1.1's SOCIALACCOUNT_ADAPTER, {}, saves new users with super(SocialAccountAdapter, self).save_user (geonode/people/adapters.py:389-390), skipping SocialAccountAdapter.save_user, which deactivates them (adapters.py:233-244). The chart must make such accounts wait, or say at geonode.accounts.approvalRequired and geonode.oidc.autoSignup that every user of the provider gets an active account",
        result["approval_required"],
        first["account"]["username"],
        first["account"]["is_active"],
        first["callback_location"],
        result["adapter"],
    ))
}

/// With a wrong secret: the provider refuses the token request, GeoNode shows its login failure
/// page, and makes no account and no session.
fn check_refused(result: &Value, after: &[Value]) -> Result<(), String> {
    let attempt = &result["logins"][0];
    let token = after
        .iter()
        .find(|r| r["path"].as_str().unwrap_or_default().ends_with("/token"));
    let Some(token) = token else {
        return Err("with a wrong client secret, GeoNode made no token request".into());
    };
    if token["status"] != 401 || token["secret_ok"] != false {
        return Err(format!(
            "the provider did not refuse the token request with a wrong client secret: {token}"
        ));
    }
    let error = attempt["callback_error"].as_str().unwrap_or_default();
    if attempt["callback_status"] == 302
        || attempt["callback_failure_page"] != true
        || !error.contains("access token")
    {
        return Err(format!("with the token refused, GeoNode's callback answered {} {}, not its login failure page naming the access token: {error:?}", attempt["callback_status"], attempt["callback_location"]));
    }
    if !attempt["session_user"].is_null()
        || attempt["account"]["social_account"] != false
        || attempt["account"]["users_with_email"] != 0
    {
        return Err(
            "with the token refused, GeoNode still made an account or opened a session".into(),
        );
    }
    Ok(())
}
