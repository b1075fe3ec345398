# Stand-ins for the official images docker-compose.yml names besides the service's own (postgres,
# nginx, redis, prometheus), for machines that cannot pull them: each is Debian bookworm's package
# of that server on Debian's minimal root file system (debootstrap, as the .NET stand-ins), built from
# scripts/standins/NAME/Containerfile and tagged with the official name, so that the compose file
# names the official images and nothing else. Sourced after scripts/lib/standin-images.sh (its
# label, suite and mirror); needs root, podman and debootstrap. A second run reuses them.

readonly service_standin_base=localhost/neptun-standin-debian:bookworm
# Each official name and the folder of scripts/standins/ that stands in for it.
readonly service_standins=(postgres:15=postgres nginx:stable=nginx redis:7=redis prom/prometheus:v2.42.0=prometheus)

# The base: debootstrap's minimal root, plus what Debian's own container images add so that a
# package's maintainer scripts do not try to start its server during a build (policy-rc.d).
service_standin_base_key() {
  { declare -f service_standin_base_build; echo "$standin_suite"; } | sha256sum | cut -c1-16
}

service_standin_base_build() { # WORK_DIR LOG
  local rootfs="$1/service-standin-root" mirror
  mirror=$(standin_debian_mirror)
  if [ -z "$mirror" ]; then
    echo "no Debian $standin_suite main source in this machine's apt configuration" >&2
    return 1
  fi
  debootstrap --variant=minbase "$standin_suite" "$rootfs" "$mirror" >>"$2" 2>&1
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  printf '#!/bin/sh\nexit 101\n' > "$rootfs/usr/sbin/policy-rc.d"
  chmod 755 "$rootfs/usr/sbin/policy-rc.d"
  podman rmi --force "$service_standin_base" >>"$2" 2>&1 || true
  tar -C "$rootfs" -c . | podman import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "LABEL $standin_label=$(service_standin_base_key)" \
    --change 'CMD ["bash"]' - "$service_standin_base" >>"$2" 2>&1
  rm -rf --one-file-system "$rootfs"
}

# Everything one stand-in is made from: its folder, how it is built, and the base's key.
service_standin_key() { # FOLDER
  {
    declare -f ensure_service_standins
    service_standin_base_key
    find "scripts/standins/$1" -type f | sort | xargs cat
  } | sha256sum | cut -c1-16
}

# Builds each stand-in unless it is there already; an image of that name that is no stand-in (the
# official one, pulled earlier) is used as it is. Prints one line per image. LOG receives the
# tools' output.
ensure_service_standins() { # WORK_DIR LOG
  local work=$1 log=$2 entry name folder key state previous
  for entry in "${service_standins[@]}"; do
    name=${entry%%=*}
    folder=${entry#*=}
    key=$(service_standin_key "$folder")
    state=$(standin_state "$name" "$key")
    if [ "$state" = missing ]; then
      if [ "$(standin_state "$service_standin_base" "$(service_standin_base_key)")" = missing ]; then
        echo "  building the base, $service_standin_base (debootstrap) ..."
        service_standin_base_build "$work" "$log"
      fi
      echo "  building $name from scripts/standins/$folder ..."
      previous=$(podman image inspect --format '{{.Id}}' "$name" 2>/dev/null || true)
      nice -n 10 podman build --pull=never --network host --layers=false \
        --build-arg "BASE=$service_standin_base" --label "$standin_label=$key" \
        --tag "$name" "scripts/standins/$folder" >>"$log" 2>&1
      # The stand-in made from older files, now untagged.
      if [ -n "$previous" ]; then podman rmi "$previous" >>"$log" 2>&1 || true; fi
      state=built
    fi
    echo "  $name: $state"
  done
}
