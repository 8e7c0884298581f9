#!/usr/bin/env bash
# Builds the Docker Compose v2 CLI plugin from the Go module proxy into the cache, once
# per version. `go install` refuses the module (its go.mod has exclude directives), so
# it is built inside the downloaded module.
# Usage: scripts/install-compose.sh [cache-dir]   (prints the binary's path)
set -euo pipefail
export GOWORK=off
. "$(dirname "$0")/versions"
version=$COMPOSE_VERSION
cache=${1:-$(cd "$(dirname "$0")/.." && pwd)/.cache}
mkdir -p "$cache/bin" && cache=$(cd "$cache" && pwd)
bin="$cache/bin/docker-compose-$version"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
mkdir -p "$cache/bin"
echo "building Docker Compose $version (a few minutes the first time)..." >&2
dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/docker/compose/v2@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$dir" ] || { echo "install-compose: module download failed" >&2; exit 1; }
(cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o "$bin.tmp" ./cmd)
mv "$bin.tmp" "$bin"
echo "$bin"
