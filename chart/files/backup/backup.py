"""A backup's second half, in GeoNode's image, after dump-databases.sh.

The two database dumps (in the pod's scratch space) and tar archives of the GeoServer data
directory, the uploads and GeoNode's assets are encrypted into the backup's work folder (backup_seal: no part is
ever kept in clear outside the pod), then the manifest (chart and GeoNode versions, times, every
stored part's size, sha256 and IV) is signed and written last. The backup goes where it is kept:
renamed into place on the backup volume, or uploaded to S3 with the manifest last. A backup
without a manifest is incomplete, and restore refuses it. Old complete backups beyond
BACKUP_KEEP are deleted only after the new one is complete.
"""

import gzip
import json
import os
import shutil
import stat
import sys
import tarfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backup_seal  # noqa: E402 - beside this script in the ConfigMap
import backup_store  # noqa: E402

# What the archives hold, by part name: the GeoServer data directory, the files users uploaded
# (MEDIA_ROOT: thumbnails, avatars) and GeoNode's assets (ASSETS_ROOT: the files of documents and
# datasets since GeoNode 4.3); not the collected static files, which every init Job makes again.
ARCHIVES = {
    "geoserver-data.tar.gz": os.environ.get("BACKUP_GEOSERVER_DATA", "/geoserver_data/data"),
    "uploads.tar.gz": os.environ.get("BACKUP_UPLOADS", "/mnt/volumes/statics/uploaded"),
    "assets.tar.gz": os.environ.get("BACKUP_ASSETS", "/mnt/volumes/statics/assets"),
}
DUMPS = ["geonode.dump", "geodata.dump"]
PARTS = DUMPS + list(ARCHIVES)


def archive(source, tar):
    """The folder's folders and regular files into `tar` (paths relative to it; modes kept).
    A file linked more than once is stored as often as it is linked; anything else — a symbolic
    link above all, which a restore could be led through — stops the backup: a restore accepts
    folders and regular files only."""
    for root, folders, files in os.walk(source):
        folders.sort()
        for entry in [os.path.join(root, f) for f in folders + sorted(files)]:
            info = tar.gettarinfo(entry, os.path.relpath(entry, source))
            mode = os.lstat(entry).st_mode
            if stat.S_ISDIR(mode):
                tar.addfile(info)
            elif stat.S_ISREG(mode):
                info.type, info.linkname, info.size = tarfile.REGTYPE, "", os.lstat(entry).st_size
                with open(entry, "rb") as file:
                    tar.addfile(info, file)
            else:
                sys.exit(
                    f"backup: {entry} is {'a symbolic link' if stat.S_ISLNK(mode) else 'not a regular file'}; "
                    "a backup holds folders and regular files only: replace it with the file it stands for, "
                    "or remove it"
                )


def seal_archive(seal, name, part, source, work):
    with open(os.path.join(work, backup_seal.sealed_name(part)), "wb") as stored:
        writer = seal.writer(stored, name, part)
        # gzip by hand: tarfile's stream mode takes no compression level before Python 3.12.
        with gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=writer) as packed:
            with tarfile.open(fileobj=packed, mode="w|") as tar:
                if os.path.isdir(source):
                    archive(source, tar)
        facts = writer.close()
        stored.flush()
        os.fsync(stored.fileno())
    return facts


def seal_file(seal, name, part, source, work):
    with open(source, "rb") as clear, open(os.path.join(work, backup_seal.sealed_name(part)), "wb") as stored:
        writer = seal.writer(stored, name, part)
        shutil.copyfileobj(clear, writer, backup_seal.BLOCK)
        facts = writer.close()
        stored.flush()
        os.fsync(stored.fileno())
    return facts


def manifest(name, started, parts):
    return {
        "format": 3,  # 3: with assets.tar.gz
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
        "cipher": backup_seal.CIPHER,
        "parts": {backup_seal.sealed_name(part): facts for part, facts in parts.items()},
    }


def main():
    scratch = os.environ["BACKUP_SCRATCH"]
    with open(os.path.join(scratch, "backup-name"), encoding="utf-8") as file:
        name = file.read().strip()
    seal = backup_seal.Seal.from_file()
    store = backup_store.open_store()
    dumps = os.path.join(scratch, "dumps")
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.path.getctime(dumps)))
    work = os.path.join(os.environ["BACKUP_ROOT"], ".partial-" + name)
    os.makedirs(work)
    parts = {}
    for part in DUMPS:
        clear = os.path.join(dumps, part)
        if not os.path.isfile(clear):
            sys.exit(f"backup {name}: the database dump {part} is missing from {dumps}; see the dump-databases container's log")
        parts[part] = seal_file(seal, name, part, clear, work)
        os.remove(clear)
        print(f"encrypted {part} ({parts[part]['bytes']} bytes)")
    for part, source in ARCHIVES.items():
        begun = time.time()
        parts[part] = seal_archive(seal, name, part, source, work)
        print(f"archived and encrypted {source} into {part} ({parts[part]['bytes']} bytes, {time.time() - begun:.0f} s)")
    facts = seal.sign(manifest(name, started, parts))
    with open(os.path.join(work, backup_store.MANIFEST + ".incomplete"), "w", encoding="utf-8") as file:
        json.dump(facts, file, indent=2, sort_keys=True)
        file.flush()
        os.fsync(file.fileno())
    os.replace(os.path.join(work, backup_store.MANIFEST + ".incomplete"), os.path.join(work, backup_store.MANIFEST))
    store.keep(name, work)
    total = sum(p["bytes"] for p in facts["parts"].values())
    print(
        f"backup {name} complete: {total} bytes in {len(facts['parts'])} encrypted parts, signed with backup key "
        f"{seal.key_id}, {store.describe(name)}"
    )
    for old in store.prune(int(os.environ["BACKUP_KEEP"])):
        print(f"deleted backup {old} (backup.keep is {os.environ['BACKUP_KEEP']})")
    if os.path.isdir(work):
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
