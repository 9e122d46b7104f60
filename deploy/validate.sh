#!/usr/bin/env bash
# Validates the Kubernetes manifests (deploy/kubernetes) and the Prometheus rules (deploy/prometheus), offline.
#
#   bash deploy/validate.sh            both (CI runs this)
#   bash deploy/validate.sh kube       the manifests: kube-validate's own tests (it must catch a misspelled field,
#                                      a wrong apiVersion, ...), then every overlay rendered and checked
#   bash deploy/validate.sh prometheus promtool check rules + promtool test rules
#
# kube-validate (deploy/tools/kube-validate: kustomize + client-go strict decoding) is built with Go once per
# machine into ~/.cache/collab-tools, keyed by a hash of its sources.
set -euo pipefail

DEPLOY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS_CACHE=${COLLAB_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/collab-tools}
WHAT=${1:-all}

log() { echo "[deploy] $*" >&2; }

kube() {
  # Go is on PATH in a login shell of these machines; a bare environment may lack its folder.
  command -v go >/dev/null 2>&1 || PATH=/usr/local/go/bin:$PATH
  go version >&2
  local src=$DEPLOY/tools/kube-validate
  local hash
  hash=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)
  local bin=$TOOLS_CACHE/kube-validate-$hash
  if [ ! -x "$bin" ]; then
    log "building kube-validate ($hash) into $TOOLS_CACHE"
    mkdir -p "$TOOLS_CACHE"
    (cd "$src" && go build -o "$bin.tmp" . && mv "$bin.tmp" "$bin")
  fi
  (cd "$src" && go test -count=1 .)
  "$bin" -kube-version 1.33 "$DEPLOY/kubernetes/overlays/staging" "$DEPLOY/kubernetes/overlays/production"
}

# promtool from Debian's `prometheus` package, extracted without installing the service (as infra/images does
# with its debs), once per machine.
prometheus() {
  local promtool=$TOOLS_CACHE/promtool/usr/bin/promtool
  if [ ! -x "$promtool" ]; then
    log "extracting promtool from Debian's prometheus package into $TOOLS_CACHE/promtool"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && { apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download prometheus >/dev/null; }; })
    mkdir -p "$TOOLS_CACHE"
    rm -rf "$TOOLS_CACHE/promtool.tmp"
    dpkg-deb -x "$tmp"/prometheus_*.deb "$TOOLS_CACHE/promtool.tmp"
    rm -rf "$tmp" "$TOOLS_CACHE/promtool"
    mv "$TOOLS_CACHE/promtool.tmp" "$TOOLS_CACHE/promtool"
  fi
  "$promtool" --version 2>&1 | head -1
  (cd "$DEPLOY/prometheus" && "$promtool" check rules alerts.yml && "$promtool" test rules alerts.test.yml)
}

case "$WHAT" in
  kube) kube ;;
  prometheus) prometheus ;;
  all) kube && prometheus ;;
  *) echo "usage: deploy/validate.sh [all|kube|prometheus]" >&2; exit 2 ;;
esac
