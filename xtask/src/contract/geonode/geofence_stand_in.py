"""A model of GeoServer's GeoFence REST API, as GeoNode 5.1.1 calls it (geonode/geoserver/geofence.py):
not GeoServer. It keeps rules in memory, answers rules/count.json and rules.json (page, entries,
workspace, layer filters), applies batch/exec (insert and delete) and ruleCache/invalidate, and
writes each batch GeoNode sends to a JSON-lines file, with the process that sent it (the owner of
the connection's other end, found in /proc: the contract runs everything on one machine). Every
other path is answered 404 (GeoNode's GeoWebCache calls then skip their work, as they do for a
layer without a tile cache).

Arguments: port, batches file.
"""

import http.server
import json
import os
import sys
import threading
import time
import urllib.parse

port, batches = int(sys.argv[1]), sys.argv[2]
rules, lock, next_id = [], threading.Lock(), [1]


def sender(client_port):
    """The process (and its group) whose TCP socket has local port `client_port` on 127.0.0.1."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == client_port:
                    inodes.add(fields[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(pid), os.getpgid(int(pid))
        except OSError:
            continue
    return None, None


class GeoFence(http.server.BaseHTTPRequestHandler):
    def answer(self, code, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        with lock:
            if url.path.endswith("/rest/geofence/rules/count.json"):
                return self.answer(200, {"count": len(rules)})
            if url.path.endswith("/rest/geofence/rules.json"):
                found = sorted(rules, key=lambda r: r["priority"])
                for field in ("workspace", "layer"):
                    if field in query:
                        found = [r for r in found if r.get(field) == query[field]]
                if "page" in query and "entries" in query:
                    start = int(query["page"]) * int(query["entries"])
                    found = found[start : start + int(query["entries"])]
                return self.answer(200, {"count": len(found), "rules": found})
        self.answer(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not self.path.endswith("/rest/geofence/batch/exec"):
            return self.answer(404)
        operations = json.loads(body)["Batch"]["operations"]
        pid, group = sender(self.client_address[1])
        with lock:
            for op in operations:
                if op["@type"] == "insert":
                    rules.append(dict(op["Rule"], id=next_id[0]))
                    next_id[0] += 1
                elif op["@type"] == "delete":
                    rules[:] = [r for r in rules if r["id"] != int(op["@id"])]
            with open(batches, "a") as f:
                record = {"operations": operations, "rules": rules, "pid": pid, "group": group}
                f.write(json.dumps(record) + "\n")
        # A batch takes GeoFence a moment (a transaction in its database): changes queued together
        # overlap, so the worker hands them to several of its processes.
        time.sleep(1)
        self.answer(200)

    def do_PUT(self):
        self.answer(200 if self.path.endswith("/rest/geofence/ruleCache/invalidate") else 404)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), GeoFence).serve_forever()
