#!/usr/bin/env bash
# Builds promtool from the Go module proxy into the cache, once per version.
# Usage: scripts/install-promtool.sh [cache-dir]   (prints the binary's path)
set -euo pipefail
export GOWORK=off GOFLAGS=-mod=mod
. "$(dirname "$0")/versions"
version=$PROMTOOL_VERSION
cache=${1:-$(cd "$(dirname "$0")/.." && pwd)/.cache}
bin="$cache/bin/promtool-$version"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
mkdir -p "$cache/bin" "$cache/build/promtool-$version"
echo "building promtool $version (a few minutes the first time on this machine)..." >&2
GOBIN="$cache/build/promtool-$version" go install "github.com/prometheus/prometheus/cmd/promtool@$version"
mv "$cache/build/promtool-$version/promtool" "$bin"
echo "$bin"
