# Shared by scripts/check-image.sh and scripts/check-compose.sh: their messages, the skip that CI
# turns into a failure, podman's settings for this kind of machine, and gRPC calls made with curl.
# The sourcing script sets check_name first, and log to the file its tools write to. Both build
# stand-in images and pick free loopback ports, so those helpers come along.
. "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"
. "$(dirname "${BASH_SOURCE[0]}")/standin-images.sh"
missing_packages=()

say() { echo "$check_name: $*"; }
step() { say "$* (at ${SECONDS}s)"; }
fail() {
  # What the tools said last is the useful part.
  if [ -s "${log:-}" ]; then echo "--- last tool output:" >&2; tail -n 40 "$log" >&2; fi
  echo "$check_name: FAILED: $*" >&2
  exit 1
}

cannot_run() { # REASON [WHAT TO DO]
  if [ "${CI:-}" = true ]; then
    fail "this cannot be checked here: $1 (CI must run $check_name)"
  fi
  cat >&2 <<SKIP

  ######################################################################################
  $check_name: SKIPPED, nothing was checked:
    $1
${2:-}
  (On CI, CI=true, this is a failure.)
  ######################################################################################

SKIP
  exit 77 # "skipped", as automake's test harness has it; scripts/test.sh counts it as neither
}

# Makes sure this runs as root with what it needs, installed in one apt-get run: each COMMAND (its
# package's name) that is missing, and the packages the caller put in missing_packages. As a normal
# user: skips, with the install line and the command that runs the check as root.
as_root_with() { # WHY_ROOT INTRO RUN_AS_ROOT COMMAND...
  local why=$1 intro=$2 run=$3 command_name install_line=
  shift 3
  for command_name in "$@"; do
    has_debian_command "$command_name" || missing_packages+=("$command_name")
  done
  if [ "$(id -u)" -ne 0 ]; then
    if [ ${#missing_packages[@]} -gt 0 ]; then install_line="      sudo apt-get install -y ${missing_packages[*]}"$'\n'; fi
    cannot_run "not root ($why)" "  $intro
${install_line}      $run"
  fi
  if [ ${#missing_packages[@]} -gt 0 ]; then install_debian_packages "${missing_packages[*]}" "${missing_packages[@]}"; fi
}

# podman's settings for this machine kind, in a file of our own so that a user's or the system's
# containers.conf stays untouched; a CONTAINERS_CONF already set is the user's choice and is kept.
# crun refuses here (cgroups in hybrid mode), runc works; containers may not raise rlimits.
use_own_containers_conf() {
  local conf_dir="${XDG_CACHE_HOME:-$HOME/.cache}/neptun-chat/$check_name" podman_info
  if [ -z "${CONTAINERS_CONF:-}" ]; then
    mkdir -p "$conf_dir"
    cat > "$conf_dir/containers.conf" <<'CONF'
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF
    export CONTAINERS_CONF="$conf_dir/containers.conf"
  fi
  if ! podman_info=$(podman info --format '{{.Host.OCIRuntime.Name}}' 2>&1); then
    cannot_run "podman info fails: $(echo "$podman_info" | tail -n 1)"
  fi
}

# gRPC over real HTTP/2 with curl (no grpcurl in Debian): a message is a 5-byte prefix (no
# compression, big-endian length) and the protobuf, written here field by field.
byte() { printf "\\x$(printf %02x "$1")"; }
protobuf_varint() { # NUMBER (not negative)
  local n=$1
  while [ "$n" -ge 128 ]; do byte $(((n & 127) | 128)); n=$((n >> 7)); done
  byte "$n"
}
protobuf_string() { # FIELD_NUMBER TEXT (ASCII)
  byte $(($1 << 3 | 2)); protobuf_varint "${#2}"; printf '%s' "$2"
}
protobuf_int() { # FIELD_NUMBER NUMBER
  byte $(($1 << 3)); protobuf_varint "$2"
}
# Frames the message in MESSAGE_FILE and posts it; the headers and trailers land in OUT.headers,
# the reply in OUT.reply. Extra curl arguments (e.g. -H 'cookie: ...') follow.
grpc_post() { # URL MESSAGE_FILE OUT [CURL_ARGS...]
  local url=$1 message=$2 out=$3 length
  shift 3
  length=$(stat -c %s "$message")
  { printf '\x00'; byte $((length >> 24 & 255)); byte $((length >> 16 & 255)); byte $((length >> 8 & 255)); byte $((length & 255)); cat "$message"; } > "$out.request"
  curl -sS --http2-prior-knowledge -X POST -H 'Content-Type: application/grpc' -H 'TE: trailers' \
    --data-binary @"$out.request" -D "$out.headers" -o "$out.reply" "$@" "$url"
}
# The grpc-status of the call whose headers and trailers are in HEADERS_FILE (empty when none).
grpc_status() { # HEADERS_FILE
  sed -n 's/^grpc-status: *\([0-9]*\).*/\1/Ip' "$1" | tail -n 1
}
