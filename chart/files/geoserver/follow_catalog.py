"""A GeoServer read replica's follower: it reloads the reader's catalog after the writer changes it.

GeoServer reads its whole catalog into memory at start and never looks at the data directory
again; the writer (the one GeoServer that GeoNode talks to) raises `updateSequence` in global.xml
with every catalog change. This script runs beside a reader, reads that number every few seconds
from the shared data directory (mounted read-only), and when it differs from the one the reader
loaded, and has stopped moving for a quiet period (one reload per burst of changes: an upload
makes several), asks the reader for `POST /geoserver/rest/reload`. While it reloads, the reader
is unready (the file READY_FILE is removed; the readiness probe asks for it), so nginx sends map
requests to the others. Readers reload one at a time: each waits `ordinal × stagger` seconds more
than the quiet period, its StatefulSet ordinal deciding its turn.

The decision is `Follower.decide`, a pure function of what was seen and when, tested alone
(tests/harness/follow_catalog_test.py); `main` is the loop around it.
"""

import base64
import os
import re
import sys
import time
import urllib.error
import urllib.request

SEQUENCE = re.compile(rb"<updateSequence>\s*(-?[0-9]+)\s*</updateSequence>")


class Follower:
    """What the reader has loaded, and when to reload it.

    `loaded` is the sequence the reader's catalog holds (what global.xml said when it started);
    `seen` the latest sequence read and `since` when it last changed. A sequence that moves down
    (a data directory restored from a backup) is a change like one that moves up.
    """

    def __init__(self, loaded, now, quiet, turn):
        self.loaded = loaded
        self.seen = loaded
        self.since = now
        self.quiet = quiet
        self.turn = turn
        self.retry_at = None

    def decide(self, sequence, now):
        """True when the reader should reload now. `sequence` None: global.xml was unreadable
        (the writer rewriting it): nothing is decided on it."""
        if sequence is None:
            return False
        if sequence != self.seen:
            self.seen = sequence
            self.since = now
            self.retry_at = None
        if self.seen == self.loaded:
            return False
        if self.retry_at is not None:
            return now >= self.retry_at
        return now - self.since >= self.quiet + self.turn

    def reloaded(self, sequence):
        """The reload of the catalog at `sequence` succeeded."""
        self.loaded = sequence
        self.retry_at = None

    def failed(self, now, backoff):
        """The reload was refused or not answered (GeoServer still starting): try again later."""
        self.retry_at = now + backoff


def read_sequence(path):
    try:
        with open(path, "rb") as f:
            found = SEQUENCE.search(f.read())
    except OSError:
        return None
    return int(found.group(1)) if found else None


def reload(url, user, password, timeout):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request = urllib.request.Request(url, method="POST", headers={"Authorization": f"Basic {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status


def ready(path, state):
    if state:
        with open(path, "w", encoding="utf-8") as f:
            f.write("ready\n")
    elif os.path.exists(path):
        os.remove(path)


def log(message):
    print(f"follow-catalog: {message}", file=sys.stderr, flush=True)


def main():
    data = os.environ["GEOSERVER_DATA_DIR"]
    global_xml = os.path.join(data, "global.xml")
    ready_file = os.environ["READY_FILE"]
    interval = float(os.environ.get("FOLLOW_INTERVAL_SECONDS", "5"))
    quiet = float(os.environ.get("FOLLOW_QUIET_SECONDS", "10"))
    stagger = float(os.environ.get("FOLLOW_STAGGER_SECONDS", "30"))
    ordinal = int(os.environ.get("POD_NAME", "reader-0").rsplit("-", 1)[-1] or 0)
    url = os.environ.get("RELOAD_URL", "http://127.0.0.1:8080/geoserver/rest/reload")
    user = os.environ.get("GEOSERVER_ADMIN_USER", "admin")
    with open(os.environ["GEOSERVER_ADMIN_PASSWORD_FILE"], encoding="utf-8") as f:
        password = f.read().strip()

    started = read_sequence(global_xml)
    follower = Follower(started, time.monotonic(), quiet, ordinal * stagger)
    ready(ready_file, True)
    log(f"reader {ordinal} follows {global_xml} from updateSequence {started}")
    while True:
        time.sleep(interval)
        now = time.monotonic()
        sequence = read_sequence(global_xml)
        if not follower.decide(sequence, now):
            continue
        target = follower.seen
        log(f"updateSequence {follower.loaded} -> {target}: reloading the catalog")
        ready(ready_file, False)
        try:
            reload(url, user, password, timeout=600)
        except (OSError, urllib.error.URLError) as error:
            log(f"reload failed ({error}); retrying in {interval * 2:.0f} s")
            follower.failed(time.monotonic(), interval * 2)
            continue
        follower.reloaded(target)
        ready(ready_file, True)
        log(f"catalog at updateSequence {target}")


if __name__ == "__main__":
    main()
