# Sourced by the install scripts: the versions, and build_in_module.
# shellcheck source=scripts/versions
. "$(dirname "${BASH_SOURCE[0]}")/versions"
export GOWORK=off

# build_in_module CACHE NAME VERSION MODULE PACKAGE TIME builds PACKAGE inside the
# downloaded MODULE@VERSION, so that the module's own go.mod (its replace and exclude
# directives) applies, as a static binary (no cgo: the same binary runs on this machine
# and in a FROM-scratch image) CACHE/bin/NAME-VERSION, once, and prints its path. An
# empty CACHE is the repository's .cache; TIME says how long the first build takes.
build_in_module() {
  local cache=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cache}
  local name=$2 version=$3 module=$4 package=$5 time=$6 bin dir
  mkdir -p "$cache/bin" && cache=$(cd "$cache" && pwd)
  bin="$cache/bin/$name-$version"
  if [ -x "$bin" ]; then echo "$bin"; return 0; fi
  echo "building $name $version ($time)..." >&2
  dir=$(GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || { echo "install $name: the download of $module@$version failed" >&2; return 1; }
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o "$bin.tmp" "$package")
  mv "$bin.tmp" "$bin"
  echo "$bin"
}

# install_with_go CACHE NAME VERSION PACKAGE TIME builds PACKAGE@VERSION with go install
# (for modules that go install takes as they are) into CACHE/bin/NAME-VERSION, once,
# and prints its path. An empty CACHE is the repository's .cache; TIME says how long
# the first build takes.
install_with_go() {
  local cache=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cache}
  local name=$2 version=$3 package=$4 time=$5 bin
  mkdir -p "$cache/bin" "$cache/build/$name-$version" && cache=$(cd "$cache" && pwd)
  bin="$cache/bin/$name-$version"
  if [ -x "$bin" ]; then echo "$bin"; return 0; fi
  echo "building $name $version ($time)..." >&2
  GOFLAGS=-mod=mod GOBIN="$cache/build/$name-$version" go install "$package@$version"
  mv "$cache/build/$name-$version/$(basename "$package")" "$bin"
  echo "$bin"
}
