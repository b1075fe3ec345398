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
  # A loopback port nothing listens on, below the kernel's range for the local ports of outgoing
  # connections (ip_local_port_range, 32768-60999 by default): a port from that range can be given
  # to a connection between this choice and the bind (a compose check failed so: "address already
  # in use"). 20000 and up keeps away from the usual services.
  local port ephemeral_low=32768 lowest=20000 highest
  read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  highest=$((ephemeral_low - 1))
  if [ "$highest" -le $((lowest + 1000)) ]; then lowest=40000 highest=49999; fi
  for port in $(shuf -i "$lowest-$highest" -n 100); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free loopback port found" >&2
  return 1
}
