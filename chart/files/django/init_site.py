"""One-time and upgrade-time work of a GeoNode site, run by the chart's init Job.

It does what the image's entrypoint does at every start, once per release change instead of in
every replica: wait for both databases, migrate them, load the first-run fixtures (only when the
site has no admin yet, so nothing a user changed is reset), load GeoNode's thesauri, keep the
site domain, GeoServer's OAuth2 application and the upload limits in line with the chart's
values, and collect the static files. Whatever moment the Job dies at, the admin never keeps the
fixture's well-known password. Nothing secret is printed.
"""

import json
import os
import sys
import time
from urllib.parse import urlparse

import django
from django.core.management import call_command

TIMEOUT_SECONDS = int(os.environ.get("INIT_WAIT_TIMEOUT_SECONDS", "900"))


def log(message):
    print("geonode-init: " + message, flush=True)


def wait_for_databases():
    from django.db import connections

    deadline = time.monotonic() + TIMEOUT_SECONDS
    for alias in ("default", "datastore"):
        while True:
            try:
                connections[alias].ensure_connection()
                log("database {} is reachable".format(alias))
                break
            except Exception as error:  # any driver error means: not there yet
                if time.monotonic() > deadline:
                    sys.exit("geonode-init: database {} unreachable after {} s: {}".format(alias, TIMEOUT_SECONDS, error))
                log("waiting for database {}: {}".format(alias, str(error).strip().splitlines()[0]))
                time.sleep(5)


def first_run(admin_model):
    """Fixtures that seed a new site: the admin user and GeoNode's initial data. One transaction:
    a Job that dies half-way leaves no admin (so the next run starts over), never an admin with
    the fixture's password."""
    from django.db import transaction

    log("new site: loading the admin user and the initial data")
    with transaction.atomic():
        call_command("loaddata", "sample_admin", verbosity=0)
        call_command("loaddata", "initial_data", verbosity=0)
        for fixture in json.loads(os.environ.get("GEONODE_K8S_SITE_FIXTURES", "[]")):
            log("new site: loading the site's fixture {}".format(fixture))
            call_command("loaddata", fixture, verbosity=0)
        admin = admin_model.objects.get(username="admin")
        admin.set_password(os.environ["ADMIN_PASSWORD"])
        admin.email = os.environ.get("ADMIN_EMAIL", "")
        admin.is_staff = admin.is_superuser = True
        admin.save()


def fixture_password_hashes():
    """The password hashes GeoNode's sample_admin fixture gives (the password "admin")."""
    from django.apps import apps

    hashes = set()
    for app in apps.get_app_configs():
        path = os.path.join(app.path, "fixtures", "sample_admin.json")
        if os.path.isfile(path):
            with open(path) as fixture:
                hashes.update(o["fields"]["password"] for o in json.load(fixture) if o.get("fields", {}).get("password"))
    return hashes


def secure_admin(admin_model):
    """An admin still holding the fixture's password (left by a setup that died before setting
    the chart's) gets the chart's password; any other is the user's."""
    admin = admin_model.objects.filter(username="admin").first()
    if admin and (admin.password in fixture_password_hashes() or admin.check_password("admin")):
        admin.set_password(os.environ["ADMIN_PASSWORD"])
        admin.save(update_fields=["password"])
        log("admin held the fixture's well-known password: set to the chart's")


def load_thesauri():
    """GeoNode's own thesauri, as upstream's entrypoint loads them at every start (`thesaurus
    autoload`, which updates in place): the metadata editor takes its labels from labels-i18n.
    autoload only logs a file it cannot load, so the labels are checked here."""
    from geonode.base.i18n import I18N_THESAURUS_IDENTIFIER
    from geonode.base.models import Thesaurus

    log("loading GeoNode's thesauri")
    call_command("thesaurus", "autoload")
    if not Thesaurus.objects.filter(identifier=I18N_THESAURUS_IDENTIFIER).exists():
        sys.exit("geonode-init: thesaurus autoload did not load {} (its log above says why)".format(I18N_THESAURUS_IDENTIFIER))


def sync_upload_limits(limit):
    """GeoNode stores its upload limits at the first migrate; they follow nginx.maxBodySize
    (DEFAULT_MAX_UPLOAD_SIZE), so GeoNode accepts what nginx lets through, no more."""
    from geonode.upload.models import UploadSizeLimit

    changed = UploadSizeLimit.objects.exclude(max_size=limit).update(max_size=limit)
    if changed:
        log("{} upload limits set to {} bytes".format(changed, limit))


def sync_site(host):
    from django.contrib.sites.models import Site

    site, created = Site.objects.get_or_create(pk=1, defaults={"domain": host, "name": host})
    if not created and site.domain != host:
        site.domain = host
        site.save(update_fields=["domain"])
        log("site domain set to {}".format(host))


def sync_oauth_application(admin_model, site_url):
    """GeoServer rewrites its side of the OAuth2 login at every start; this keeps GeoNode's side
    (client id, secret, redirect URI) equal to the same chart values."""
    from oauth2_provider.models import get_application_model

    application_model = get_application_model()
    name = os.environ.get("OAUTH2_DEFAULT_BACKEND_CLIENT_NAME", "GeoServer")
    fields = {
        "client_id": os.environ["OAUTH2_CLIENT_ID"],
        "client_secret": os.environ["OAUTH2_CLIENT_SECRET"],
        "redirect_uris": site_url + "geoserver/index.html",
        "client_type": "confidential",
        "authorization_grant_type": "authorization-code",
        "skip_authorization": True,
        "user": admin_model.objects.filter(username="admin").first(),
    }
    if any(f.name == "algorithm" for f in application_model._meta.get_fields()):
        fields["algorithm"] = "RS256"
    application, created = application_model.objects.get_or_create(name=name, defaults=fields)
    if not created:
        for key, value in fields.items():
            setattr(application, key, value)
        application.save()
    log("OAuth2 application {} {}".format(name, "created" if created else "brought in line with the chart"))


def adapt_imported_site(site_url):
    """A site imported from another GeoNode (backup.restore.kind: export) names its old address in
    the links, thumbnails, metadata and OAuth2 redirect URIs GeoNode stored, and its old assets
    folder in each asset's location: once, after the migrations, GeoNode's own migrate_baseurl
    moves the first to this release's siteUrl and the locations are moved to ASSETS_ROOT. The
    restore's record (restore.py) says what the old site was, and then that it is done."""
    from django.conf import settings

    path = os.environ.get("GEONODE_K8S_RESTORE_RECORD", "")
    if not path or not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as file:
        record = json.load(file)
    if record.get("kind") != "export" or record.get("adapted"):
        return
    source = record["source"]
    old, new = source["siteurl"].rstrip("/"), site_url.rstrip("/")
    if old != new:
        log("imported site: moving GeoNode's stored addresses from {} to {}".format(old, new))
        call_command("migrate_baseurl", "--source-address=" + old, "--target-address=" + new, "--force")
    moved = move_asset_locations(os.path.join(os.path.normpath(source["assets_root"]), ""),
                                 os.path.join(os.path.normpath(settings.ASSETS_ROOT), ""))
    log("imported site: {} asset locations moved to {}".format(moved, settings.ASSETS_ROOT))
    record["adapted"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with open(path + ".incomplete", "w", encoding="utf-8") as file:
        json.dump(record, file)
    os.replace(path + ".incomplete", path)


def move_asset_locations(old_root, new_root):
    """Each local asset's files, listed by absolute path, from the old ASSETS_ROOT to this one."""
    from geonode.assets.models import LocalAsset

    moved = 0
    if old_root == new_root:
        return moved
    for asset in LocalAsset.objects.all():
        locations = [new_root + p[len(old_root):] if p.startswith(old_root) else p for p in asset.location]
        if locations != asset.location:
            asset.location = locations
            asset.save(update_fields=["location"])
            moved += 1
    return moved


def run_site_commands(variable):
    """The site's own management commands (initJob.commands): [command, arguments...] each."""
    for argv in json.loads(os.environ.get(variable, "[]")):
        log("site command: {}".format(" ".join(argv)))
        call_command(*argv)


def main():
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model

    wait_for_databases()
    log("migrating the GeoNode database")
    call_command("migrate", interactive=False, verbosity=1)
    log("migrating the datastore database")
    call_command("migrate", database="datastore", interactive=False, verbosity=1)
    adapt_imported_site(settings.SITEURL)

    run_site_commands("GEONODE_K8S_COMMANDS_BEFORE_SETUP")
    admin_model = get_user_model()
    if not admin_model.objects.filter(username="admin").exists():
        first_run(admin_model)
    secure_admin(admin_model)
    load_thesauri()
    site_url = settings.SITEURL
    sync_site(urlparse(site_url).hostname)
    sync_oauth_application(admin_model, site_url)
    sync_upload_limits(settings.DEFAULT_MAX_UPLOAD_SIZE)

    for path in (settings.STATIC_ROOT, settings.MEDIA_ROOT, getattr(settings, "ASSETS_ROOT", None)):
        if path:
            os.makedirs(path, exist_ok=True)
    log("collecting static files")
    call_command("collectstatic", interactive=False, verbosity=0)
    log("compressed {} static files for nginx's gzip_static".format(precompress_statics()))
    run_site_commands("GEONODE_K8S_COMMANDS_AFTER_SETUP")
    record_finished(os.environ.get("GEONODE_K8S_INIT_JOB"))
    log("done")


def record_finished(job):
    """This Job's name in GeoNode's database, last: the migrations gate of Django and Celery pods
    (wait_for_migrations.py) lets them start once the Job of their configuration is there."""
    if not job:
        return
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("create table if not exists geonode_k8s_init_jobs (job text primary key, finished timestamptz not null default now())")
        cursor.execute("insert into geonode_k8s_init_jobs (job) values (%s) on conflict (job) do update set finished = now()", [job])
    log("recorded {} as finished".format(job))


# What nginx would gzip on the fly (gzip_types) and what else compresses well.
COMPRESSIBLE = (".js", ".mjs", ".css", ".json", ".map", ".svg", ".html", ".txt", ".xml", ".ttf", ".otf", ".eot", ".ico")


def precompress_statics():
    """A gzip -9 copy beside each compressible collected file (over 1,100 bytes, nginx's
    gzip_min_length) that nginx serves with gzip_static: compressed once here, not for every
    request. It takes its file's time (nginx sends it as Last-Modified); a copy whose time is not
    its file's is made again. Returns how many were written."""
    import gzip
    import shutil

    from django.conf import settings

    written = 0
    for folder, _, names in os.walk(settings.STATIC_ROOT):
        for name in names:
            if not name.endswith(COMPRESSIBLE):
                continue
            path = os.path.join(folder, name)
            stat = os.stat(path)
            target = path + ".gz"
            if stat.st_size <= 1100 or (os.path.exists(target) and os.stat(target).st_mtime == stat.st_mtime):
                continue
            with open(path, "rb") as source, gzip.GzipFile(target + ".tmp", "wb", compresslevel=9, mtime=int(stat.st_mtime)) as out:
                shutil.copyfileobj(source, out)
            os.utime(target + ".tmp", ns=(stat.st_atime_ns, stat.st_mtime_ns))
            os.replace(target + ".tmp", target)
            written += 1
    return written


if __name__ == "__main__":
    main()
