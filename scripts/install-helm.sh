#!/usr/bin/env bash
# Builds helm from the Go module proxy into the cache, once per version.
# Usage: scripts/install-helm.sh [cache-dir]   (prints the binary's path)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
install_with_go "${1:-}" helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm "about 1.5 minutes the first time on this machine"
