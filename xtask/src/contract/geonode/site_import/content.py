"""The source site's content, made with GeoNode's own API in the source's settings (no HTTP, no
GeoServer): users with passwords, a group, a private document shared with one user, a public one
carrying a keyword of a thesaurus loaded from upstream's RDF (tests/upstream/geonode-data), a map,
each document's file kept as an asset, a thumbnail among the uploads. argv: the RDF file, the
document's file, the thumbnail's image. Prints what it made as JSON."""

import json
import sys

from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands

from geonode.base.models import Thesaurus, ThesaurusKeyword
from geonode.documents.models import Document
from geonode.groups.models import GroupProfile
from geonode.maps.models import Map

try:  # GeoNode 5: a resource manager per type
    from geonode.resource.registry import document_manager, map_manager
except ImportError:  # GeoNode 4.4: one for all
    from geonode.resource.manager import resource_manager as document_manager

    map_manager = document_manager

rdf, document_file, thumbnail = sys.argv[1:4]  # the document's file alone in a folder (an upload's)
USERS = {"alice": "alice's old password", "bob": "bob's old password", "carol": "carol's old password"}
FULL = ["view_resourcebase", "download_resourcebase", "change_resourcebase", "change_resourcebase_metadata",
        "delete_resourcebase", "change_resourcebase_permissions", "publish_resourcebase"]

users = {name: get_user_model().objects.create_user(name, f"{name}@old-maps.example.org", password)
         for name, password in USERS.items()}
group = GroupProfile.objects.create(title="Old site mappers", slug="old-site-mappers")
group.join(users["alice"], role="manager")
group.join(users["bob"])

if "thesaurus" in get_commands():  # GeoNode 5
    call_command("thesaurus", "load", "--file", rdf, "--identifier", "inspire-themes")
else:  # GeoNode 4.4
    call_command("load_thesaurus", "--file", rdf, "--name", "inspire-themes")
keyword = ThesaurusKeyword.objects.get(thesaurus=Thesaurus.objects.get(identifier="inspire-themes"),
                                       about="http://inspire.ec.europa.eu/theme/ad")


def document(title, owner):
    made = document_manager.create(None, resource_type=Document,
                                   defaults={"owner": owner, "title": title, "files": [document_file]})
    document = Document.objects.get(pk=made.pk)
    document.set_default_permissions(owner=owner, created=True)  # as an upload's: public
    return document


public = document("Old site public report", users["alice"])
public.tkeywords.add(keyword)
public.keywords.add("old-site-roads")
with open(thumbnail, "rb") as image:
    public.save_thumbnail("old-site-public-report.png", image.read())
private = document("Old site private report", users["alice"])
document_manager.set_permissions(private.uuid, instance=private, permissions={
    "users": {"alice": FULL, "bob": ["view_resourcebase", "download_resourcebase"]}, "groups": {}})
site_map = map_manager.create(None, resource_type=Map, defaults={"owner": users["bob"], "title": "Old site map"})
site_map.set_default_permissions(owner=users["bob"], created=True)

print(json.dumps({"users": USERS, "group": group.slug, "keyword": keyword.about,
                  "documents": {"public": public.pk, "private": private.pk}, "map": site_map.pk}))
