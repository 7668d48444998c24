"""The node's GeoServer stand-in: answers what the chart's probes and `helm test` ask of
GeoServer, from the data directory the chart's scripts prepared.

- /geoserver/index.html: Tomcat's static start page.
- /geoserver/rest/about/version.json: the readiness probe; only for `admin` with the password
  the chart's start script wrote into users.xml (GeoServer reads a `plain:` password as it is).
- /geoserver/ows?...request=GetCapabilities: `helm test`'s WMS capabilities, with the proxy base
  URL the start script wrote into global.xml; with an updateSequence above global.xml's, the
  exception GeoServer's WMS answers without building them (InvalidUpdateSequence, HTTP 200:
  org.geoserver.wms.GetCapabilities), which the startup and liveness probes ask.
- /stand-in/hang-dispatcher: a model of a GeoServer whose request threads hang (the community
  chart's GeoNodeUserGroup-DE/geonode-k8s#313: no more WMS or WFS answers, nothing in the log):
  from then on every request to the OWS dispatcher (/geoserver/ows, /wms, /wfs) waits forever,
  while the static page still answers. Kept in this process only: a restart ends it.
"""

import base64
import html
import http.server
import os
import re
import signal
import sys
import threading
from urllib.parse import parse_qs, urlparse

DATA = os.environ["GEOSERVER_DATA_DIR"]
DISPATCHER = ("/geoserver/ows", "/geoserver/wms", "/geoserver/wfs")
hung = threading.Event()


def read(relative):
    with open(os.path.join(DATA, relative), encoding="utf-8") as f:
        return f.read()


def admin_password():
    """The admin's password in users.xml, if it is a plain one; None otherwise."""
    for user in re.findall(r"<user\b[^>]*>", read("security/usergroup/default/users.xml")):
        attributes = dict(re.findall(r'(\w+)="([^"]*)"', user))
        if attributes.get("name") == "admin":
            password = html.unescape(attributes.get("password", ""))
            return password[len("plain:"):] if password.startswith("plain:") else None
    return None


def update_sequence():
    match = re.search(r"<updateSequence>(\d+)</updateSequence>", read("global.xml"))
    return int(match.group(1)) if match else 0


def proxy_base_url():
    match = re.search(r"<proxyBaseUrl>([^<]*)</proxyBaseUrl>", read("global.xml"))
    return html.unescape(match.group(1)) if match else ""


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body, content_type="text/plain", headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        query = {k.lower(): v[0] for k, v in parse_qs(url.query).items()}
        if url.path in DISPATCHER and hung.is_set():
            threading.Event().wait()  # never answers, as a hung dispatcher
        if url.path == "/stand-in/hang-dispatcher":
            hung.set()
            self.answer(200, "the OWS dispatcher hangs from now on\n")
        elif url.path in DISPATCHER and int(query.get("updatesequence", "-1")) > update_sequence():
            self.answer(
                200,
                '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<ServiceExceptionReport version="1.1.1">'
                '<ServiceException code="InvalidUpdateSequence">Client supplied an updateSequence that is '
                "greater than the current server updateSequence</ServiceException></ServiceExceptionReport>\n",
                "application/vnd.ogc.se_xml",
            )
        elif url.path == "/geoserver/index.html":
            self.answer(200, "<html><body>GeoServer stand-in</body></html>", "text/html")
        elif url.path == "/geoserver/rest/about/version.json":
            expected = admin_password()
            given = self.headers.get("Authorization", "")
            token = base64.b64encode(("admin:%s" % expected).encode()).decode() if expected is not None else None
            if token is not None and given == "Basic " + token:
                self.answer(200, '{"about":{"resource":[{"@name":"GeoServer","Version":"stand-in"}]}}', "application/json")
            else:
                self.answer(401, "unauthorized", headers=[("WWW-Authenticate", 'Basic realm="GeoServer Realm"')])
        elif url.path in ("/geoserver/ows", "/geoserver/wms") and query.get("request", "").lower() == "getcapabilities":
            online = html.escape(proxy_base_url() + "/ows", quote=True)
            self.answer(
                200,
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms" xmlns:xlink="http://www.w3.org/1999/xlink">'
                "<Service><Name>WMS</Name><Title>GeoServer stand-in</Title>"
                '<OnlineResource xlink:type="simple" xlink:href="%s"/></Service></WMS_Capabilities>\n' % online,
                "text/xml",
            )
        else:
            self.answer(404, "not served by the stand-in: %s" % url.path)

    def log_message(self, format, *args):
        sys.stdout.write("stand-in: %s %s\n" % (self.address_string(), format % args))
        sys.stdout.flush()


if __name__ == "__main__":
    # Fails at start, not at the first probe, when the data directory is not one.
    read("global.xml")
    # Stops on SIGTERM as Tomcat does (as the container's first process, Python would ignore it).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
