"""The contract's OpenID Connect provider: Keycloak's endpoint paths for one realm, one client.

Python's standard library only. Arguments: the port, the issuer (http://127.0.0.1:<port>/realms/
<realm>), the client's ID, the log file and the users as JSON ({login_hint: claims}); the client's
secret in the environment (CONTRACT_OIDC_CLIENT_SECRET). The authorization request picks its user
with login_hint (the first user without one). Each request appends one JSON line to the log.
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlparse

PORT, ISSUER, CLIENT_ID, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
USERS = json.loads(sys.argv[5])
CLIENT_SECRET = os.environ["CONTRACT_OIDC_CLIENT_SECRET"]
BASE = urlparse(ISSUER).path.rstrip("/") + "/protocol/openid-connect"
SIGNING_KEY = secrets.token_bytes(32)  # HS256; GeoNode does not check ID tokens' signatures
CODES = {}  # code -> the authorization request it answers
TOKENS = {}  # access token -> user


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def id_token(claims):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(SIGNING_KEY, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def record(self, status, **facts):
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps({"method": self.command, "path": urlparse(self.path).path, "status": status, **facts}) + "\n")

    def answer(self, status, body=None, headers=(), **facts):
        self.record(status, **facts)
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == f"{BASE}/auth":
            self.authorize(query)
        elif url.path == f"{BASE}/userinfo":
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            user = TOKENS.get(token)
            if user is None:
                return self.answer(401, {"error": "invalid_token"}, bearer_ok=False)
            claims = {k: user[k] for k in ("sub", "email", "preferred_username", "given_name", "family_name")}
            self.answer(200, {**claims, "email_verified": True}, bearer_ok=True, sub=user["sub"])
        else:
            self.answer(404, {"error": "not_found"})

    def authorize(self, query):
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code" or not query.get("redirect_uri"):
            return self.answer(400, {"error": "invalid_request", "got": query}, client_id_ok=query.get("client_id") == CLIENT_ID)
        hint = query.get("login_hint") or next(iter(USERS))
        if hint not in USERS:
            return self.answer(400, {"error": "unknown login_hint", "got": hint})
        code = secrets.token_urlsafe(24)
        CODES[code] = {**query, "user": USERS[hint]}
        back = {"code": code, **({"state": query["state"]} if "state" in query else {})}
        separator = "&" if "?" in query["redirect_uri"] else "?"
        location = query["redirect_uri"] + separator + urlencode(back)
        self.answer(302, headers=[("Location", location)], client_id_ok=True, pkce=query.get("code_challenge_method"), user=hint)

    def do_POST(self):
        if urlparse(self.path).path != f"{BASE}/token":
            return self.answer(404, {"error": "not_found"})
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        client_id, secret, via = form.get("client_id"), form.get("client_secret"), "form" if "client_secret" in form else None
        basic = self.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            client_id, secret, via = unquote(client_id), unquote(secret), "basic"
        request = CODES.get(form.get("code", ""))
        facts = {
            "grant_type": form.get("grant_type"),
            "code_ok": request is not None,
            "client_id_ok": client_id == CLIENT_ID,
            "secret_ok": secret is not None and hmac.compare_digest(secret, CLIENT_SECRET),
            "secret_via": via,
            "redirect_uri_ok": request is not None and form.get("redirect_uri") == request.get("redirect_uri"),
            "pkce": "none",
        }
        if request is not None and "code_challenge" in request:
            verifier = form.get("code_verifier", "")
            expected = request["code_challenge"]
            method = request.get("code_challenge_method", "plain")
            derived = b64url(hashlib.sha256(verifier.encode()).digest()) if method == "S256" else verifier
            facts["pkce"] = ("verified " + method) if verifier and hmac.compare_digest(derived, expected) else "failed"
        if not (facts["client_id_ok"] and facts["secret_ok"]):
            return self.answer(401, {"error": "invalid_client"}, **facts)
        if form.get("grant_type") != "authorization_code" or not facts["code_ok"] or not facts["redirect_uri_ok"] or facts["pkce"] == "failed":
            return self.answer(400, {"error": "invalid_grant"}, **facts)
        del CODES[form["code"]]  # a code is good for one token
        user = request["user"]
        access = secrets.token_urlsafe(32)
        TOKENS[access] = user
        now = int(time.time())
        claims = {**user, "iss": ISSUER, "aud": CLIENT_ID, "azp": CLIENT_ID, "iat": now, "exp": now + 300}
        if "nonce" in request:
            claims["nonce"] = request["nonce"]
        body = {"access_token": access, "token_type": "Bearer", "expires_in": 300, "scope": request.get("scope", ""), "id_token": id_token(claims)}
        self.answer(200, body, headers=[("Cache-Control", "no-store")], sub=user["sub"], **facts)


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
