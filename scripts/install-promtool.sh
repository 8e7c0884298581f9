#!/usr/bin/env bash
# Builds promtool from the Go module proxy into the cache, once per version.
# Usage: scripts/install-promtool.sh [cache-dir]   (prints the binary's path)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
install_with_go "${1:-}" promtool "$PROMTOOL_VERSION" github.com/prometheus/prometheus/cmd/promtool "a few minutes the first time on this machine"
