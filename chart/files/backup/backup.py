"""A backup's second half, in GeoNode's image, after dump-databases.sh.

The GeoServer data directory and the uploads go into tar archives beside the two database dumps;
the manifest (chart and GeoNode versions, times, every part's size and sha256) is written last.
Then the backup goes where it is kept: renamed into place on the backup volume, or uploaded to S3
with the manifest last. A backup without a manifest is incomplete, and restore refuses it. Old
complete backups beyond BACKUP_KEEP are deleted only after the new one is complete.
"""

import json
import os
import shutil
import sys
import tarfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backup_store  # noqa: E402 - beside this script in the ConfigMap

# What the archives hold, by part name: the GeoServer data directory and the files users
# uploaded (not the collected static files, which every init Job makes again).
ARCHIVES = {
    "geoserver-data.tar.gz": os.environ.get("BACKUP_GEOSERVER_DATA", "/geoserver_data/data"),
    "uploads.tar.gz": os.environ.get("BACKUP_UPLOADS", "/mnt/volumes/statics/uploaded"),
}
DUMPS = ["geonode.dump", "geodata.dump"]


def archive(source, target):
    """A gzip'd tar of the folder's contents (paths relative to it; owners and modes kept)."""
    with tarfile.open(target + ".incomplete", "w:gz", compresslevel=6) as tar:
        if os.path.isdir(source):
            for entry in sorted(os.listdir(source)):
                tar.add(os.path.join(source, entry), arcname=entry)
    os.replace(target + ".incomplete", target)


def manifest(name, work, started):
    return {
        "format": 1,
        "name": name,
        "started": started,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "chart": os.environ["BACKUP_CHART"],
        "geonode": os.environ["BACKUP_GEONODE_VERSION"],
        "image": os.environ["BACKUP_GEONODE_IMAGE"],
        "databases": {
            "geonode.dump": os.environ["GEONODE_DATABASE"],
            "geodata.dump": os.environ["GEONODE_GEODATABASE"],
        },
        "parts": {
            part: {"bytes": os.path.getsize(os.path.join(work, part)), "sha256": backup_store.sha256(os.path.join(work, part))}
            for part in DUMPS + list(ARCHIVES)
        },
    }


def main():
    scratch = os.environ["BACKUP_SCRATCH"]
    with open(os.path.join(scratch, "backup-name"), encoding="utf-8") as file:
        name = file.read().strip()
    store = backup_store.open_store()
    work = os.path.join(os.environ["BACKUP_ROOT"], ".partial-" + name)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.path.getctime(work)))
    for part in DUMPS:
        if not os.path.isfile(os.path.join(work, part)):
            sys.exit(f"backup {name}: the database dump {part} is missing from {work}; see the dump-databases container's log")
    for part, source in ARCHIVES.items():
        begun = time.time()
        archive(source, os.path.join(work, part))
        print(f"archived {source} into {part} ({os.path.getsize(os.path.join(work, part))} bytes, {time.time() - begun:.0f} s)")
    facts = manifest(name, work, started)
    with open(os.path.join(work, backup_store.MANIFEST + ".incomplete"), "w", encoding="utf-8") as file:
        json.dump(facts, file, indent=2, sort_keys=True)
        file.flush()
        os.fsync(file.fileno())
    os.replace(os.path.join(work, backup_store.MANIFEST + ".incomplete"), os.path.join(work, backup_store.MANIFEST))
    store.keep(name, work)
    total = sum(p["bytes"] for p in facts["parts"].values())
    print(f"backup {name} complete: {total} bytes in {len(facts['parts'])} parts, {store.describe(name)}")
    for old in store.prune(int(os.environ["BACKUP_KEEP"])):
        print(f"deleted backup {old} (backup.keep is {os.environ['BACKUP_KEEP']})")
    if os.path.isdir(work):
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
