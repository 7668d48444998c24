"""Creates the release's generated credentials, once, in the cluster.

Runs in the credentials Job under its own ServiceAccount. For every Secret in the plan
(plan.json beside this file: [{"secret": name, "keys": {key: "random" | "long" | "rsa"}}]):
- a Secret that does not exist is created with every key generated;
- a key missing from an existing Secret is added (a newer chart may use a new credential);
- a value already stored is never changed, so a re-run, an upgrade or a GitOps re-apply keeps it.
Concurrent runs are safe: creation and every change carry the version they were based on, and a
conflict re-reads and tries again. Only names are printed, never a value.
"""

import base64
import json
import os
import secrets
import ssl
import string
import sys
import time
import urllib.error
import urllib.request

SERVICE_ACCOUNT_DIR = os.environ.get(
    "SERVICE_ACCOUNT_DIR", "/var/run/secrets/kubernetes.io/serviceaccount"
)
PLAN_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plan.json")
ALPHABET = string.ascii_letters + string.digits
ATTEMPTS = 5


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class Api:
    """The few calls this needs, with the pod's service-account token."""

    def __init__(self):
        host = os.environ["KUBERNETES_SERVICE_HOST"]
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        if ":" in host:
            host = f"[{host}]"
        self.base = f"https://{host}:{port}"
        self.namespace = read(os.path.join(SERVICE_ACCOUNT_DIR, "namespace")).strip()
        self.context = ssl.create_default_context(cafile=os.path.join(SERVICE_ACCOUNT_DIR, "ca.crt"))

    def call(self, method, name=None, body=None, content_type="application/json"):
        path = f"/api/v1/namespaces/{self.namespace}/secrets"
        if name:
            path += f"/{name}"
        # Read at every call: the kubelet rotates the token file.
        token = read(os.path.join(SERVICE_ACCOUNT_DIR, "token")).strip()
        request = urllib.request.Request(self.base + path, method=method)
        request.add_header("Authorization", f"Bearer {token}")
        request.add_header("Accept", "application/json")
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, data=data, context=self.context, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            try:
                message = json.load(error).get("message", "")
            except ValueError:
                message = error.reason
            raise ApiError(error.code, message) from None


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def generate(kind):
    if kind in ("random", "long"):
        # "long": Django's SECRET_KEY, which `check --deploy` wants at least 50 characters long.
        return "".join(secrets.choice(ALPHABET) for _ in range(64 if kind == "long" else 32))
    if kind == "rsa":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
    raise ValueError(f"unknown kind of credential {kind!r} in {PLAN_FILE}")


def encoded(kinds):
    return {key: base64.b64encode(generate(kind).encode()).decode() for key, kind in kinds.items()}


def metadata(name):
    release = os.environ.get("RELEASE_NAME", "")
    return {
        "name": name,
        # Not the release's instance label: GitOps tools that track objects by it would prune
        # a Secret they did not render.
        "labels": {
            "app.kubernetes.io/name": os.environ.get("APP_NAME", "geonode"),
            "app.kubernetes.io/component": "credentials",
            "app.kubernetes.io/part-of": "geonode",
            "geonode-k8s/release": release,
        },
        "annotations": {
            "geonode-k8s/note": (
                f"Generated once by the credentials Job of release {release}; the chart never "
                "renders it and nothing deletes it. The data volumes open only with these "
                "values: delete it only together with them."
            ),
        },
    }


class NotOurs(Exception):
    """A Secret of the planned name that this release's credentials Job did not make."""


def ours(secret):
    """Made by this release: by its credentials Job (its labels), or rendered by Helm for it by a
    chart before the Job made them (chart 0.1.0's own Secrets, which upgrades keep)."""
    release = os.environ.get("RELEASE_NAME", "")
    labels = secret.get("metadata", {}).get("labels") or {}
    annotations = secret.get("metadata", {}).get("annotations") or {}
    made_by_job = labels.get("geonode-k8s/release") == release and labels.get("app.kubernetes.io/component") == "credentials"
    rendered = annotations.get("meta.helm.sh/release-name") == release and labels.get("app.kubernetes.io/name") == os.environ.get("APP_NAME", "geonode")
    return made_by_job or rendered


def ensure(api, name, kinds):
    """Creates or completes one Secret; returns what it did. A Secret of that name that this
    release did not make (planted before the install, say) is never taken: NotOurs."""
    for _ in range(ATTEMPTS):
        try:
            current = api.call("GET", name)
        except ApiError as error:
            if error.status != 404:
                raise
            try:
                api.call("POST", body={"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                                       "metadata": metadata(name), "data": encoded(kinds)})
                return f"created with {', '.join(sorted(kinds))}"
            except ApiError as error:
                if error.status != 409:  # created meanwhile by another run: read it again
                    raise
                continue
        if not ours(current):
            raise NotOurs(name)
        stored = current.get("data") or {}
        missing = {key: kind for key, kind in kinds.items() if not stored.get(key)}
        if not missing:
            return "kept"
        patch = {"metadata": {"resourceVersion": current["metadata"]["resourceVersion"]},
                 "data": encoded(missing)}
        try:
            api.call("PATCH", name, patch, "application/merge-patch+json")
            return f"kept, added {', '.join(sorted(missing))}"
        except ApiError as error:
            if error.status != 409:  # changed meanwhile: read it again
                raise
        time.sleep(1)
    raise RuntimeError(f"Secret {name}: still conflicting after {ATTEMPTS} attempts")


def main():
    plan = json.loads(read(PLAN_FILE))
    api = Api()
    for entry in plan:
        name = entry["secret"]
        try:
            outcome = ensure(api, name, entry["keys"])
        except NotOurs:
            release = os.environ.get("RELEASE_NAME", "")
            sys.exit(
                f"credentials: Secret {api.namespace}/{name} exists, but this release's credentials Job did not make it "
                "(its labels say so): its values would be trusted as this site's credentials. If it holds them on "
                f"purpose, label it (kubectl -n {api.namespace} label secret {name} geonode-k8s/release={release} "
                "app.kubernetes.io/component=credentials); else delete it, or name a Secret of yours in the "
                "auth.existingSecret value it stands for"
            )
        except ApiError as error:
            hint = ""
            if error.status == 403:
                hint = (" (the Job's ServiceAccount lacks a right its Role should grant: "
                        "get, create or patch on Secrets in this namespace)")
            sys.exit(f"credentials: Secret {api.namespace}/{name}: {error}{hint}")
        print(f"credentials: Secret {api.namespace}/{name}: {outcome}", flush=True)


if __name__ == "__main__":
    main()
