#!/usr/bin/env bash
# Builds the local Docker images of the integration-test stack without any container registry:
# a Debian base (debootstrap + apt, `docker import`), then Kafka / Cassandra / S3Proxy / Apicurio Registry from Maven Central
# and Redis from Debian, each `FROM` the local base.
#
# Usage:
#   bash infra/images/build.sh [--force] [TARGET...]   build (skips images whose tag already exists)
#   bash infra/images/build.sh --print                  print KEY=image:tag lines, build nothing
#   --prune: afterwards remove collab/{base,kafka,cassandra,s3proxy,redis,apicurio-registry} tags not among the current names
# Targets: base kafka kafka4 cassandra s3proxy redis apicurio all.
# Default: kafka cassandra s3proxy redis apicurio (+ kafka4 when INFRA_WITH_KAFKA4=1).
#
# Tags are content hashes of each image's inputs (its folder, the versions.env lines it uses, the base
# image tag), so the names printed by --print are exactly the names a build produces.
# stdout carries only KEY=value lines; progress goes to stderr.
# Env: COLLAB_INFRA_CACHE (default /var/cache/collab-infra: debootstrap + rootfs tarballs, build contexts),
#      MAVEN_REPO_LOCAL (default: Maven's ~/.m2/repository), INFRA_WITH_KAFKA4=1.
set -euo pipefail

IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPTS_DIR=$(cd "$IMAGES_DIR/../scripts" && pwd)
VERSIONS="$IMAGES_DIR/versions.env"
CACHE=${COLLAB_INFRA_CACHE:-/var/cache/collab-infra}
export DOCKER_BUILDKIT=0 # legacy builder: never pulls when FROM names a local image

set -a
# shellcheck disable=SC1090
. "$VERSIONS"
set +a

log() { echo "[images] $*" >&2; }
die() { echo "[images] ERROR: $*" >&2; exit 1; }

usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; }

PRINT=0
FORCE=0
PRUNE=0
TARGETS=()
for arg in "$@"; do
  case "$arg" in
    --print) PRINT=1 ;;
    --force) FORCE=1 ;;
    --prune) PRUNE=1 ;;
    -h | --help) usage; exit 0 ;;
    all) TARGETS+=(base kafka kafka4 cassandra s3proxy redis apicurio) ;;
    base | kafka | kafka4 | cassandra | s3proxy | redis | apicurio) TARGETS+=("$arg") ;;
    *) usage; die "unknown argument: $arg" ;;
  esac
done
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(kafka cassandra s3proxy redis apicurio)
  [ "${INFRA_WITH_KAFKA4:-0}" = 1 ] && TARGETS+=(kafka4)
fi

# --- content hashes ---------------------------------------------------------------------------------

# sha256 over the relative paths and contents of the given folders (sorted), plus extra strings.
hash_inputs() {
  local dirs=() extra=() d
  while [ $# -gt 0 ] && [ "$1" != -- ]; do dirs+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  extra=("$@")
  {
    for d in "${dirs[@]}"; do
      (cd "$IMAGES_DIR" && find "$d" -type f ! -name '*.swp' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    done
    printf '%s\n' "${extra[@]}"
  } | sha256sum | cut -c1-12
}

# The versions.env lines (KEY=value) an image depends on.
version_lines() { grep -E "^($1)=" "$VERSIONS" | LC_ALL=C sort; }

BASE_HASH=$(hash_inputs base -- "$(version_lines 'DEBIAN_SUITE|DEBIAN_MIRROR|DEBIAN_SECURITY_MIRROR|BASE_PACKAGES')")
BASE_IMAGE="collab/base:${DEBIAN_SUITE}-${BASE_HASH}"

MVN_KEYS='MAVEN_DEPENDENCY_PLUGIN_VERSION'
declare -A IMAGE DIRS KEYS
DIRS[kafka]="kafka-common kafka"
KEYS[kafka]="$MVN_KEYS|SCALA_BINARY_VERSION|KAFKA_VERSION|SLF4J_RELOAD4J_VERSION|RELOAD4J_VERSION"
DIRS[kafka4]="kafka-common kafka4"
KEYS[kafka4]="$MVN_KEYS|SCALA_BINARY_VERSION|KAFKA4_VERSION|LOG4J2_VERSION"
DIRS[cassandra]="cassandra"
KEYS[cassandra]="$MVN_KEYS|CASSANDRA_VERSION"
DIRS[s3proxy]="s3proxy"
KEYS[s3proxy]="$MVN_KEYS|S3PROXY_VERSION"
DIRS[redis]="redis"
KEYS[redis]="DEBIAN_SUITE"
DIRS[apicurio]="apicurio"
KEYS[apicurio]="APICURIO_VERSION"

image_hash() {
  # shellcheck disable=SC2086
  hash_inputs ${DIRS[$1]} -- "$(version_lines "${KEYS[$1]}")" "$BASE_IMAGE"
}
IMAGE[kafka]="collab/kafka:${KAFKA_VERSION}-$(image_hash kafka)"
IMAGE[kafka4]="collab/kafka:${KAFKA4_VERSION}-$(image_hash kafka4)"
IMAGE[cassandra]="collab/cassandra:${CASSANDRA_VERSION}-$(image_hash cassandra)"
IMAGE[s3proxy]="collab/s3proxy:${S3PROXY_VERSION}-$(image_hash s3proxy)"
IMAGE[redis]="collab/redis:${DEBIAN_SUITE}-$(image_hash redis)"
IMAGE[apicurio]="collab/apicurio-registry:${APICURIO_VERSION}-$(image_hash apicurio)"

print_names() {
  echo "BASE_IMAGE=$BASE_IMAGE"
  echo "KAFKA_IMAGE=${IMAGE[kafka]}"
  echo "KAFKA4_IMAGE=${IMAGE[kafka4]}"
  echo "CASSANDRA_IMAGE=${IMAGE[cassandra]}"
  echo "S3PROXY_IMAGE=${IMAGE[s3proxy]}"
  echo "REDIS_IMAGE=${IMAGE[redis]}"
  echo "SCHEMA_REGISTRY_IMAGE=${IMAGE[apicurio]}"
}

if [ "$PRINT" = 1 ]; then
  print_names
  exit 0
fi

# --- build ----------------------------------------------------------------------------------------------

[ "$(id -u)" = 0 ] || die "run as root (needs apt, debootstrap, chroot and the docker daemon)"
bash "$SCRIPTS_DIR/ensure-docker.sh"
mkdir -p "$CACHE"

# One build at a time on this machine (parallel test runs may call this script).
exec 9>"$CACHE/build.lock"
if ! flock -w 1800 9; then die "another build holds $CACHE/build.lock for more than 30 min"; fi

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

T_ALL=$SECONDS

ensure_base() {
  if [ "$FORCE" = 0 ] && image_exists "$BASE_IMAGE"; then
    log "base: $BASE_IMAGE exists"
    return
  fi
  local t=$SECONDS tar="$CACHE/base-${DEBIAN_SUITE}-${BASE_HASH}.tar"
  if [ "$FORCE" = 1 ] || [ ! -s "$tar" ]; then
    log "base: building root filesystem (debootstrap $DEBIAN_SUITE + $BASE_PACKAGES)"
    COLLAB_INFRA_CACHE="$CACHE" bash "$IMAGES_DIR/base/build-rootfs.sh" "$tar"
    # drop rootfs tarballs of older input hashes
    find "$CACHE" -maxdepth 1 -name "base-*.tar" ! -name "$(basename "$tar")" -delete
  fi
  log "base: docker import -> $BASE_IMAGE"
  docker import --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' \
    --message "collab base ${DEBIAN_SUITE} ${BASE_HASH}" "$tar" "$BASE_IMAGE" >/dev/null
  log "base: done in $((SECONDS - t))s"
}

ensure_maven() {
  if ! command -v mvn >/dev/null 2>&1; then
    log "installing maven (apt)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends maven openjdk-17-jdk-headless >/dev/null
  fi
}

# build_image NAME [BUILD_ARG...]; if the folder has a prepare.sh, it runs in the build context (it builds what
# the Dockerfile copies); else if the folder has a pom.xml, its runtime classpath goes to lib/.
build_image() {
  local name=$1; shift
  local image=${IMAGE[$name]} t=$SECONDS ctx="$CACHE/ctx/$name" d
  if [ "$FORCE" = 0 ] && image_exists "$image"; then
    log "$name: $image exists"
    return
  fi
  log "$name: building $image"
  rm -rf "$ctx"
  mkdir -p "$ctx"
  for d in ${DIRS[$name]}; do cp -a "$IMAGES_DIR/$d/." "$ctx/"; done
  if [ -f "$ctx/prepare.sh" ]; then
    ensure_maven
    log "$name: prepare.sh (Maven Central, cache ${MAVEN_REPO_LOCAL:-~/.m2/repository})"
    bash "$ctx/prepare.sh" || die "$name: prepare.sh failed"
  elif [ -f "$ctx/pom.xml" ]; then
    ensure_maven
    log "$name: resolving runtime classpath from Maven Central (cache ${MAVEN_REPO_LOCAL:-~/.m2/repository})"
    local repo_opt=()
    [ -n "${MAVEN_REPO_LOCAL:-}" ] && repo_opt=(-Dmaven.repo.local="$MAVEN_REPO_LOCAL")
    if ! (cd "$ctx" && mvn -B -q -f pom.xml "${repo_opt[@]}" \
      "org.apache.maven.plugins:maven-dependency-plugin:${MAVEN_DEPENDENCY_PLUGIN_VERSION}:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$ctx/lib" \
      -Dscala.binary.version="$SCALA_BINARY_VERSION" -Dkafka.version="$KAFKA_VERSION" \
      -Dkafka4.version="$KAFKA4_VERSION" -Dslf4j.reload4j.version="$SLF4J_RELOAD4J_VERSION" \
      -Dreload4j.version="$RELOAD4J_VERSION" -Dlog4j2.version="$LOG4J2_VERSION" \
      -Dcassandra.version="$CASSANDRA_VERSION" -Ds3proxy.version="$S3PROXY_VERSION" >"$ctx.mvn.log" 2>&1); then
      tail -n 40 "$ctx.mvn.log" >&2
      die "$name: maven dependency resolution failed (log: $ctx.mvn.log)"
    fi
    log "$name: $(find "$ctx/lib" -name '*.jar' | wc -l) jars"
  fi
  local args=(--build-arg "BASE_IMAGE=$BASE_IMAGE" --label "collab.infra.inputs=$image")
  for d in "$@"; do args+=(--build-arg "$d"); done
  if ! docker build -q "${args[@]}" -t "$image" "$ctx" >"$ctx.build.log" 2>&1; then
    cat "$ctx.build.log" >&2
    die "$name: docker build failed"
  fi
  rm -rf "$ctx" "$ctx.mvn.log" "$ctx.build.log"
  log "$name: built $image in $((SECONDS - t))s"
}

ensure_base
for target in "${TARGETS[@]}"; do
  case "$target" in
    base) ;;
    kafka) build_image kafka "KAFKA_VERSION=$KAFKA_VERSION" ;;
    kafka4) build_image kafka4 "KAFKA_VERSION=$KAFKA4_VERSION" ;;
    cassandra) build_image cassandra "CASSANDRA_VERSION=$CASSANDRA_VERSION" ;;
    s3proxy) build_image s3proxy "S3PROXY_VERSION=$S3PROXY_VERSION" ;;
    redis) build_image redis ;;
    apicurio) build_image apicurio "APICURIO_VERSION=$APICURIO_VERSION" ;;
  esac
done
log "all requested images ready in $((SECONDS - T_ALL))s"
if [ "$PRUNE" = 1 ]; then
  current=" $BASE_IMAGE ${IMAGE[*]} "
  for ref in $(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^collab/(base|kafka|cassandra|s3proxy|redis|apicurio-registry):'); do
    if [[ $current != *" $ref "* ]]; then
      log "prune: removing $ref"
      docker image rm "$ref" >/dev/null 2>&1 || log "prune: $ref is in use, kept"
    fi
  done
fi
print_names
