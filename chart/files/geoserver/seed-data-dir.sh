#!/bin/sh
# Fills an empty GeoServer data directory from the geonode/geoserver_data image, once.
# Kubernetes does not copy image content into a new volume the way Docker does, so this init
# container does. It never touches a data directory that holds data: a marker says the seed is
# complete; a directory with content but no marker is adopted as it is; an interrupted seed
# (its in-progress marker is still there) resumes without overwriting what was copied.
set -eu
seed=${SEED_DIR:-/geoserver_data/data}
target=${TARGET_DIR:-/mnt/geoserver-data}
done_marker="$target/.geonode-k8s-seeded"
busy_marker="$target/.geonode-k8s-seeding"

if [ -e "$done_marker" ]; then
  echo "seed: $target was seeded before; leaving it as it is"
  exit 0
fi
if [ ! -e "$busy_marker" ] && [ -n "$(ls -A "$target" | grep -v '^lost+found$' || true)" ]; then
  echo "seed: $target already holds a data directory; adopting it unchanged"
  touch "$done_marker"
  exit 0
fi
if [ ! -f "$seed/global.xml" ]; then
  echo "seed: $seed holds no GeoServer data directory; check geoserver.dataImage" >&2
  exit 1
fi
touch "$busy_marker"
echo "seed: copying the initial data directory from $seed"
# -n: an interrupted copy resumes without overwriting what is there.
cp -Rn "$seed/." "$target/"
touch "$done_marker"
rm -f "$busy_marker"
echo "seed: done"
