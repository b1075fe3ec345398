#!/usr/bin/env bash
# Opens the Development-only API page (Swagger UI at /api-docs/) once in headless Chromium: checks
# that the rendered page lists the REST route, and saves a screenshot to .local/ (not in git).
# Not part of scripts/test.sh: Chromium is a large install. Usage: scripts/check-api-page.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/packages.sh
require_debian_command chromium chromium

port=${1:-25080}
mkdir -p .local
screenshot=.local/api-page.png
log=$(mktemp)
dotnet build src/Neptun.Chat.Service -c Release -v quiet -nologo >/dev/null

# The page needs no database: without one, the document only leaves out the model enum.
ASPNETCORE_ENVIRONMENT=Development \
DATABASE_CONNECTION_STRING="Host=127.0.0.1;Port=1;Database=none;Username=none;Timeout=1" \
NUXT_SESSION_PASSWORD="$(head -c 48 /dev/urandom | base64)" \
Kestrel__Endpoints__Rest__Url="http://127.0.0.1:$port" \
Kestrel__Endpoints__Grpc__Url="http://127.0.0.1:$((port + 1))" \
Kestrel__Endpoints__Operations__Url="http://127.0.0.1:$((port + 2))" \
  dotnet src/Neptun.Chat.Service/bin/Release/net10.0/Neptun.Chat.Service.dll >"$log" 2>&1 &
service=$!
trap 'kill "$service" 2>/dev/null; wait "$service" 2>/dev/null; rm -f "$log"' EXIT

for _ in $(seq 1 60); do
  curl -sf -o /dev/null "http://127.0.0.1:$((port + 2))/healthz/live" && break
  sleep 0.5
done

chrome_flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
  --disable-dev-shm-usage --no-first-run --hide-scrollbars --window-size=1280,1400
  --virtual-time-budget=10000)
url="http://127.0.0.1:$port/api-docs/index.html"
dom=$(chromium "${chrome_flags[@]}" --dump-dom "$url" 2>/dev/null)
chromium "${chrome_flags[@]}" --screenshot="$screenshot" "$url" >/dev/null 2>&1

if grep -q '/api/users/{user_id}/projects/{project_id}/chats' <<<"$dom"; then
  echo "API page renders the route; screenshot: $screenshot"
else
  echo "API page did not render the route" >&2
  exit 1
fi
