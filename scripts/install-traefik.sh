#!/usr/bin/env bash
# Builds the Traefik binary from the Go module proxy into the cache, once per version.
# Usage: scripts/install-traefik.sh [cache-dir]   (prints the binary's path)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build_in_module "${1:-}" traefik "$TRAEFIK_VERSION" github.com/traefik/traefik/v3 ./cmd/traefik \
  "about 10 minutes the first time on this machine"
