"""What a site shows of the content content.py made, through GeoNode's API and login, in the
settings it runs with (the source's or the chart's): who logs in with which password, which
documents and maps each user and anonymous see, the group's members, the keywords, the files
behind each asset and thumbnail with their sha256, and the addresses GeoNode keeps of itself.
argv: the JSON content.py printed, the admin's password. Prints JSON."""

import hashlib
import json
import os
import sys
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.sites.models import Site
from django.test import Client
from oauth2_provider.models import get_application_model

import geonode
from geonode.assets.models import LocalAsset
from geonode.base.models import ResourceBase
from geonode.groups.models import GroupProfile

made, admin_password = json.loads(sys.argv[1]), sys.argv[2]
host = urlparse(settings.SITEURL).hostname


def sha256(path):
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def titles(client, kind):
    page = client.get(f"/api/v2/{kind}/", {"page_size": 100})
    return sorted(r["title"] for r in page.json()[kind]) if page.status_code == 200 else page.status_code


seen, logins = {}, {}
for name, password in [("anonymous", None)] + sorted(made["users"].items()) + [("admin", admin_password)]:
    client = Client(HTTP_HOST=host)
    if password is not None:
        logins[name] = client.login(username=name, password=password)
    seen[name] = {kind: titles(client, kind) for kind in ("documents", "maps")}

files = {}
assets_root = os.path.join(os.path.normpath(settings.ASSETS_ROOT), "")
for asset in LocalAsset.objects.order_by("pk"):
    for path in asset.location:
        key = "assets/" + (path[len(assets_root):] if path.startswith(assets_root) else "OUTSIDE " + path)
        files[key] = sha256(path) if os.path.isfile(path) else "missing"
stored = {}
for resource in ResourceBase.objects.order_by("pk"):
    url = resource.thumbnail_url or ""
    stored[resource.title] = {"thumbnail_url": url,
                              "keywords": sorted(k.name for k in resource.keywords.all()),
                              "tkeywords": sorted(k.about for k in resource.tkeywords.all())}
    if "/uploaded/" in url:
        relative = url.split("/uploaded/", 1)[1]
        path = os.path.join(settings.MEDIA_ROOT, relative)
        files["uploaded/" + relative] = sha256(path) if os.path.isfile(path) else "missing"

group = GroupProfile.objects.get(slug=made["group"])
application = get_application_model().objects.filter(name="GeoServer").first()
print(json.dumps({
    "geonode": geonode.get_version(),
    "logins": logins,
    "seen": seen,
    "group": sorted(f"{m.user.username} ({m.role})" for m in group.member_queryset()),
    "resources": stored,
    "files": files,
    "site": {"siteurl": settings.SITEURL, "domain": Site.objects.get_current().domain,
             "geoserver_redirect": application.redirect_uris if application else None},
}))
