#!/bin/sh
# Starts redis-server with the config file given ($1: the broker's redis.conf, or the cache's) and
# the password from the environment, never on its command line (where any process on the node can
# read it): it goes into a file only this user can read, in the container's run emptyDir, which
# the config includes. redis-server directly: the image's entrypoint only chowns and drops root,
# which a non-root pod needs neither of.
set -eu
config=${1:?"start.sh: name the config file, e.g. /etc/redis/redis.conf"}
case "$REDIS_PASSWORD" in
  *'
'*) echo "redis: the password holds a line break, which redis.conf cannot; choose another" >&2; exit 1 ;;
esac
umask 077
# redis.conf strings in double quotes take \\ and \" escapes.
escaped=$(printf '%s' "$REDIS_PASSWORD" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')
printf 'requirepass "%s"\n' "$escaped" > /run/redis/auth.conf.new
mv /run/redis/auth.conf.new /run/redis/auth.conf
unset REDIS_PASSWORD
exec redis-server "$config"
