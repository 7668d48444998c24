"""Restore a backup, or import a site exported from another GeoNode, before the init Job's own steps
(backup.restore; backup.restore.kind says which).

`prepare` (first): finds what backup.restore.from names and checks all of it before anything is
changed. A backup (kind backup: a name, or latest) is accepted only if a backup of this site wrote
it: a manifest signed with the release's backup key under the name it was written for, every part
decrypted with that key and matching the manifest's size and sha256. A site export (kind export:
a folder on the backup volume or under the bucket's prefix, site_export.py) must hold every part
and SHA256SUMS, each part matching its sum, dumps in pg_dump's custom format, a site.json naming
a GeoNode this chart can migrate. For both, archives must hold nothing but folders and regular
files inside their folder, and a site that already has content is refused unless
backup.restore.overwrite. The plan, and the folder of the clear parts, are left in the pod's
scratch space for the containers after it (the databases are restored by restore-databases.sh in
PostgreSQL's image).
`files` (last): puts the GeoServer data directory, the uploads and the assets back, the files they
replace moved aside (never deleted), then records the restore (for an export, with the old site's
URL and folders, which the init Job's init_site.py then adapts to this release). A restore is
done once per value of backup.restore.from: later init Jobs with the same value skip it.
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
import site_export  # noqa: E402

DATA_DIR = os.environ.get("BACKUP_GEOSERVER_DATA", "/geoserver_data/data")
UPLOADS = os.environ.get("BACKUP_UPLOADS", "/mnt/volumes/statics/uploaded")
ASSETS = os.environ.get("BACKUP_ASSETS", "/mnt/volumes/statics/assets")
# On the statics volume: which backup.restore.from was restored, and when.
RECORD = os.environ.get("BACKUP_RESTORE_RECORD", "/mnt/volumes/statics/.geonode-k8s-restored.json")
REQUESTED = os.environ.get("BACKUP_RESTORE_FROM", "")
KIND = os.environ.get("BACKUP_RESTORE_KIND", "backup")
# Where each archive goes. Backups before format 3 have no assets.tar.gz: the assets stay.
ARCHIVES = {"geoserver-data.tar.gz": DATA_DIR, "uploads.tar.gz": UPLOADS, "assets.tar.gz": ASSETS}
DUMPS = ["geonode.dump", "geodata.dump"]
ASIDE = ".geonode-k8s-replaced-"


def scratch(*names):
    return os.path.join(os.environ["BACKUP_SCRATCH"], *names)


def already_restored():
    try:
        with open(RECORD, encoding="utf-8") as file:
            record = json.load(file)
    except FileNotFoundError:
        return None
    same = record.get("requested") == REQUESTED and record.get("kind", "backup") == KIND
    return record if same else None


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
        name = member.name.removeprefix("./")  # tar -C <folder> . names them so
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
        print(f"backup.restore.from {REQUESTED!r}: {record['backup']} was restored at {record['at']}; nothing to do")
    else:
        plan = plan_export() if KIND == "export" else plan_backup()
    with open(scratch("restore-plan.json"), "w", encoding="utf-8") as file:
        json.dump(plan, file)
    # For restore-databases.sh (no JSON in PostgreSQL's image): the folder of the dumps, if any;
    # none left from an earlier run in the same scratch space when nothing is to be restored.
    if plan["restore"]:
        with open(scratch("restore-folder"), "w", encoding="utf-8") as file:
            file.write(plan["folder"] + "\n")
    elif os.path.exists(scratch("restore-folder")):
        os.remove(scratch("restore-folder"))


def refuse_content(what):
    """Stops before a restore that would replace a site's content, unless overwrite is asked."""
    content = site_content()
    if content and os.environ.get("BACKUP_RESTORE_OVERWRITE") != "true":
        sys.exit(
            f"the site has content ({'; '.join(content)}): restoring {what} would replace it. "
            "Set backup.restore.overwrite: true to do so (the replaced files are kept aside), "
            "or restore into a new release"
        )


def archive_problem(folder, archives):
    """The first archive holding something a restore must not unpack, with the reason."""
    for part in archives:
        with tarfile.open(os.path.join(folder, part), "r:gz") as tar:
            _, problem = members(tar)
        if problem:
            return f"{part}: {problem}"
    return None


def plan_backup():
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
    refuse_content(f"backup {name}")
    stored_parts = manifest.get("parts") if isinstance(manifest.get("parts"), dict) else {}
    archives = [a for a in ARCHIVES if a != "assets.tar.gz" or backup_seal.sealed_name(a) in stored_parts]
    parts = DUMPS + archives
    stored = store.fetch(name, [backup_seal.sealed_name(p) for p in parts], scratch())
    try:
        backup_seal.open_backup(seal, stored, name, manifest, parts, scratch("restore"), consume=stored.startswith(scratch()))
    except backup_seal.SealError as error:
        refuse(error)
    problem = archive_problem(scratch("restore"), archives)
    if problem:
        refuse(problem)
    print(
        f"restoring backup {name} ({store.describe(name)}), taken by {manifest['chart']} with GeoNode "
        f"{manifest['geonode']}: signature (backup key {seal.key_id}) and every part checked"
    )
    return {"restore": True, "kind": "backup", "backup": name, "folder": scratch("restore"), "archives": archives, "clear": True}


def plan_export():
    name = REQUESTED
    if not site_export.is_export_name(name) or name == "latest" or backup_store.is_backup_name(name):
        sys.exit(
            f"backup.restore.from is {name!r}: with backup.restore.kind export, name the folder (on the backup "
            "volume, or under backup.target.s3.prefix) that holds the site's export: letters, digits, '.', '_', '-', "
            "and not a backup's name (the backups' pruning takes folders named like 20261127T021700Z for its own)"
        )
    store = backup_store.open_store()
    found = store.files(name)
    if not found:
        sys.exit(
            f"backup.restore.from is {name!r}, but there is no such site export ({store.describe(name)} holds no "
            "files): copy the export there as docs/migrate-from-docker-compose.md says"
        )

    def refuse(problem):
        shutil.rmtree(scratch("restore"), ignore_errors=True)
        sys.exit(f"site export {name} ({store.describe(name)}) is refused: {problem}")

    try:
        site_export.check_listing(found)
        refuse_content(f"site export {name}")
        folder = store.fetch(name, site_export.PARTS + [site_export.SUMS], scratch("restore"))
        with open(os.path.join(folder, site_export.SUMS), encoding="utf-8", errors="replace") as file:
            sums = site_export.read_sums(file.read())
        for part in site_export.PARTS:
            site_export.check_part(part, os.path.join(folder, part), sums[part])
        site = site_export.read_site(os.path.join(folder, site_export.SITE), os.environ["BACKUP_GEONODE_VERSION"])
        problem = archive_problem(folder, site_export.ARCHIVES)
    except site_export.ExportError as error:
        refuse(error)
    except (OSError, tarfile.TarError, EOFError) as error:
        refuse(f"an archive cannot be read ({error}): was it made with tar -czf as the docs say?")
    if problem:
        refuse(problem)
    print(
        f"importing site export {name} ({store.describe(name)}): GeoNode {site['geonode']} at {site['siteurl']}; "
        "every part matches SHA256SUMS"
    )
    return {
        "restore": True,
        "kind": "export",
        "backup": name,
        "folder": folder,
        "archives": site_export.ARCHIVES,
        # Downloaded copies are the pod's own, and removed after; a folder on the volume stays.
        "clear": folder.startswith(scratch()),
        "source": site,
    }


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
    for part in plan["archives"]:
        put_back(os.path.join(plan["folder"], part), ARCHIVES[part], stamp)
    if plan["clear"]:
        shutil.rmtree(plan["folder"])
    record = {"requested": REQUESTED, "kind": plan["kind"], "backup": plan["backup"], "at": stamp}
    if plan["kind"] == "export":
        record["source"] = plan["source"]  # for init_site.py, which adapts it to this release
        old, new = plan["source"]["datastore"], os.environ["GEONODE_GEODATABASE"]
        if old != new:
            stores = site_export.repoint_stores(DATA_DIR, old, new)
            print(f"GeoServer stores on database {old} moved to {new}: {', '.join(stores) or 'none'}")
    with open(RECORD + ".incomplete", "w", encoding="utf-8") as file:
        json.dump(record, file)
    os.replace(RECORD + ".incomplete", RECORD)
    what = "site export" if plan["kind"] == "export" else "backup"
    print(f"restored {what} {plan['backup']}: both databases and {', '.join(plan['archives'])}")


if __name__ == "__main__":
    {"prepare": prepare, "files": files}[sys.argv[1]]()
