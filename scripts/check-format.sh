#!/usr/bin/env bash
# Fails when the C# code differs from .editorconfig, and says which command fixes it.
# Whitespace is checked file by file (no build, seconds); code style (usings, braces, var, naming)
# needs the compiled solution, so the solution is restored first (offline once the packages are in
# the local NuGet cache). Analyzer (CA) rules are left to the build, which already fails on them.
set -euo pipefail
cd "$(dirname "$0")/.."

fix="dotnet format whitespace --folder . && dotnet format style Neptun.Grpc.sln"
started=$SECONDS

dotnet restore Neptun.Grpc.sln --nologo --verbosity quiet
if ! dotnet format whitespace --folder . --verify-no-changes \
  || ! dotnet format style Neptun.Grpc.sln --no-restore --severity warn --verify-no-changes; then
  echo "The code does not follow .editorconfig (files and rules above). Fix it with:" >&2
  echo "  $fix" >&2
  exit 1
fi
echo "Format check passed ($((SECONDS - started)) s)."
