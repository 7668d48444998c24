"""Datasets made public, then private, through GeoNode's API (geofence_rules.rs): GeoNode applies
each change in the Celery worker, which writes the dataset's GeoFence rules to the GeoFence stand-in.
All datasets change at once, so the worker's processes share the changes; after each change the
rules GeoFence holds for each dataset are read back.

Arguments: a JSON object with base, host, admin ([name, password]), datasets ([{pk, name}]),
geofence (the stand-in's base URL), cycles. Prints a JSON list, one entry per cycle and dataset:
{pk, public (its anonymous rules when public), private (its anonymous rules when private)}.
"""

import base64
import concurrent.futures
import json
import sys
import time
import urllib.request

args = json.loads(sys.argv[1])


def call(method, url, body=None, host=None):
    request = urllib.request.Request(url, method=method, data=body)
    token = base64.b64encode("{}:{}".format(*args["admin"]).encode()).decode()
    request.add_header("Authorization", "Basic " + token)
    if host:
        request.add_header("Host", host)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def change(pk, users):
    body = json.dumps({"users": users, "groups": [], "organizations": []}).encode()
    url = "{}/api/v2/resources/{}/permissions".format(args["base"], pk)
    started = call("PUT", url, body, args["host"])
    status, deadline = started, time.time() + 180
    while status.get("status") not in ("finished", "failed") and time.time() < deadline:
        time.sleep(1)
        status_url = "{}/api/v2/resource-service/execution-status/{}".format(args["base"], started["execution_id"])
        status = call("GET", status_url, host=args["host"])
    if status.get("status") != "finished":
        raise SystemExit("the permission change of {} ended {}".format(pk, status))


def anonymous_rules(name):
    url = "{}/rest/geofence/rules.json?workspace=geonode&layer={}".format(args["geofence"], name)
    return [r for r in call("GET", url)["rules"] if "userName" not in r and "roleName" not in r]


def each(action):
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(args["datasets"])) as pool:
        return list(pool.map(action, args["datasets"]))


seen = []
for _ in range(args["cycles"]):
    each(lambda d: change(d["pk"], [{"id": -1, "permissions": "view"}]))
    public = each(lambda d: anonymous_rules(d["name"]))
    each(lambda d: change(d["pk"], []))
    private = each(lambda d: anonymous_rules(d["name"]))
    seen += [{"pk": d["pk"], "public": p, "private": q} for d, p, q in zip(args["datasets"], public, private)]
print(json.dumps(seen))
