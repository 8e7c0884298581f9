#!/usr/bin/env bash
# Builds the Docker Compose v2 CLI plugin from the Go module proxy into the cache, once
# per version. `go install` refuses the module (its go.mod has exclude directives), so
# it is built inside the downloaded module.
# Usage: scripts/install-compose.sh [cache-dir]   (prints the binary's path)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build_in_module "${1:-}" docker-compose "$COMPOSE_VERSION" github.com/docker/compose/v2 ./cmd \
  "a few minutes the first time"
