#!/usr/bin/env bash
# Installs a Docker engine (Debian's docker.io) when dockerd is missing. It starts
# nothing: the compose test starts its own engine and stops it afterwards.
# Usage: scripts/install-docker.sh [cache-dir]   (prints dockerd's path)
set -euo pipefail
if ! command -v dockerd >/dev/null; then
	echo "installing docker.io with apt-get..." >&2
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >&2
fi
command -v dockerd
