# Shared by the run and test scripts: makes sure Debian's PostgreSQL is there.
. "$(dirname "${BASH_SOURCE[0]}")/packages.sh"

pg_bindir() {
  # The newest installed server's binaries (initdb, pg_ctl), which Debian keeps off PATH.
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

require_postgres_packages() {
  if command -v pg_virtualenv >/dev/null 2>&1 && [ -n "$(pg_bindir)" ]; then
    return 0
  fi
  install_debian_packages "PostgreSQL (server, client, pg_virtualenv)" postgresql postgresql-common
}

free_local_port() {
  # A loopback port nothing listens on, from a range away from the usual services.
  local port
  for port in $(shuf -i 40000-49999 -n 100); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free loopback port found" >&2
  return 1
}
