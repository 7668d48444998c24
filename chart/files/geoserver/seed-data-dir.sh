#!/bin/sh
# Fills an empty GeoServer data directory, once, from GeoNode's data-directory skeleton: the zip
# the geonode/geoserver image carries (its top folder is data/), or a folder copied from a
# geonode/geoserver_data image. Kubernetes does not copy image content into a new volume the way
# Docker does, so this init container does, and a seed either ends complete or is not marked done:
#  - one seeder at a time: a flock on a file in the volume (several GeoServers on RWX storage);
#    the kernel or the file server releases it when its holder dies;
#  - the skeleton is unpacked into a staging folder inside the volume, flushed, and marked
#    complete; only then is each top-level entry renamed into place (a rename on one filesystem:
#    an entry is wholly in place or wholly still staged, so a killed move resumes);
#  - the done marker is written and flushed last.
# A data directory that already holds data without the marker (an existing claim) is adopted
# unchanged; what a seed of chart 0.1.0 left half-copied is moved aside, never deleted.
set -eu
target=${TARGET_DIR:-/mnt/geoserver-data}
source=${SEED_SOURCE:?SEED_SOURCE names the skeleton zip or folder}
done_marker="$target/.geonode-k8s-seeded"
stage="$target/.geonode-k8s-seed"
lock="$target/.geonode-k8s-seed.lock"
old_busy_marker="$target/.geonode-k8s-seeding"   # chart 0.1.0: its cp -n seed was interrupted
lock_timeout=${SEED_LOCK_TIMEOUT_SECONDS:-900}

fail() { echo "seed: $*" >&2; exit 1; }

# The folder of GeoNode's assets (raster stores point there), which GeoServer mounts alone: made
# here, by the pods' user and group, before kubelet would make it as root for that mount.
if [ -n "${ASSETS_DIR:-}" ]; then
  mkdir -p "$ASSETS_DIR"
fi

# entries <dir>: the entries of <dir>, one per line, except the seed's own and lost+found.
entries() {
  for entry in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    case "${entry##*/}" in lost+found|.geonode-k8s-*) continue ;; esac
    printf '%s\n' "$entry"
  done
}

# move_entries <from> <to>: renames every entry of <from> into <to>, one by one.
move_entries() {
  entries "$1" | while IFS= read -r entry; do
    name=${entry##*/}
    [ ! -e "$2/$name" ] || fail "$2/$name exists and $entry is still to be moved there; move one of them away by hand"
    mv "$entry" "$2/$name"
  done
}

command -v flock >/dev/null || fail "flock is missing from this image; the seed needs it to run alone"
exec 9>>"$lock"
flock -w "$lock_timeout" 9 || fail "another seeder has held $lock for $lock_timeout s; if no other GeoServer pod is starting, delete the file"

if [ -e "$done_marker" ]; then
  rm -rf "$stage"   # left over when a seed died after writing its marker
  echo "seed: $target was seeded before; leaving it as it is"
  exit 0
fi

if [ -e "$old_busy_marker" ]; then
  aside="$target/.geonode-k8s-interrupted-$(date -u +%Y%m%dT%H%M%SZ)"
  echo "seed: an interrupted seed of chart 0.1.0 may have left truncated files; moving them to $aside and seeding anew"
  mkdir "$aside"
  move_entries "$target" "$aside"
  rm -f "$old_busy_marker"
fi

if [ ! -e "$stage/.complete" ]; then
  if [ -n "$(entries "$target")" ]; then
    echo "seed: $target already holds a data directory; adopting it unchanged"
    rm -rf "$stage"
    sync
    touch "$done_marker"
    sync
    exit 0
  fi
  rm -rf "$stage"
  mkdir "$stage"
  case "$source" in
    *.zip)
      [ -f "$source" ] || fail "$source is not in this image: geonode/geoserver images built before geonode-docker commit 04777b7 carry no data-directory skeleton; use a newer geoserver.image, or set geoserver.seed.dataImage to the geonode/geoserver_data image of your GeoServer version"
      echo "seed: unpacking $source"
      unzip -q "$source" -d "$stage"
      ;;
    *)
      [ -d "$source" ] || fail "$source is not a folder; check geoserver.seed.dataImage"
      echo "seed: copying $source"
      cp -R "$source" "$stage/data"
      ;;
  esac
  [ -f "$stage/data/global.xml" ] || fail "$source holds no data/global.xml: not a GeoServer data-directory skeleton"
  sync
  touch "$stage/.complete"
  sync
fi

echo "seed: moving the data directory into place"
move_entries "$stage/data" "$target"
sync
touch "$done_marker"
sync
rm -rf "$stage"
echo "seed: done"
