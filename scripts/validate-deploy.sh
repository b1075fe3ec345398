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

# ES modules resolve packages from the script's own folder, so the script runs from the cache.
cp scripts/lib/validate-kubernetes.mjs "$cache/"
node "$cache/validate-kubernetes.mjs" deploy/kubernetes/*.yaml
