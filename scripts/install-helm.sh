#!/usr/bin/env bash
# Builds helm from the Go module proxy into the cache, once per version.
# Usage: scripts/install-helm.sh [cache-dir]   (prints the binary's path)
set -euo pipefail
export GOWORK=off GOFLAGS=-mod=mod
. "$(dirname "$0")/versions"
version=$HELM_VERSION
cache=${1:-$(cd "$(dirname "$0")/.." && pwd)/.cache}
bin="$cache/bin/helm-$version"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
mkdir -p "$cache/bin" "$cache/build/helm-$version"
echo "building helm $version (about 1.5 minutes the first time on this machine)..." >&2
GOBIN="$cache/build/helm-$version" go install "helm.sh/helm/v3/cmd/helm@$version"
mv "$cache/build/helm-$version/helm" "$bin"
echo "$bin"
