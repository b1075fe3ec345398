#!/usr/bin/env bash
# Validates deploy/kubernetes/*.yaml offline: schemas from the pinned npm package kubernetes-models
# (no cluster needed, unlike kubectl --dry-run), plus this service's deployment rules.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${XDG_CACHE_HOME:-$HOME/.cache}/neptun-chat/validate-kubernetes"
mkdir -p "$cache"
if [ ! -d "$cache/node_modules/kubernetes-models" ] || [ ! -d "$cache/node_modules/yaml" ]; then
  npm install --silent --no-audit --no-fund --prefix "$cache" kubernetes-models@5.1.0 yaml@2.9.1 >/dev/null
fi

# The manifests carry ${NEPTUN_CHAT_VERSION} for the image tag (docs/operations.md); they are
# checked as deployed, with a version put in the way envsubst does it.
rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT
export NEPTUN_CHAT_VERSION=1.2.3-check
for manifest in deploy/kubernetes/*.yaml; do
  sed "s/\${NEPTUN_CHAT_VERSION}/$NEPTUN_CHAT_VERSION/g" "$manifest" >"$rendered/$(basename "$manifest")"
done

# ES modules resolve packages from the script's own folder, so the script runs from the cache.
cp scripts/lib/validate-kubernetes.mjs "$cache/"
node "$cache/validate-kubernetes.mjs" "$rendered"/*.yaml
