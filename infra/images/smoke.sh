#!/usr/bin/env bash
# Starts each locally built image, waits for readiness, performs one real operation, removes the container.
#   bash infra/images/smoke.sh [kafka] [kafka4] [cassandra] [s3proxy] [redis] [apicurio]
# Default: every image of `build.sh --print` that exists locally (kafka4 only if built).
# Traffic goes only to 127.0.0.1 (host-mapped ports) and to the containers this script starts.
# Prints one line per image: "<name> OK ready=<seconds>s" (docker run -> readiness signal).
set -euo pipefail

IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
eval "$(bash "$IMAGES_DIR/build.sh" --print)"
RUN_ID="collab-smoke-$$"
CONTAINERS=()

log() { echo "[smoke] $*" >&2; }
fail() { echo "[smoke] FAIL: $*" >&2; exit 1; }
cleanup() {
  local c
  for c in "${CONTAINERS[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

command -v curl >/dev/null 2>&1 || {
  log "installing curl (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
}
docker info >/dev/null 2>&1 || fail "docker daemon not reachable (run infra/scripts/ensure-docker.sh)"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs_since() { local d=$(($(now_ms) - $1)); printf '%d.%03d' $((d / 1000)) $((d % 1000)); }

# start NAME IMAGE CONTAINER_PORT [docker run args...] -> sets C (container) and HP (host port)
start() {
  local name=$1 image=$2 port=$3
  shift 3
  docker image inspect "$image" >/dev/null 2>&1 || fail "$name: image $image missing; run: bash infra/images/build.sh $name"
  C="$RUN_ID-$name"
  CONTAINERS+=("$C")
  T0=$(now_ms)
  docker run -d --name "$C" -p "127.0.0.1::$port" "$@" "$image" >/dev/null
  HP=$(docker port "$C" "$port/tcp" | grep -m1 '^127.0.0.1:' | sed 's/.*://')
  [ -n "$HP" ] || fail "$name: no host port for $port"
}

# wait_log CONTAINER REGEX TIMEOUT_S: wait for a log line, fail early if the container exits.
wait_log() {
  local c=$1 re=$2 timeout_s=$3 i
  for ((i = 0; i < timeout_s * 5; i++)); do
    if docker logs "$c" 2>&1 | grep -Eq "$re"; then return 0; fi
    if [ "$(docker inspect -f '{{.State.Running}}' "$c")" != true ]; then
      docker logs --tail 40 "$c" >&2
      fail "$c exited before logging /$re/"
    fi
    sleep 0.2
  done
  docker logs --tail 40 "$c" >&2
  fail "$c did not log /$re/ within ${timeout_s}s"
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

smoke_kafka() {
  local name=$1 image=$2 producer
  # Testcontainers-style start: the entrypoint waits for a file that sets the advertised host port.
  start "$name" "$image" 9092 -e KAFKA_WAIT_FOR_FILE=/tmp/advertise.env
  # shellcheck disable=SC2016 # $(hostname) expands inside the container
  printf 'export KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://127.0.0.1:%s,INTERNAL://$(hostname):19092\n' "$HP" >"/tmp/$C.env"
  docker cp "/tmp/$C.env" "$C:/tmp/advertise.env" >/dev/null
  rm -f "/tmp/$C.env"
  wait_log "$C" 'Kafka Server started' 90
  local ready; ready=$(secs_since "$T0")
  tcp_open "$HP" || fail "$name: 127.0.0.1:$HP not accepting connections"
  docker exec "$C" kafka-run-class org.apache.kafka.tools.TopicCommand --bootstrap-server localhost:19092 \
    --create --topic smoke --partitions 1 --replication-factor 1 >/dev/null
  case "$(docker exec "$C" printenv KAFKA_VERSION)" in
    3.*) producer=kafka.tools.ConsoleProducer ;;
    *) producer=org.apache.kafka.tools.ConsoleProducer ;;
  esac
  echo "hello-$name" | docker exec -i "$C" kafka-run-class "$producer" --bootstrap-server localhost:19092 --topic smoke
  # Consume through the host-mapped port and the advertised PLAINTEXT listener (host network -> 127.0.0.1 only).
  local got
  got=$(timeout 60 docker run --rm --network host --entrypoint kafka-run-class "$image" \
    org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "127.0.0.1:$HP" --topic smoke \
    --from-beginning --max-messages 1 --timeout-ms 30000 2>/dev/null)
  [ "$got" = "hello-$name" ] || fail "$name: consumed '$got', expected 'hello-$name'"
  docker rm -f "$C" >/dev/null
  echo "$name OK ready=${ready}s image=$image (topic create, produce in container, consume via 127.0.0.1:$HP)"
}

# Minimal CQL v4 exchange on the native port: STARTUP, then SELECT release_version FROM system.local.
cql_release_version() {
  local port=$1 q='SELECT release_version FROM system.local' out
  out=$(
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    # STARTUP {CQL_VERSION: 3.0.0}
    printf '\x04\x00\x00\x01\x01\x00\x00\x00\x16\x00\x01\x00\x0bCQL_VERSION\x00\x053.0.0' >&3
    # wait for READY (9-byte header) before the next frame: the server reconfigures its pipeline after STARTUP
    timeout 5 head -c 9 <&3 >/dev/null || true
    # QUERY <long string> consistency ONE, flags 0
    local l1 l2
    printf -v l1 '\\x%02x' $((${#q} + 7))
    printf -v l2 '\\x%02x' ${#q}
    # shellcheck disable=SC2059
    printf "\x04\x00\x00\x02\x07\x00\x00\x00${l1}\x00\x00\x00${l2}%s\x00\x01\x00" "$q" >&3
    timeout 3 cat <&3 | tr -c '[:print:]' ' ' || true
  )
  echo "$out"
}

smoke_cassandra() {
  start cassandra "$CASSANDRA_IMAGE" 9042
  wait_log "$C" 'Startup complete' 180
  local ready; ready=$(secs_since "$T0")
  local i
  for ((i = 0; i < 50; i++)); do tcp_open "$HP" && break; sleep 0.2; done
  tcp_open "$HP" || fail "cassandra: 127.0.0.1:$HP (9042) not accepting connections"
  local want; want=$(docker exec "$C" printenv CASSANDRA_VERSION)
  local out; out=$(cql_release_version "$HP")
  [[ $out == *"$want"* ]] || fail "cassandra: CQL query did not return release_version $want (got: ${out:0:200})"
  docker rm -f "$C" >/dev/null
  echo "cassandra OK ready=${ready}s image=$CASSANDRA_IMAGE (CQL SELECT release_version = $want via 127.0.0.1:$HP)"
}

smoke_s3proxy() {
  start s3proxy "$S3PROXY_IMAGE" 8080
  wait_log "$C" 'jetty.server.Server - Started' 60
  local ready; ready=$(secs_since "$T0")
  local u="http://127.0.0.1:$HP" code body
  local S=(-s --max-time 10 --aws-sigv4 "aws:amz:us-east-1:s3" --user collab:collab-secret
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -H "Content-Type: application/octet-stream")
  code=$(curl "${S[@]}" -o /dev/null -w '%{http_code}' -X PUT "$u/smoke-bucket")
  [ "$code" = 200 ] || fail "s3proxy: create bucket -> $code"
  code=$(curl "${S[@]}" -o /dev/null -w '%{http_code}' -X PUT --data-binary 'hello-s3' "$u/smoke-bucket/a.txt")
  [ "$code" = 200 ] || fail "s3proxy: put -> $code"
  body=$(curl "${S[@]}" "$u/smoke-bucket/a.txt")
  [ "$body" = hello-s3 ] || fail "s3proxy: get returned '$body'"
  code=$(curl "${S[@]}" -o /dev/null -w '%{http_code}' -X PUT -H 'If-None-Match: *' --data-binary v1 "$u/smoke-bucket/once")
  [ "$code" = 200 ] || fail "s3proxy: first conditional put -> $code"
  code=$(curl "${S[@]}" -o /dev/null -w '%{http_code}' -X PUT -H 'If-None-Match: *' --data-binary v2 "$u/smoke-bucket/once")
  [ "$code" = 412 ] || fail "s3proxy: second If-None-Match put -> $code (want 412)"
  body=$(curl "${S[@]}" "$u/smoke-bucket/once")
  [ "$body" = v1 ] || fail "s3proxy: conditional object is '$body', want v1"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --aws-sigv4 "aws:amz:us-east-1:s3" --user collab:wrong \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$u/smoke-bucket/a.txt")
  [ "$code" = 403 ] || fail "s3proxy: wrong credential -> $code (want 403)"
  docker rm -f "$C" >/dev/null
  echo "s3proxy OK ready=${ready}s image=$S3PROXY_IMAGE (bucket, put/get, If-None-Match:* 200 then 412, bad signature 403)"
}

smoke_redis() {
  start redis "$REDIS_IMAGE" 6379
  wait_log "$C" 'Ready to accept connections' 30
  local ready; ready=$(secs_since "$T0")
  [ "$(docker exec "$C" redis-cli ping)" = PONG ] || fail "redis: redis-cli ping"
  local out
  out=$(
    exec 3<>"/dev/tcp/127.0.0.1/$HP"
    printf 'SET smoke 1\r\nGET smoke\r\n' >&3
    timeout 2 head -c 12 <&3 | tr -d '\r' | tr '\n' ' '
  )
  [[ $out == "+OK \$1 1"* ]] || fail "redis: SET/GET via 127.0.0.1:$HP returned '$out'"
  docker rm -f "$C" >/dev/null
  echo "redis OK ready=${ready}s image=$REDIS_IMAGE (redis-cli ping, SET/GET via 127.0.0.1:$HP)"
}

smoke_apicurio() {
  start apicurio "$SCHEMA_REGISTRY_IMAGE" 8080
  wait_log "$C" 'started in .*Listening on' 60
  local ready; ready=$(secs_since "$T0")
  local u="http://127.0.0.1:$HP/apis/ccompat/v6" ct='Content-Type: application/vnd.schemaregistry.v1+json' out code
  local v1='{"schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"long\"}]}"}'
  local bad='{"schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}]}"}'
  out=$(curl -s --max-time 10 -X POST -H "$ct" -d "$v1" "$u/subjects/smoke-value/versions")
  [[ $out == '{"id":'* ]] || fail "apicurio: register -> $out"
  out=$(curl -s --max-time 10 -X PUT -H "$ct" -d '{"compatibility":"FULL_TRANSITIVE"}' "$u/config/smoke-value")
  [[ $out == *FULL_TRANSITIVE* ]] || fail "apicurio: set compatibility -> $out"
  out=$(curl -s --max-time 10 -X POST -H "$ct" -d "$bad" "$u/compatibility/subjects/smoke-value/versions/latest")
  [ "$out" = '{"is_compatible":false}' ] || fail "apicurio: compatibility check of an incompatible schema -> $out"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST -H "$ct" -d "$bad" "$u/subjects/smoke-value/versions")
  [ "$code" = 409 ] || fail "apicurio: registering an incompatible schema -> $code (want 409)"
  docker rm -f "$C" >/dev/null
  echo "apicurio OK ready=${ready}s image=$SCHEMA_REGISTRY_IMAGE (register, FULL_TRANSITIVE, incompatible: is_compatible=false and 409)"
}

TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(kafka cassandra s3proxy redis apicurio)
  if [ "${INFRA_WITH_KAFKA4:-0}" = 1 ] || docker image inspect "$KAFKA4_IMAGE" >/dev/null 2>&1; then
    TARGETS+=(kafka4)
  fi
fi
for t in "${TARGETS[@]}"; do
  case "$t" in
    kafka) smoke_kafka kafka "$KAFKA_IMAGE" ;;
    kafka4) smoke_kafka kafka4 "$KAFKA4_IMAGE" ;;
    cassandra) smoke_cassandra ;;
    s3proxy) smoke_s3proxy ;;
    redis) smoke_redis ;;
    apicurio) smoke_apicurio ;;
    *) fail "unknown target $t" ;;
  esac
done
log "all smoke tests passed"
