"""A site exported from another GeoNode (docker-compose's geonode-project, the community chart, a
GeoNode 4.4 or 5.x install) for backup.restore.kind: export. docs/migrate-from-docker-compose.md
gives the commands that make one with the tools the source's own containers have:

    site.json              the source's SITEURL, MEDIA_ROOT, ASSETS_ROOT, datastore database's name
                           and GeoNode version
    geonode.dump           GeoNode's database, pg_dump --format=custom (any database name)
    geodata.dump           the datastore database, the same
    geoserver-data.tar.gz  GeoServer's data directory
    uploads.tar.gz         MEDIA_ROOT (thumbnails, avatars, older uploads)
    assets.tar.gz          ASSETS_ROOT (the files of documents and datasets, GeoNode 4.3 and later)
    SHA256SUMS             sha256sum of the six above

The GeoNode stores in the imported GeoServer data directory name the source's datastore database;
repoint_stores() names this release's instead (GeoServer's start script sets the rest). Unlike a
backup it is not signed (the source has no backup key): the operator vouches for it by
naming it in backup.restore.from, and SHA256SUMS catches a damaged or half-copied file. Used by
restore.py.
"""

import glob
import hashlib
import json
import os
import re
from urllib.parse import urlparse

SITE = "site.json"
SUMS = "SHA256SUMS"
DUMPS = ["geonode.dump", "geodata.dump"]
ARCHIVES = ["geoserver-data.tar.gz", "uploads.tar.gz", "assets.tar.gz"]
PARTS = [SITE] + DUMPS + ARCHIVES
# A folder or key prefix of the backup target; no path of its own.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# The oldest GeoNode whose migrations to this chart's are proven (cargo xtask contract).
OLDEST = (4, 4)
SUMS_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")


class ExportError(Exception):
    """What is wrong with the set, naming the file and what to do."""


def is_export_name(name):
    return NAME.fullmatch(name) is not None


def check_listing(found):
    """The folder's files must be the export's, SHA256SUMS among them."""
    missing = [p for p in PARTS + [SUMS] if p not in found]
    if missing:
        raise ExportError(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing: export every part as "
            "docs/migrate-from-docker-compose.md says, then SHA256SUMS last"
        )


def read_sums(text):
    """SHA256SUMS as sha256sum writes it: {file: sha256} for exactly the export's parts."""
    sums = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = SUMS_LINE.fullmatch(line.strip())
        if not match:
            raise ExportError(f"{SUMS} line {number} is not '<sha256>  <file>' as sha256sum writes it: {line[:80]!r}")
        name = match.group(2).removeprefix("./")
        if name not in PARTS:
            raise ExportError(f"{SUMS} line {number} names {name!r}, which is not part of a site export ({', '.join(PARTS)})")
        sums[name] = match.group(1).lower()
    unsummed = [p for p in PARTS if p not in sums]
    if unsummed:
        raise ExportError(f"{SUMS} has no line for {', '.join(unsummed)}: make it with sha256sum over all six parts")
    return sums


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_part(name, path, expected):
    if sha256_of(path) != expected:
        raise ExportError(f"{name} differs from its line in {SUMS}: it was damaged or changed after the export")
    if name in DUMPS:
        with open(path, "rb") as file:
            if file.read(5) != b"PGDMP":
                raise ExportError(f"{name} is not a pg_dump archive in custom format: dump with pg_dump --format=custom")


def version(text):
    numbers = re.findall(r"[0-9]+", str(text))
    return tuple(int(n) for n in numbers[:3])


def read_site(path, target_version):
    """site.json's facts, checked: the old site's URL, where its files were, its GeoNode."""
    try:
        with open(path, encoding="utf-8") as file:
            site = json.load(file)
    except ValueError as error:
        raise ExportError(f"{SITE} is not JSON ({error}): write it with the command the docs give") from None
    if not isinstance(site, dict):
        raise ExportError(f"{SITE} is not a JSON object: write it with the command the docs give")
    url = urlparse(str(site.get("siteurl", "")))
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ExportError(f"{SITE}: siteurl {site.get('siteurl')!r} is not the old site's http(s) address")
    for key in ("media_root", "assets_root"):
        if not str(site.get(key, "")).startswith("/"):
            raise ExportError(f"{SITE}: {key} {site.get(key)!r} is not an absolute path")
    if not isinstance(site.get("datastore"), str) or not site["datastore"]:
        raise ExportError(f"{SITE}: datastore {site.get('datastore')!r} is not the datastore database's name")
    source = version(site.get("geonode", ""))
    if len(source) < 2:
        raise ExportError(f"{SITE}: geonode {site.get('geonode')!r} is not a GeoNode version")
    if source[:2] < OLDEST:
        raise ExportError(
            f"the site runs GeoNode {site['geonode']}; imports are proven from {OLDEST[0]}.{OLDEST[1]} on: "
            "upgrade it where it runs to GeoNode 4.4 first (upstream's upgrade), then export it"
        )
    if source > version(target_version):
        raise ExportError(
            f"the site runs GeoNode {site['geonode']}, newer than this chart's {target_version}: "
            "its database cannot go back to an older schema; use a chart of that GeoNode or newer"
        )
    return site


STORE_DATABASE = re.compile(r'(<entry key="database">)([^<]*)(</entry>)')


def repoint_stores(data_dir, old, new):
    """GeoNode's PostGIS stores (workspace geonode) on the source's datastore database `old`, moved
    to `new`, file by file through a temporary file; returns the stores changed."""
    changed = []
    for path in sorted(glob.glob(os.path.join(data_dir, "workspaces", "geonode", "*", "datastore.xml"))):
        with open(path, encoding="utf-8") as file:
            text = file.read()
        if '<entry key="dbtype">postgis</entry>' not in text:
            continue
        edited = STORE_DATABASE.sub(lambda m: m.group(1) + new + m.group(3) if m.group(2) == old else m.group(0), text)
        if edited != text:
            with open(path + ".importing", "w", encoding="utf-8") as file:
                file.write(edited)
            os.replace(path + ".importing", path)
            changed.append(os.path.basename(os.path.dirname(path)))
    return changed
