#!/usr/bin/env bash
# Builds the Traefik binary from the Go module proxy into the cache, once per version.
# Usage: scripts/install-traefik.sh [cache-dir]   (prints the binary's path)
set -euo pipefail
export GOWORK=off
. "$(dirname "$0")/versions"
version=$TRAEFIK_VERSION
cache=${1:-$(cd "$(dirname "$0")/.." && pwd)/.cache}
mkdir -p "$cache/bin" && cache=$(cd "$cache" && pwd)
bin="$cache/bin/traefik-$version"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
mkdir -p "$cache/bin"
echo "building Traefik $version (about 10 minutes the first time on this machine)..." >&2
dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/traefik/traefik/v3@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$dir" ] || { echo "install-traefik: module download failed" >&2; exit 1; }
# Static (no cgo): the same binary runs on this machine and in a FROM-scratch image.
(cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o "$bin.tmp" ./cmd/traefik)
mv "$bin.tmp" "$bin"
echo "$bin"
