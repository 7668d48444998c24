"""Restore a backup before the init Job's own steps (backup.restore), in GeoNode's image.

`prepare` (first): finds the backup (backup.restore.from: a name, or latest) and accepts only what
a backup of this site wrote: a manifest signed with the release's backup key under the name it
was written for, every part decrypted with that key and matching the manifest's size and sha256,
archives holding nothing but folders and regular files inside their folder. It refuses a site
that already has content unless backup.restore.overwrite, and leaves the decrypted parts in the
pod's scratch space for the containers after it (the databases are restored by
restore-databases.sh in PostgreSQL's image) — all before anything is changed.
`files` (last): puts the GeoServer data directory and the uploads back, the files they replace
moved aside (never deleted), then records the restore. A restore is done once per value of
backup.restore.from: later init Jobs with the same value skip it.
"""

import inspect
import json
import os
import shutil
import sys
import tarfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backup_seal  # noqa: E402 - beside this script in the ConfigMap
import backup_store  # noqa: E402

DATA_DIR = os.environ.get("BACKUP_GEOSERVER_DATA", "/geoserver_data/data")
UPLOADS = os.environ.get("BACKUP_UPLOADS", "/mnt/volumes/statics/uploaded")
# On the statics volume: which backup.restore.from was restored, and when.
RECORD = os.environ.get("BACKUP_RESTORE_RECORD", "/mnt/volumes/statics/.geonode-k8s-restored.json")
REQUESTED = os.environ.get("BACKUP_RESTORE_FROM", "")
ARCHIVES = {"geoserver-data.tar.gz": DATA_DIR, "uploads.tar.gz": UPLOADS}
PARTS = ["geonode.dump", "geodata.dump"] + list(ARCHIVES)
ASIDE = ".geonode-k8s-replaced-"


def scratch(*names):
    return os.path.join(os.environ["BACKUP_SCRATCH"], *names)


def already_restored():
    try:
        with open(RECORD, encoding="utf-8") as file:
            record = json.load(file)
    except FileNotFoundError:
        return None
    return record if record.get("requested") == REQUESTED else None


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


def members(tar):
    """The open archive's members, if each is a folder or a regular file with a relative name that
    stays inside the folder it is unpacked into; else the reason it is refused. Checked by name
    alone, on every Python: no link is accepted, so no member can lead another elsewhere."""
    found = tar.getmembers()
    for member in found:
        name = member.name
        if not (member.isdir() or member.isreg()):
            return None, f"{name} is a {'link' if member.issym() or member.islnk() else 'special file'}"
        if name.startswith("/") or ".." in name.split("/"):
            return None, f"{name} is not a relative path inside its folder"
        if name.startswith(ASIDE):
            return None, f"{name} would land among the files a restore keeps aside"
    return found, None


def prepare():
    plan = {"restore": False}
    record = already_restored()
    if record:
        print(f"backup.restore.from {REQUESTED!r}: backup {record['backup']} was restored at {record['at']}; nothing to do")
    else:
        plan = plan_restore()
    with open(scratch("restore-plan.json"), "w", encoding="utf-8") as file:
        json.dump(plan, file)
    # For restore-databases.sh (no JSON in PostgreSQL's image): the folder of the dumps, if any.
    if plan["restore"]:
        with open(scratch("restore-folder"), "w", encoding="utf-8") as file:
            file.write(plan["folder"] + "\n")


def plan_restore():
    if REQUESTED != "latest" and not backup_store.is_backup_name(REQUESTED):
        sys.exit(f"backup.restore.from is {REQUESTED!r}: name a backup (the UTC time it began, e.g. 20261127T021700Z) or latest")
    seal = backup_seal.Seal.from_file()
    store = backup_store.open_store()
    complete = store.complete()
    name = complete[-1] if REQUESTED == "latest" and complete else REQUESTED

    def refuse(problem):
        shutil.rmtree(scratch("restore"), ignore_errors=True)
        sys.exit(f"backup {name} ({store.describe(name)}) is refused: {problem}")

    try:
        manifest = store.manifest(name) if backup_store.is_backup_name(name) else None
    except ValueError:
        refuse("its manifest is not JSON")
    if manifest is None:
        sys.exit(
            f"backup.restore.from is {REQUESTED!r}, but there is no complete backup of that name "
            f"({store.describe(name or '<none>')}); complete backups: {', '.join(complete) or 'none'}"
        )
    try:
        seal.verify(manifest, name)
    except backup_seal.SealError as error:
        refuse(error)
    content = site_content()
    if content and os.environ.get("BACKUP_RESTORE_OVERWRITE") != "true":
        sys.exit(
            f"the site has content ({'; '.join(content)}): restoring backup {name} would replace it. "
            "Set backup.restore.overwrite: true to do so (the replaced files are kept aside), "
            "or restore into a new release"
        )
    stored = store.fetch(name, [backup_seal.sealed_name(p) for p in PARTS], scratch())
    try:
        backup_seal.open_backup(seal, stored, name, manifest, PARTS, scratch("restore"), consume=stored.startswith(scratch()))
    except backup_seal.SealError as error:
        refuse(error)
    for part in ARCHIVES:
        with tarfile.open(scratch("restore", part), "r:gz") as tar:
            _, problem = members(tar)
        if problem:
            refuse(f"{part}: {problem}")
    print(
        f"restoring backup {name} ({store.describe(name)}), taken by {manifest['chart']} with GeoNode "
        f"{manifest['geonode']}: signature (backup key {seal.key_id}) and every part checked"
    )
    return {"restore": True, "backup": name, "folder": scratch("restore")}


def put_back(archive, target, stamp):
    """Moves the target's entries aside into .geonode-k8s-replaced-<stamp>/ and unpacks."""
    with tarfile.open(archive, "r:gz") as tar:
        found, problem = members(tar)
        if problem:  # prepare checked it; the scratch space is the pod's own
            sys.exit(f"{archive}: {problem}; the backup is refused")
        os.makedirs(target, exist_ok=True)
        aside = os.path.join(target, ASIDE + stamp)
        entries = [e for e in os.listdir(target) if not e.startswith(ASIDE)]
        if entries:
            os.makedirs(aside, exist_ok=True)
            for entry in entries:
                os.replace(os.path.join(target, entry), os.path.join(aside, entry))
            print(f"moved what was in {target} aside into {aside}")
        if "filter" in inspect.signature(tar.extractall).parameters:
            tar.extractall(target, members=found, filter="data")  # and Python's own checks
        else:  # Python before 3.11.4 (Debian 12's 3.11.2): members() is the guard
            for member in found:
                member.mode &= 0o755
            tar.extractall(target, members=found)


def files():
    with open(scratch("restore-plan.json"), encoding="utf-8") as file:
        plan = json.load(file)
    if not plan["restore"]:
        return
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for part, target in ARCHIVES.items():
        put_back(os.path.join(plan["folder"], part), target, stamp)
    shutil.rmtree(plan["folder"])
    with open(RECORD + ".incomplete", "w", encoding="utf-8") as file:
        json.dump({"requested": REQUESTED, "backup": plan["backup"], "at": stamp}, file)
    os.replace(RECORD + ".incomplete", RECORD)
    print(f"restored backup {plan['backup']}: both databases, the GeoServer data directory and the uploads")


if __name__ == "__main__":
    {"prepare": prepare, "files": files}[sys.argv[1]]()
