#!/usr/bin/env bash
# Builds etcd and kube-apiserver from the Go module proxy into the cache, once per version.
# Usage: scripts/install-kube.sh [cache-dir]   (prints the directory that holds both binaries)
set -euo pipefail
. "$(dirname "$0")/versions"
etcd_version=$ETCD_VERSION
kube_version=$KUBE_VERSION
cache=${1:-$(cd "$(dirname "$0")/.." && pwd)/.cache}
out="$cache/kube-$kube_version-etcd-$etcd_version"
if [ -x "$out/etcd" ] && [ -x "$out/kube-apiserver" ]; then echo "$out"; exit 0; fi
mkdir -p "$out" "$cache/build"
export GOFLAGS=-mod=mod GOWORK=off

if [ ! -x "$out/etcd" ]; then
  echo "building etcd $etcd_version (about 1 minute)..." >&2
  work="$cache/build/etcd-$etcd_version"; rm -rf "$work"; mkdir -p "$work"
  (cd "$work" && go mod init etcdbuild >/dev/null 2>&1 &&
    go get "go.etcd.io/etcd/server/v3@$etcd_version" >/dev/null 2>&1 &&
    go build -o "$out/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$out/etcd.tmp" "$out/etcd"
fi

if [ ! -x "$out/kube-apiserver" ]; then
  echo "building kube-apiserver $kube_version (about 8 minutes the first time on this machine)..." >&2
  work="$cache/build/kube-apiserver-$kube_version"; rm -rf "$work"; mkdir -p "$work"
  staging=${kube_version/v1./v0.}
  dir=$(go mod download -json "k8s.io/kubernetes@$kube_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  {
    echo "module kubebuild"
    echo "go 1.25"
    echo "require k8s.io/kubernetes $kube_version"
    echo "replace ("
    grep -oE '^[[:space:]]*k8s\.io/[a-z0-9-]+ v0\.0\.0([[:space:]]|$)' "$dir/go.mod" | awk -v v="$staging" '{print "\t" $1 " => " $1 " " v}' | sort -u
    echo ")"
  } >"$work/go.mod"
  minor=${kube_version#v1.}; minor=${minor%%.*}
  (cd "$work" && go build -o "$out/kube-apiserver.tmp" -ldflags "\
 -X k8s.io/component-base/version.gitVersion=$kube_version \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=$minor \
 -X k8s.io/component-base/version.gitTreeState=clean" k8s.io/kubernetes/cmd/kube-apiserver)
  mv "$out/kube-apiserver.tmp" "$out/kube-apiserver"
fi
echo "$out"
