"""Restore a backup before the init Job's own steps (backup.restore), in GeoNode's image.

`prepare` (first): finds the backup (backup.restore.from: a name, or latest), refuses one without a
manifest or with a part whose size or sha256 differs from it, refuses a site that already has
content unless backup.restore.overwrite, and writes the plan for the containers after it (the
databases are restored by restore-databases.sh in PostgreSQL's image).
`files` (last): puts the GeoServer data directory and the uploads back, the files they replace
moved aside (never deleted), then records the restore. A restore is done once per value of
backup.restore.from: later init Jobs with the same value skip it.
"""

import inspect
import json
import os
import sys
import tarfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backup_store  # noqa: E402 - beside this script in the ConfigMap

DATA_DIR = os.environ.get("BACKUP_GEOSERVER_DATA", "/geoserver_data/data")
UPLOADS = os.environ.get("BACKUP_UPLOADS", "/mnt/volumes/statics/uploaded")
# On the statics volume: which backup.restore.from was restored, and when.
RECORD = os.environ.get("BACKUP_RESTORE_RECORD", "/mnt/volumes/statics/.geonode-k8s-restored.json")
REQUESTED = os.environ.get("BACKUP_RESTORE_FROM", "")


def plan_path():
    return os.path.join(os.environ["BACKUP_SCRATCH"], "restore-plan.json")


def already_restored():
    try:
        with open(RECORD, encoding="utf-8") as file:
            record = json.load(file)
    except FileNotFoundError:
        return None
    return record if record.get("requested") == REQUESTED else None


def verify(folder, manifest):
    """Every part of the manifest is in the folder with its size and sha256."""
    for part, facts in sorted(manifest["parts"].items()):
        path = os.path.join(folder, part)
        if not os.path.isfile(path):
            return f"part {part} is missing"
        if os.path.getsize(path) != facts["bytes"] or backup_store.sha256(path) != facts["sha256"]:
            return f"part {part} differs from its manifest (size or sha256): the backup is damaged"
    return None


def site_content():
    """What a restore would replace: resources, users but the admin, uploaded files."""
    import psycopg2  # GeoNode's image has it (Django's PostgreSQL driver)

    found = []
    with psycopg2.connect(
        host=os.environ["DATABASE_HOST"],
        port=os.environ["DATABASE_PORT"],
        dbname=os.environ["GEONODE_DATABASE"],
        user=os.environ["GEONODE_DATABASE_USER"],
        password=os.environ["GEONODE_DATABASE_PASSWORD"],
        connect_timeout=30,
    ) as connection, connection.cursor() as cursor:
        cursor.execute("select to_regclass('public.base_resourcebase'), to_regclass('public.people_profile')")
        resources, people = cursor.fetchone()
        if resources:
            cursor.execute("select count(*) from base_resourcebase")
            count = cursor.fetchone()[0]
            if count:
                found.append(f"{count} datasets, documents or maps")
        if people:
            cursor.execute(
                "select count(*) from people_profile where username not in ('AnonymousUser', %s)",
                (os.environ.get("ADMIN_USERNAME", "admin"),),
            )
            count = cursor.fetchone()[0]
            if count:
                found.append(f"{count} users besides the administrator")
    if os.path.isdir(UPLOADS) and any(files for _, _, files in os.walk(UPLOADS)):
        found.append(f"uploaded files in {UPLOADS}")
    return found


def prepare():
    plan = {"restore": False}
    record = already_restored()
    if record:
        print(f"backup.restore.from {REQUESTED!r}: backup {record['backup']} was restored at {record['at']}; nothing to do")
    else:
        store = backup_store.open_store()
        complete = store.complete()
        name = complete[-1] if REQUESTED == "latest" and complete else REQUESTED
        manifest = store.manifest(name) if name else None
        if manifest is None:
            sys.exit(
                f"backup.restore.from is {REQUESTED!r}, but there is no complete backup of that name "
                f"({store.describe(name or '<none>')}); complete backups: {', '.join(complete) or 'none'}"
            )
        content = site_content()
        if content and os.environ.get("BACKUP_RESTORE_OVERWRITE") != "true":
            sys.exit(
                f"the site has content ({'; '.join(content)}): restoring backup {name} would replace it. "
                "Set backup.restore.overwrite: true to do so (the replaced files are kept aside), "
                "or restore into a new release"
            )
        folder = store.fetch(name, os.environ["BACKUP_SCRATCH"])
        problem = verify(folder, manifest)
        if problem:
            sys.exit(f"backup {name} ({store.describe(name)}) is refused: {problem}")
        plan = {"restore": True, "backup": name, "folder": folder, "manifest": manifest}
        print(f"restoring backup {name} ({store.describe(name)}), taken by {manifest['chart']} with GeoNode {manifest['geonode']}")
    with open(plan_path(), "w", encoding="utf-8") as file:
        json.dump(plan, file)
    # For restore-databases.sh (no JSON in PostgreSQL's image): the folder of the dumps, if any.
    if plan["restore"]:
        with open(os.path.join(os.environ["BACKUP_SCRATCH"], "restore-folder"), "w", encoding="utf-8") as file:
            file.write(plan["folder"] + "\n")


def inside(tar, target, archive):
    """The archive's members, if every one (and every link's target) stays inside the target."""
    root = os.path.realpath(target)

    def within(path):
        path = os.path.realpath(path)
        return path == root or path.startswith(root + os.sep)

    members = tar.getmembers()
    for member in members:
        path = os.path.join(root, member.name)
        link = member.linkname and (
            os.path.join(root, member.linkname) if member.islnk() else os.path.join(os.path.dirname(path), member.linkname)
        )
        if not within(path) or (link and not within(link)) or member.isdev():
            sys.exit(f"{archive}: {member.name} would land outside {target}; the backup is refused")
    return members


def put_back(archive, target, stamp):
    """Moves the target's entries aside into .geonode-k8s-replaced-<stamp>/ and unpacks."""
    os.makedirs(target, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        members = inside(tar, target, archive)  # checked before anything is moved
        aside = os.path.join(target, f".geonode-k8s-replaced-{stamp}")
        entries = [e for e in os.listdir(target) if not e.startswith(".geonode-k8s-replaced-")]
        if entries:
            os.makedirs(aside, exist_ok=True)
            for entry in entries:
                os.replace(os.path.join(target, entry), os.path.join(aside, entry))
            print(f"moved what was in {target} aside into {aside}")
        if "filter" in inspect.signature(tar.extractall).parameters:
            tar.extractall(target, members=members, filter="data")
        else:  # Python before 3.11.4: the check above is the whole guard
            tar.extractall(target, members=members)


def files():
    with open(plan_path(), encoding="utf-8") as file:
        plan = json.load(file)
    if not plan["restore"]:
        return
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    put_back(os.path.join(plan["folder"], "geoserver-data.tar.gz"), DATA_DIR, stamp)
    put_back(os.path.join(plan["folder"], "uploads.tar.gz"), UPLOADS, stamp)
    with open(RECORD + ".incomplete", "w", encoding="utf-8") as file:
        json.dump({"requested": REQUESTED, "backup": plan["backup"], "at": stamp}, file)
    os.replace(RECORD + ".incomplete", RECORD)
    print(f"restored backup {plan['backup']}: both databases, the GeoServer data directory and the uploads")


if __name__ == "__main__":
    {"prepare": prepare, "files": files}[sys.argv[1]]()
