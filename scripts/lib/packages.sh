# Shared by the scripts: installs a Debian package that a test needs when its command is missing
# (as root), or names the one command to run (as a normal user).

require_debian_command() {
  local command_name=$1
  shift
  has_debian_command "$command_name" || install_debian_packages "$command_name" "$@"
}

# Root's PATH has /usr/sbin, a normal user's may not: a command installed there counts too.
has_debian_command() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]
}

# Installs the packages as root; as a normal user, names the one command to run first and stops.
install_debian_packages() { # WHAT_IS_MISSING PACKAGE...
  local missing=$1
  shift
  if [ "$(id -u)" -eq 0 ]; then
    echo "Installing Debian's $* (for $missing)..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "$missing is not installed. Run this first, then try again:" >&2
    echo "  sudo apt-get install -y $*" >&2
    exit 1
  fi
}
