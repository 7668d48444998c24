# Reads back what GeoServer will read from a data directory the chart's start script prepared:
# every XML file it edits parsed by a real XML parser (an edit that breaks a file fails here,
# naming it), the values GeoServer takes from them, the GeoFence properties, and file modes.
# Prints one JSON object.
import glob
import json
import os
import stat
import sys
import xml.etree.ElementTree as ET

data = sys.argv[1]
FILES = {
    "roles": "security/role/geonode REST role service/config.xml",
    "oauth": "security/filter/geonode-oauth2/config.xml",
    "global": "global.xml",
    "logging": "logging.xml",
    "users": "security/usergroup/default/users.xml",
}
out = {"modes": {}}
for key, relative in FILES.items():
    path = os.path.join(data, relative)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        sys.exit("{}: {}".format(relative, error))
    if key == "users":
        users = [e for e in root.iter() if e.tag.endswith("}user") or e.tag == "user"]
        out[key] = {u.get("name"): u.get("password") for u in users}
    elif key == "global":
        out[key] = {e.tag: (e.text or "") for e in root.find("settings")}
        out["locks"] = {"global.xml": root.findtext("lockProviderName")}
    else:
        out[key] = {}
        for element in root:
            out[key].setdefault(element.tag, []).append(element.text or "")
    out["modes"][relative] = oct(stat.S_IMODE(os.stat(path).st_mode))


def java_property(value):
    """A value as java.util.Properties.load reads it: leading blanks dropped, escapes undone."""
    value = value.lstrip(" \t\f")
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            n = value[i + 1]
            if n == "u":
                out.append(chr(int(value[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append({"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(n, n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


geofence = "geofence/geofence-datasource-ovr.properties"
try:
    out["locks"]["gwc-gs.xml"] = ET.parse(os.path.join(data, "gwc-gs.xml")).getroot().findtext("lockProviderName")
except (OSError, ET.ParseError) as error:
    sys.exit("gwc-gs.xml: {}".format(error))
# What an edit left behind: temporary files beside the files start.sh edits (its mktemp names
# are the file's name, a dot and six characters; older scripts used .tmp).
edited = list(FILES.values()) + [
    "gwc-gs.xml",
    "geofence/geofence-datasource-ovr.properties",
    "security/auth/geonodeAuthProvider/config.xml",
] + glob.glob("workspaces/geonode/*/datastore.xml", root_dir=data)
out["leftovers"] = sorted(
    os.path.relpath(p, data)
    for relative in edited
    for p in glob.glob(glob.escape(os.path.join(data, relative)) + ".*")
    if p.endswith(".tmp") or len(p.rsplit(".", 1)[1]) == 6
)
out["geofence"] = {}
with open(os.path.join(data, geofence)) as f:
    for line in f:
        if "=" in line and not line.startswith("#"):
            k, v = line.rstrip("\n").split("=", 1)
            out["geofence"][k] = java_property(v)
out["modes"][geofence] = oct(stat.S_IMODE(os.stat(os.path.join(data, geofence)).st_mode))
# GeoNode's PostGIS stores (the contract puts one there): connection parameter -> its values.
out["stores"] = {}
for relative in sorted(glob.glob("workspaces/geonode/*/datastore.xml", root_dir=data)):
    path = os.path.join(data, relative)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        sys.exit("{}: {}".format(relative, error))
    entries = {}
    for entry in root.iter("entry"):
        entries.setdefault(entry.get("key"), []).append(entry.text or "")
    out["stores"][relative] = entries
    out["modes"][relative] = oct(stat.S_IMODE(os.stat(path).st_mode))
print(json.dumps(out))
