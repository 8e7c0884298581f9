#!/usr/bin/env bash
# Builds and checks the two publishable trees of a release, then prints the commands
# that publish them. It pushes nothing itself.
#   storeaffinity           this repository (the middleware plugin at its root)
#   storeaffinity-provider  provider/, split out with its history (git subtree split)
# Usage: make release VERSION=vX.Y.Z
set -euo pipefail
version=${1:-}
[ -n "$version" ] || { echo "usage: make release VERSION=vX.Y.Z" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
owner=github.com/storeaffinity
check() { (cd "$root/demo" && go run ./tools/releasecheck "$@"); }

echo "$version" | check -tags
if [ -n "$(git status --porcelain)" ]; then
  echo "release: the checkout has uncommitted changes; release from a clean checkout" >&2
  exit 1
fi
if git rev-parse -q --verify "refs/tags/$version" >/dev/null; then
  echo "release: tag $version exists already" >&2
  exit 1
fi
git tag -l | check -tags

out=${RELEASE_DIR:-$root/.cache/release/$version}
rm -rf "$out"
mkdir -p "$out/storeaffinity" "$out/storeaffinity-provider"
head=$(git rev-parse HEAD)
provider=$(git subtree split -q --prefix=provider "$head")
git archive "$head" | tar -x -C "$out/storeaffinity"
git archive "$provider" | tar -x -C "$out/storeaffinity-provider"

check -version "$version" -module "$owner/storeaffinity" "$out/storeaffinity"
check -version "$version" -module "$owner/storeaffinity-provider" "$out/storeaffinity-provider"

cat <<MSG

Both trees pass; they are in $out.
To publish $version (both repositories carry the GitHub topic traefik-plugin):

  git tag -a $version -m "storeaffinity $version" $head
  git push https://$owner/storeaffinity.git $head:refs/heads/main refs/tags/$version
  git push https://$owner/storeaffinity-provider.git $provider:refs/heads/main
  git push https://$owner/storeaffinity-provider.git $provider:refs/tags/$version
MSG
