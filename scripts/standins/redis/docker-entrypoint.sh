#!/bin/sh
# What docker-compose.yml relies on of the official image's start: redis-server as the redis user,
# reachable from other containers without a password. The official image is built with protected
# mode off by default (the container's network is its boundary); Debian's binary has it on, so it is
# turned off here, before the caller's own options, which still win.
set -eu

case ${1:-} in -* | *.conf) set -- redis-server "$@" ;; esac
if [ "${1:-}" = redis-server ]; then
  shift
  # A configuration file must stay redis-server's first argument.
  case ${1:-} in
    *.conf) config=$1; shift; set -- redis-server "$config" --protected-mode no "$@" ;;
    *) set -- redis-server --protected-mode no "$@" ;;
  esac
  if [ "$(id -u)" = 0 ]; then
    chown redis:redis .
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi

exec "$@"
