# Stand-ins for mcr.microsoft.com/dotnet/aspnet:10.0 and mcr.microsoft.com/dotnet/sdk:10.0, for
# machines that cannot pull them: Debian's minimal root file system plus the packages the official
# runtime-deps image installs, and this machine's own .NET, laid out as the official images are.
# Sourced by scripts/check-image.sh (needs root, podman and debootstrap). The images carry a label
# with a key of everything they are made from, so a second run on the same machine reuses them.

readonly standin_aspnet=mcr.microsoft.com/dotnet/aspnet:10.0
readonly standin_sdk=mcr.microsoft.com/dotnet/sdk:10.0
readonly standin_label=io.neptun.stand-in.key
readonly standin_suite=bookworm
# What the official runtime-deps image installs, plus libgssapi-krb5-2: Npgsql probes for it.
readonly standin_packages=ca-certificates,libc6,libgcc-s1,libicu72,libssl3,libstdc++6,tzdata,zlib1g,libgssapi-krb5-2
# The official images' non-root user "app".
readonly standin_app_uid=1654

standin_dotnet_root() {
  dirname "$(readlink -f "$(command -v dotnet)")"
}

# The newest version of a shared framework in the machine's .NET (e.g. Microsoft.AspNetCore.App).
standin_framework_version() { # DOTNET_ROOT FRAMEWORK
  ls "$1/shared/$2" | sort -V | tail -n 1
}

# The machine's NuGet settings: the SDK stand-in restores through the same package source, which
# may be the only one reachable. Copied into the image, never into the repository.
standin_nuget_config() {
  echo "${HOME:-/root}/.nuget/NuGet/NuGet.Config"
}

# Everything the stand-ins are made from; a change to any of it builds them again.
standin_key() {
  local dotnet_root
  dotnet_root=$(standin_dotnet_root)
  {
    cat "${BASH_SOURCE[0]}"
    echo "$standin_suite $standin_packages"
    "$dotnet_root/dotnet" --version
    ls "$dotnet_root/shared/Microsoft.NETCore.App" "$dotnet_root/shared/Microsoft.AspNetCore.App"
    cat "$(standin_nuget_config)" 2>/dev/null || true
    echo "${NUGET_CERT_REVOCATION_MODE:-}"
    cat /etc/ssl/certs/ca-certificates.crt 2>/dev/null || true
  } | sha256sum | cut -c1-16
}

# The Debian mirror this machine's apt uses (read at run time; it differs between machines).
standin_debian_mirror() {
  apt-get indextargets --no-release-info --format '$(REPO_URI)' \
    "RELEASE: $standin_suite" 'COMPONENT: main' 'IDENTIFIER: Packages' | head -n 1
}

# Prints "missing" (absent, or a stand-in made from something else), "cached", or "foreign": an
# image of that name that is no stand-in, e.g. the official one pulled earlier, used as it is.
standin_state() { # IMAGE KEY
  local label
  if ! label=$(podman image inspect --format "{{index .Labels \"$standin_label\"}}" "$1" 2>/dev/null); then
    echo missing
  elif [ "$label" = "$2" ]; then
    echo cached
  elif [ -z "$label" ] || [ "$label" = "<no value>" ]; then
    echo foreign
  else
    echo missing
  fi
}

# Builds both stand-ins unless they are there already. LOG receives the tools' output.
ensure_standin_images() { # WORK_DIR LOG
  local work=$1 log=$2 key aspnet_state sdk_state
  key=$(standin_key)
  aspnet_state=$(standin_state "$standin_aspnet" "$key")
  sdk_state=$(standin_state "$standin_sdk" "$key")
  if [ "$aspnet_state" != missing ] && [ "$sdk_state" != missing ]; then
    echo "check-image: base images: $standin_aspnet ($aspnet_state), $standin_sdk ($sdk_state)"
    return 0
  fi

  local dotnet_root mirror runtime_version aspnet_version sdk_version rootfs
  dotnet_root=$(standin_dotnet_root)
  runtime_version=$(standin_framework_version "$dotnet_root" Microsoft.NETCore.App)
  aspnet_version=$(standin_framework_version "$dotnet_root" Microsoft.AspNetCore.App)
  sdk_version=$("$dotnet_root/dotnet" --version)
  mirror=$(standin_debian_mirror)
  if [ -z "$mirror" ]; then
    echo "check-image: no Debian $standin_suite main source in this machine's apt configuration" >&2
    return 1
  fi

  rootfs="$work/rootfs"
  echo "check-image: building stand-in base images (Debian $standin_suite + .NET $sdk_version from $dotnet_root) ..."
  debootstrap --variant=minbase --include="$standin_packages" "$standin_suite" "$rootfs" "$mirror" >>"$log" 2>&1
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  chroot "$rootfs" groupadd --gid="$standin_app_uid" app
  chroot "$rootfs" useradd --no-log-init --uid="$standin_app_uid" --gid="$standin_app_uid" --create-home app

  local common=(
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    --change "ENV APP_UID=$standin_app_uid"
    --change "ENV ASPNETCORE_HTTP_PORTS=8080"
    --change "ENV DOTNET_RUNNING_IN_CONTAINER=true"
    --change "ENV DOTNET_VERSION=$runtime_version"
    --change "ENV ASPNET_VERSION=$aspnet_version"
    --change "LABEL $standin_label=$key"
    --change 'CMD ["bash"]'
  )

  # aspnet: the host, the .NET runtime and ASP.NET Core, nothing of the SDK.
  local target="$rootfs/usr/share/dotnet"
  mkdir -p "$target/shared/Microsoft.NETCore.App" "$target/shared/Microsoft.AspNetCore.App"
  cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$dotnet_root/LICENSE.txt" "$dotnet_root/ThirdPartyNotices.txt" "$target/"
  cp -a "$dotnet_root/shared/Microsoft.NETCore.App/$runtime_version" "$target/shared/Microsoft.NETCore.App/"
  cp -a "$dotnet_root/shared/Microsoft.AspNetCore.App/$aspnet_version" "$target/shared/Microsoft.AspNetCore.App/"
  ln -s /usr/share/dotnet/dotnet "$rootfs/usr/bin/dotnet"
  if [ "$aspnet_state" = missing ]; then
    podman rmi --force "$standin_aspnet" >>"$log" 2>&1 || true
    tar -C "$rootfs" -c . | podman import "${common[@]}" - "$standin_aspnet" >>"$log" 2>&1
  fi

  # sdk: all of the machine's .NET, its CA bundle and NuGet settings (root restores in a build).
  cp -a "$dotnet_root/." "$target/"
  # Only the bundle, a plain file: the folder's links are absolute and would resolve on the host.
  rm -f "$rootfs/etc/ssl/certs/ca-certificates.crt"
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  local sdk_changes=(
    --change "ENV DOTNET_SDK_VERSION=$sdk_version"
    --change "ENV DOTNET_GENERATE_ASPNET_CERTIFICATE=false"
    --change "ENV DOTNET_NOLOGO=true"
    --change "ENV DOTNET_USE_POLLING_FILE_WATCHER=true"
    --change "ENV NUGET_XMLDOC_MODE=skip"
  )
  if [ -n "${NUGET_CERT_REVOCATION_MODE:-}" ]; then
    sdk_changes+=(--change "ENV NUGET_CERT_REVOCATION_MODE=$NUGET_CERT_REVOCATION_MODE")
  fi
  if [ -f "$(standin_nuget_config)" ]; then
    install -D -m 600 "$(standin_nuget_config)" "$rootfs/root/.nuget/NuGet/NuGet.Config"
  fi
  if [ "$sdk_state" = missing ]; then
    podman rmi --force "$standin_sdk" >>"$log" 2>&1 || true
    tar -C "$rootfs" -c . | podman import "${common[@]}" "${sdk_changes[@]}" - "$standin_sdk" >>"$log" 2>&1
  fi
  rm -rf "$rootfs"
  echo "check-image: base images: $standin_aspnet (${aspnet_state/missing/built}), $standin_sdk (${sdk_state/missing/built})"
}
