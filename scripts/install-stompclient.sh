#!/usr/bin/env bash
# Installs the OpenPOS-style STOMP client (demo/stompclient: @stomp/stompjs over ws) from
# the npm registry into the cache, once per version of its files, from the committed
# lockfile. Usage: scripts/install-stompclient.sh [cache-dir]   (prints the client's folder)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/demo/stompclient"
cache=${1:-$root/.cache}
command -v npm >/dev/null || { echo "install-stompclient: npm is needed (Node 20 or later)" >&2; exit 1; }
sum=$(cat "$src/package.json" "$src/package-lock.json" "$src/client.mjs" | sha256sum | cut -c1-12)
dir="$cache/stompclient-$sum"
if [ -f "$dir/.installed" ]; then echo "$dir"; exit 0; fi
rm -rf "$dir" && mkdir -p "$dir"
cp "$src/package.json" "$src/package-lock.json" "$src/client.mjs" "$dir/"
echo "installing @stomp/stompjs and ws from npm into $dir..." >&2
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
touch "$dir/.installed"
echo "$dir"
