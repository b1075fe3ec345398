#!/usr/bin/env bash
# Lints protos/ with buf (STANDARD rules, see buf.yaml), offline. google/api/annotations.proto and
# http.proto come from the Google.Api.CommonProtos NuGet package: building the Contracts project
# copies them into the gitignored .buf-deps/ folder, so build it first when they are missing.
# Exits non-zero when lint fails.
set -euo pipefail
cd "$(dirname "$0")/.."

BUF_VERSION=1.75.0
deps=.buf-deps/googleapis/google/api

if [ ! -f "$deps/annotations.proto" ] || [ ! -f "$deps/http.proto" ]; then
  echo "lint-protos: $deps is missing; building src/Neptun.Chat.Contracts to copy it from NuGet" >&2
  dotnet build src/Neptun.Chat.Contracts/Neptun.Chat.Contracts.csproj --configuration Release \
    --nologo --verbosity quiet >&2
fi

exec npx --yes "@bufbuild/buf@${BUF_VERSION}" lint "$@"
