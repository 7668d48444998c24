"""A GeoServer read replica's follower: it keeps the reader's catalog and GeoFence rules in step
with the writer's.

GeoServer reads its whole catalog into memory at start and never looks at the data directory
again; the writer (the one GeoServer that GeoNode talks to) raises `updateSequence` in global.xml
with every catalog change. This script runs beside a reader, reads that number every few seconds
from the shared data directory (mounted read-only), and when it differs from the one the reader
loaded, and has stopped moving for a quiet period (one reload per burst of changes: an upload
makes several), asks the reader for `POST /geoserver/rest/reload`, and empties the reader's tile
cache (GeoNode truncates the writer's tiles of the layer it changed). Readers reload one at a time
(a PostgreSQL advisory lock, held from before the reader leaves the Service until it is back),
and unready meanwhile: the file `ready` is removed (the readiness probe asks for it) and the
follower waits for the probe and the Service to notice before it reloads.

GeoFence keeps the decisions of its rules (in PostgreSQL, `gf_*` tables) in a cache per GeoServer,
which GeoNode invalidates on the writer only. The follower watches PostgreSQL's row-change counters
of those tables and invalidates its reader's cache whenever they move.

The decisions are `Follower` and `RuleWatch`, pure functions of what was seen and when, tested alone
(tests/harness/follow_catalog_test.py); `main` is the loop around them. Each round of the loop
touches the file `heartbeat`; `follow_catalog.py --alive SECONDS` (the follower's probes) fails
when the last round is older than that.
"""

import base64
import os
import re
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request

SEQUENCE = re.compile(rb"<updateSequence>\s*(-?[0-9]+)\s*</updateSequence>")
# One reload at a time among the readers of a database: the key of the advisory lock they share.
RELOAD_LOCK = 0x67656F6E6F6465  # "geonode"
# Rows inserted, updated and deleted in GeoFence's tables since PostgreSQL's statistics began.
RULE_CHANGES = (
    "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables "
    "WHERE schemaname = %s AND relname LIKE 'gf\\_%%'"
)


class Follower:
    """What the reader has loaded, and when to reload it.

    `loaded` is the sequence the reader's catalog holds (what global.xml said as it started, or
    at its last reload); `seen` the latest sequence read and `since` when it last changed. A
    sequence that moves down (a data directory restored from a backup) is a change like one that
    moves up.
    """

    def __init__(self, loaded, now, quiet):
        self.loaded = loaded
        self.seen = loaded
        self.since = now
        self.quiet = quiet
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
        return now - self.since >= self.quiet

    def reloaded(self, sequence):
        """The reload of the catalog at `sequence` succeeded."""
        self.loaded = sequence
        self.retry_at = None

    def failed(self, now, backoff):
        """The reload was refused or not answered (GeoServer still starting), or another reader
        holds the turn: try again later."""
        self.retry_at = now + backoff

    def restarted(self, sequence):
        """The reader's GeoServer started again and loaded the catalog at `sequence`."""
        self.loaded = sequence
        self.retry_at = None


class RuleWatch:
    """Whether GeoFence's rules changed since the reader's cache was last invalidated.

    `counter` is the sum of the row-change counters of GeoFence's tables; any move, up or down
    (statistics reset when PostgreSQL restarts), is a change. None: the database did not answer.
    The first reading is the baseline: a GeoServer that just started has an empty cache.
    """

    def __init__(self):
        self.counter = None
        self.pending = False

    def changed(self, counter):
        """True when the reader's cache should be invalidated now."""
        if counter is None:
            return self.pending
        if self.counter is not None and counter != self.counter:
            self.pending = True
        self.counter = counter
        return self.pending

    def invalidated(self):
        self.pending = False

    def restarted(self):
        """A new GeoServer process: nothing cached, nothing to invalidate."""
        self.pending = False


def read_sequence(path):
    try:
        with open(path, "rb") as f:
            found = SEQUENCE.search(f.read())
    except OSError:
        return None
    return int(found.group(1)) if found else None


def read_loaded(path):
    """The sequence the reader's start script noted, with the file's change time; None when absent."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read().strip()
        return int(text), os.stat(path).st_mtime_ns
    except (OSError, ValueError):
        return None


def call(method, url, password, timeout):
    token = base64.b64encode(f"admin:{password}".encode()).decode()
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"Basic {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status


def empty_folder(path):
    """Removes everything inside `path` (the folder stays); how many entries it held."""
    try:
        entries = os.listdir(path)
    except OSError:
        return 0
    for name in entries:
        entry = os.path.join(path, name)
        if os.path.isdir(entry) and not os.path.islink(entry):
            shutil.rmtree(entry, ignore_errors=True)
        else:
            try:
                os.remove(entry)
            except OSError:
                pass
    return len(entries)


def set_ready(path, state):
    if state:
        with open(path, "w", encoding="utf-8") as f:
            f.write("ready\n")
    elif os.path.exists(path):
        os.remove(path)


def beat(path):
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{time.time():.0f}\n")


def alive(path, seconds, now=None):
    """Whether the loop's last round (the heartbeat file's time) is at most `seconds` old."""
    try:
        age = (time.time() if now is None else now) - os.stat(path).st_mtime
    except OSError:
        return False
    return age <= seconds


def log(message):
    print(f"follow-catalog: {message}", file=sys.stderr, flush=True)


class Database:
    """GeoNode's data database, where GeoFence keeps its rules: the rules' change counters, and the
    lock that gives readers their turns. Reconnects after any failure."""

    def __init__(self):
        self.connection = None

    def connect(self):
        import psycopg2  # in GeoNode's image, which runs the follower

        if self.connection is None or self.connection.closed:
            self.connection = psycopg2.connect(
                host=os.environ["DATABASE_HOST"],
                port=os.environ["DATABASE_PORT"],
                dbname=os.environ["GEONODE_GEODATABASE"],
                user=os.environ["GEONODE_GEODATABASE_USER"],
                password=os.environ["GEONODE_GEODATABASE_PASSWORD"],
                application_name="geoserver-reader-follower",
                connect_timeout=10,
                # No query of the follower's may hang its loop on a dead connection.
                options="-c statement_timeout=10000",
                keepalives_idle=30,
            )
            self.connection.autocommit = True
        return self.connection

    def query(self, sql, *args):
        try:
            with self.connect().cursor() as cursor:
                cursor.execute(sql, args)
                return cursor.fetchone()[0]
        except Exception as error:  # psycopg2's errors, network errors: retried next time
            log(f"database: {error}")
            if self.connection is not None:
                self.connection.close()
            return None

    def rule_changes(self):
        return self.query(RULE_CHANGES, os.environ.get("GEONODE_GEODATABASE_SCHEMA", "public"))

    def take_turn(self):
        return self.query("SELECT pg_try_advisory_lock(%s)", RELOAD_LOCK) is True

    def end_turn(self):
        self.query("SELECT pg_advisory_unlock(%s)", RELOAD_LOCK)


def reload_catalog(follower, database, paths, settings):
    """The reader's turn: out of the Service, reloaded, back in. False when it must wait."""
    if not database.take_turn():
        return False
    try:
        set_ready(paths["ready"], False)
        time.sleep(settings["drain"])  # the readiness probe and the Service notice
        target = read_sequence(paths["global"])
        if target is None:
            target = follower.seen
        log(f"updateSequence {follower.loaded} -> {target}: reloading the catalog")
        started = time.monotonic()
        call("POST", settings["geoserver"] + "/rest/reload", settings["password"], timeout=900)
        follower.reloaded(target)
        # GeoNode truncates the cached tiles of a layer it changes on the writer only; which
        # changed, a reader cannot tell, so it drops all its tiles while it is out of the Service.
        dropped = empty_folder(settings["tiles"])
        log(
            f"catalog at updateSequence {target}, reloaded in {time.monotonic() - started:.1f} s; "
            f"{dropped} entries of the tile cache dropped"
        )
        return True
    finally:
        set_ready(paths["ready"], True)
        database.end_turn()


def main():
    data = os.environ["GEOSERVER_DATA_DIR"]
    follow = os.environ["FOLLOW_DIR"]
    interval = float(os.environ.get("FOLLOW_INTERVAL_SECONDS", "5"))
    paths = {
        "global": os.path.join(data, "global.xml"),
        "ready": os.path.join(follow, "ready"),
        "loaded": os.path.join(follow, "loaded-sequence"),
        "heartbeat": os.path.join(follow, "heartbeat"),
    }
    settings = {
        "geoserver": os.environ.get("GEOSERVER_URL", "http://127.0.0.1:8080/geoserver"),
        "password": os.environ["GEOSERVER_ADMIN_PASSWORD"],
        "drain": float(os.environ.get("FOLLOW_DRAIN_SECONDS", "10")),
        "tiles": os.environ["GEOWEBCACHE_CACHE_DIR"],
    }
    quiet = float(os.environ.get("FOLLOW_QUIET_SECONDS", "10"))
    database = Database()
    follower = None
    rules = RuleWatch()
    started = None  # the loaded-sequence file's change time: a new one is a new GeoServer process
    set_ready(paths["ready"], True)
    while True:
        beat(paths["heartbeat"])
        now = time.monotonic()
        loaded = read_loaded(paths["loaded"])
        if loaded is None:
            time.sleep(interval)  # the reader's start script has not run yet
            continue
        if loaded[1] != started:
            started = loaded[1]
            if follower is None:
                follower = Follower(loaded[0], now, quiet)
            else:
                follower.restarted(loaded[0])
            rules.restarted()
            log(f"the reader's GeoServer loads the catalog at updateSequence {loaded[0]}")
        if rules.changed(database.rule_changes()):
            try:
                call("PUT", settings["geoserver"] + "/rest/geofence/ruleCache/invalidate", settings["password"], 30)
                rules.invalidated()
                log("GeoFence's rules changed: the reader's rule cache invalidated")
            except (OSError, urllib.error.URLError) as error:
                log(f"invalidating GeoFence's rule cache failed ({error}); retrying")
        if follower.decide(read_sequence(paths["global"]), now):
            try:
                if not reload_catalog(follower, database, paths, settings):
                    follower.failed(time.monotonic(), interval)
            except (OSError, urllib.error.URLError) as error:
                log(f"reload failed ({error}); retrying in {interval * 2:.0f} s")
                follower.failed(time.monotonic(), interval * 2)
        time.sleep(interval)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--alive":
        heartbeat = os.path.join(os.environ["FOLLOW_DIR"], "heartbeat")
        if not alive(heartbeat, float(sys.argv[2])):
            print(f"the follower's last round is more than {sys.argv[2]} s old ({heartbeat})", file=sys.stderr)
            sys.exit(1)
    else:
        # Stops on SIGTERM (as the container's first process, Python would ignore it and hold the
        # pod's deletion for its whole grace period); a turn being taken is handed back on the way.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        main()
