"""The node's GeoServer model: not GeoServer (no GeoServer can be built from the registries
reachable here), but a server that behaves as GeoServer does in what the chart's probes, its
`helm test` and its read replicas depend on, from the data directory the chart's scripts prepared.

- /geoserver/index.html: Tomcat's static start page.
- /geoserver/rest/about/version.json: the readiness probe; only for `admin` with the password
  the chart's start script wrote into users.xml (GeoServer reads a `plain:` password as it is).
  Every /geoserver/rest call below asks the same login.
- /geoserver/ows?...request=GetCapabilities: `helm test`'s WMS capabilities, with the proxy base
  URL the start script wrote into global.xml; with an updateSequence above the catalog's, the
  exception GeoServer's WMS answers without building them (InvalidUpdateSequence, HTTP 200:
  org.geoserver.wms.GetCapabilities), which the startup and liveness probes ask.
- The catalog, kept in memory as GeoServer keeps it (GeoServerLoader reads it at start): the
  layers of workspaces/<workspace>/<store>/<resource>/layer.xml, and global.xml's updateSequence.
  Nothing watches the directory: another process's changes are seen after POST|PUT
  /geoserver/rest/reload only (GeoServerImpl.reload), which takes RELOAD_SECONDS (a model of
  its cost) while map requests wait (GeoServer's configuration lock), and is recorded.
  POST /geoserver/rest/workspaces/<ws>/datastores/<store>/featuretypes (XML or JSON with the
  name) publishes a layer: its files, the catalog in memory, and updateSequence raised in
  global.xml, as GeoServer's UpdateSequenceListener does. On a read-only directory it fails.
- GetMap of a layer (WMS at the root, a workspace's or a layer's): an image when the catalog in
  memory has the layer and GeoFence allows it, else GeoServer's LayerNotDefined exception (its
  secure catalog hides a layer the user may not see).
- GeoFence, with the rules in PostgreSQL (the connection the start script wrote into
  geofence/geofence-datasource-ovr.properties; a table named as GeoFence's, gf_rule, with a few
  of its columns) and each decision cached in this process for cacheExpire
  (geofence/geofence-server.properties), as GeoFence's CachedRuleReader does:
  POST /geoserver/rest/geofence/rules adds a rule, PUT /geoserver/rest/geofence/ruleCache/invalidate
  empties this process's cache.
- /model/reloads: when this process reloaded its catalog (start and end, seconds since the epoch).
- /model/hang-dispatcher: a model of a GeoServer whose request threads hang (the community
  chart's GeoNodeUserGroup-DE/geonode-k8s#313: no more WMS or WFS answers, nothing in the log):
  from then on every request to the OWS dispatcher waits forever, while the static page still
  answers. Kept in this process only: a restart ends it.
Every answer names the pod that gave it (X-Model-Pod), for tests that go through a Service.
"""

import base64
import glob
import html
import http.server
import json
import os
import re
import signal
import socket
import sys
import threading
import time
from urllib.parse import parse_qs, urlparse

DATA = os.environ["GEOSERVER_DATA_DIR"]
RELOAD_SECONDS = float(os.environ.get("MODEL_RELOAD_SECONDS", "3"))
POD = socket.gethostname()
OWS = re.compile(r"^/geoserver(/[^/]+){0,2}/(ows|wms|wfs|wcs)$")
PUBLISH = re.compile(r"^/geoserver/rest/workspaces/([^/]+)/datastores/([^/]+)/featuretypes(\.json|\.xml)?$")
hung = threading.Event()


def read(relative):
    with open(os.path.join(DATA, relative), encoding="utf-8") as f:
        return f.read()


def element(text, name):
    match = re.search(r"<%s>([^<]*)</%s>" % (name, name), text)
    return html.unescape(match.group(1)) if match else None


def admin_password():
    """The admin's password in users.xml, if it is a plain one; None otherwise."""
    for user in re.findall(r"<user\b[^>]*>", read("security/usergroup/default/users.xml")):
        attributes = dict(re.findall(r'(\w+)="([^"]*)"', user))
        if attributes.get("name") == "admin":
            password = html.unescape(attributes.get("password", ""))
            return password[len("plain:"):] if password.startswith("plain:") else None
    return None


def properties(relative):
    """A Java properties file: key=value lines, with the escapes the start script writes."""
    try:
        text = read(relative)
    except OSError:
        return {}
    result = {}
    for line in text.splitlines():
        if line.lstrip().startswith(("#", "!")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        result[key.strip()] = re.sub(r"\\(.)", r"\1", value)
    return result


class Catalog:
    """What this process loaded: the layers and the update sequence, until a reload."""

    def __init__(self):
        self.lock = threading.RLock()
        self.reloads = []
        self.load()

    def load(self):
        layers = set()
        for path in glob.glob(os.path.join(DATA, "workspaces", "*", "*", "*", "layer.xml")):
            workspace = path.split(os.sep)[-4]
            with open(path, encoding="utf-8") as f:
                name = element(f.read(), "name")
            if name:
                layers.add("%s:%s" % (workspace, name))
        self.layers = layers
        self.sequence = int(element(read("global.xml"), "updateSequence") or 0)

    def reload(self):
        with self.lock:
            started = time.time()
            time.sleep(RELOAD_SECONDS)
            self.load()
            self.reloads.append([started, time.time()])

    def has(self, layer):
        with self.lock:  # waits while a reload holds the configuration
            return layer in self.layers

    def publish(self, workspace, store, name):
        """A new layer, written and loaded; global.xml's updateSequence raised. OSError on a
        read-only directory."""
        with self.lock:
            folder = os.path.join(DATA, "workspaces", workspace, store, name)
            os.makedirs(folder, exist_ok=True)
            for kind in ("featureType", "layer"):
                with open(os.path.join(folder, kind.lower() + ".xml"), "w", encoding="utf-8") as f:
                    f.write("<%s>\n  <name>%s</name>\n</%s>\n" % (kind, html.escape(name), kind))
            self.layers.add("%s:%s" % (workspace, name))
            self.sequence += 1
            text = re.sub(
                r"<updateSequence>[^<]*</updateSequence>",
                "<updateSequence>%d</updateSequence>" % self.sequence,
                read("global.xml"),
            )
            temporary = os.path.join(DATA, "global.xml.model")
            with open(temporary, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(temporary, os.path.join(DATA, "global.xml"))


class GeoFence:
    """Rules in PostgreSQL, decisions cached in this process until they expire or are invalidated."""

    def __init__(self):
        self.lock = threading.Lock()
        self.cache = {}
        self.connection = None
        expire = properties("geofence/geofence-server.properties").get("cacheExpire", "300000")
        self.expire = int(expire) / 1000.0

    def connect(self):
        if self.connection is None or self.connection.closed:
            import psycopg2

            settings = properties("geofence/geofence-datasource-ovr.properties")
            url = urlparse(settings["geofenceDataSource.url"][len("jdbc:"):])
            self.connection = psycopg2.connect(
                host=url.hostname,
                port=url.port or 5432,
                dbname=url.path.lstrip("/"),
                user=settings["geofenceDataSource.username"],
                password=settings["geofenceDataSource.password"],
                connect_timeout=10,
            )
            self.connection.autocommit = True
            with self.connection.cursor() as cursor:
                cursor.execute(
                    "CREATE TABLE IF NOT EXISTS gf_rule (id bigserial PRIMARY KEY, priority bigint NOT NULL, "
                    "workspace varchar(255), layer varchar(255), grant_type varchar(255) NOT NULL)"
                )
        return self.connection

    def query(self, sql, args):
        try:
            with self.connect().cursor() as cursor:
                cursor.execute(sql, args)
                return cursor.fetchone() if cursor.description else None
        except Exception:
            if self.connection is not None:
                self.connection.close()
            raise

    def allows(self, layer):
        workspace, name = layer.split(":", 1)
        with self.lock:
            cached = self.cache.get(layer)
            if cached and time.monotonic() - cached[1] < self.expire:
                return cached[0]
            row = self.query(
                "SELECT grant_type FROM gf_rule WHERE (workspace IS NULL OR workspace = %s) "
                "AND (layer IS NULL OR layer = %s) ORDER BY priority LIMIT 1",
                (workspace, name),
            )
            allowed = row is None or row[0] == "ALLOW"
            self.cache[layer] = (allowed, time.monotonic())
            return allowed

    def add(self, rule):
        with self.lock:
            self.query(
                "INSERT INTO gf_rule (priority, workspace, layer, grant_type) VALUES (%s, %s, %s, %s)",
                (int(rule.get("priority", 0)), rule.get("workspace"), rule.get("layer"), rule["access"]),
            )

    def invalidate(self):
        with self.lock:
            self.cache.clear()


catalog = Catalog()
geofence = GeoFence()


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body, content_type="text/plain", headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Model-Pod", POD)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def exception(self, code, text):
        self.answer(
            200,
            '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<ServiceExceptionReport version="1.1.1">'
            '<ServiceException code="%s">%s</ServiceException></ServiceExceptionReport>\n' % (code, text),
            "application/vnd.ogc.se_xml",
        )

    def admin(self):
        expected = admin_password()
        given = self.headers.get("Authorization", "")
        token = base64.b64encode(("admin:%s" % expected).encode()).decode() if expected is not None else None
        if token is not None and given == "Basic " + token:
            return True
        self.answer(401, "unauthorized", headers=[("WWW-Authenticate", 'Basic realm="GeoServer Realm"')])
        return False

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode() if length else ""

    def do_GET(self):
        url = urlparse(self.path)
        query = {k.lower(): v[0] for k, v in parse_qs(url.query).items()}
        request = query.get("request", "").lower()
        ows = OWS.match(url.path) is not None  # the OWS dispatcher's paths
        if ows and hung.is_set():
            threading.Event().wait()  # never answers, as a hung dispatcher
        if url.path == "/model/hang-dispatcher":
            hung.set()
            self.answer(200, "the OWS dispatcher hangs from now on\n")
        elif url.path == "/model/reloads":
            self.answer(200, json.dumps(catalog.reloads), "application/json")
        elif ows and int(query.get("updatesequence", "-1")) > catalog.sequence:
            self.exception(
                "InvalidUpdateSequence",
                "Client supplied an updateSequence that is greater than the current server updateSequence",
            )
        elif url.path == "/geoserver/index.html":
            self.answer(200, "<html><body>GeoServer model</body></html>", "text/html")
        elif url.path == "/geoserver/rest/about/version.json":
            if self.admin():
                self.answer(200, '{"about":{"resource":[{"@name":"GeoServer","Version":"model"}]}}', "application/json")
        elif ows and request == "getcapabilities":
            online = html.escape(element(read("global.xml"), "proxyBaseUrl") or "", quote=True) + "/ows"
            self.answer(
                200,
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms" xmlns:xlink="http://www.w3.org/1999/xlink">'
                "<Service><Name>WMS</Name><Title>GeoServer model</Title>"
                '<OnlineResource xlink:type="simple" xlink:href="%s"/></Service></WMS_Capabilities>\n' % online,
                "text/xml",
            )
        elif ows and request == "getmap":
            layer = query.get("layers", "")
            if ":" in layer and catalog.has(layer) and geofence.allows(layer):
                self.answer(200, "a map of %s\n" % layer, "image/png")
            else:
                self.exception("LayerNotDefined", "Could not find layer %s" % html.escape(layer))
        else:
            self.answer(404, "not served by the model: %s" % url.path)

    def do_POST(self):
        url = urlparse(self.path)
        publish = PUBLISH.match(url.path)
        if not url.path.startswith("/geoserver/rest/"):
            self.answer(404, "not served by the model: %s" % url.path)
        elif not self.admin():
            pass
        elif url.path == "/geoserver/rest/reload":
            catalog.reload()
            self.answer(200, "")
        elif publish:
            text = self.body()
            try:
                name = json.loads(text)["featureType"]["name"]
            except (ValueError, KeyError, TypeError):
                name = element(text, "name")
            try:
                catalog.publish(publish.group(1), publish.group(2), name)
            except OSError as error:
                return self.answer(500, "could not save the layer: %s" % error)
            self.answer(201, name)
        elif url.path == "/geoserver/rest/geofence/rules":
            rule = json.loads(self.body())
            geofence.add(rule.get("Rule", rule))
            self.answer(201, "")
        else:
            self.answer(404, "not served by the model: %s" % url.path)

    def do_PUT(self):
        url = urlparse(self.path)
        if not self.admin():
            return
        if url.path == "/geoserver/rest/reload":
            catalog.reload()
            self.answer(200, "")
        elif url.path == "/geoserver/rest/geofence/ruleCache/invalidate":
            geofence.invalidate()
            self.answer(200, "")
        else:
            self.answer(404, "not served by the model: %s" % url.path)

    def log_message(self, format, *args):
        sys.stdout.write("model: %s %s\n" % (self.address_string(), format % args))
        sys.stdout.flush()


if __name__ == "__main__":
    # Stops on SIGTERM as Tomcat does (as the container's first process, Python would ignore it).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port = int(os.environ.get("MODEL_PORT", "8080"))  # another only where the harness runs it beside one
    http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
