"""The contract's permission change across GeoNode's processes (one_site.rs).

Two Django "pods" (uwsgi instances A and B, each with the chart's process count) and the Celery
worker on one database, one broker and the release's cache. A user reads a document on B until
every uwsgi process of B has answered (B's log names the process of each request); the owner
gives the user "edit" through A's API, which GeoNode carries out in the Celery worker; then the
user reads on B again until every process has answered, and each answer's `perms` is recorded.

Arguments: a JSON object with base_a, base_b, host, log_b, pk, user, owner ([name, password]),
user_id, processes. Prints a JSON object: before/after (the perms of each answer), pids_before,
pids_after, execution (the status GeoNode gave the change).
"""

import base64
import concurrent.futures
import json
import re
import sys
import time
import urllib.request

args = json.loads(sys.argv[1])
path = "/api/v2/resources/{}".format(args["pk"])


def call(base, method, url_path, who, body=None):
    request = urllib.request.Request(base + url_path, method=method, data=body)
    token = base64.b64encode("{}:{}".format(*who).encode()).decode()
    request.add_header("Authorization", "Basic " + token)
    request.add_header("Host", args["host"])
    if body is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def served_pids(since):
    """The uwsgi processes of B that answered the document's path after byte `since` of B's log."""
    with open(args["log_b"], "rb") as log:
        log.seek(since)
        text = log.read().decode("utf-8", "replace")
    return set(re.findall(r'pid (\d+) "GET ' + re.escape(path) + " ", text))


def log_size():
    with open(args["log_b"], "rb") as log:
        return len(log.read())


def read_on_b_from_every_process():
    """Bursts of concurrent reads on B until each of its processes has answered one."""
    since = log_size()
    perms = []
    burst = 2 * args["processes"]
    with concurrent.futures.ThreadPoolExecutor(max_workers=burst) as pool:
        for _ in range(20):
            answers = pool.map(lambda _: call(args["base_b"], "GET", path, args["user"]), range(burst))
            perms += [sorted(a["resource"]["perms"]) for a in answers]
            time.sleep(0.5)  # uwsgi writes the lines of the burst
            if len(served_pids(since)) >= args["processes"]:
                break
    return perms, sorted(served_pids(since))


before, pids_before = read_on_b_from_every_process()
change = json.dumps({"users": [{"id": args["user_id"], "permissions": "edit"}], "groups": [], "organizations": []})
started = call(args["base_a"], "PUT", path + "/permissions", args["owner"], change.encode())
status = started
deadline = time.time() + 180
while status.get("status") not in ("finished", "failed") and time.time() < deadline:
    time.sleep(1)
    status = call(
        args["base_a"], "GET", "/api/v2/resource-service/execution-status/" + started["execution_id"], args["owner"]
    )
after, pids_after = read_on_b_from_every_process()
print(
    json.dumps(
        {
            "before": before,
            "after": after,
            "pids_before": pids_before,
            "pids_after": pids_after,
            "execution": status.get("status"),
        }
    )
)
