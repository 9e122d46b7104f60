#!/usr/bin/env bash
# CI check: every schema in schemas/avro is compatible with all earlier versions of its subject, by the schema
# registry's own compatibility endpoint (check-compatibility.ts). Uses SCHEMA_REGISTRY_URL when set; otherwise
# starts a registry container from the local image (infra/images/build.sh, SCHEMA_REGISTRY_IMAGE) on a
# 127.0.0.1 port, and removes it afterwards. A few seconds.
#
#   bash schemas/scripts/check-compatibility.sh [draft.avsc ...]   # drafts: checked as the next op-committed versions
#   bash schemas/scripts/check-compatibility.sh comment-event:draft.avsc   # a draft of comment-event
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DRAFTS=()
for draft in "$@"; do
  case "$draft" in
    comment-event:*) DRAFTS+=("comment-event:$(realpath "${draft#comment-event:}")") ;;
    *) DRAFTS+=("$(realpath "$draft")") ;;
  esac
done
run_check() { (cd "$ROOT" && npx tsx --conditions=@collab/source schemas/scripts/check-compatibility.ts "${DRAFTS[@]}"); }
if [ -n "${SCHEMA_REGISTRY_URL:-}" ]; then
  run_check
  exit
fi
eval "$(bash "$ROOT/infra/images/build.sh" --print | grep '^SCHEMA_REGISTRY_IMAGE=')"
docker image inspect "$SCHEMA_REGISTRY_IMAGE" >/dev/null 2>&1 ||
  { echo "image $SCHEMA_REGISTRY_IMAGE missing: run npm run infra:images" >&2; exit 2; }
name="collab-compat-check-$$"
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
docker run -d --name "$name" -p 127.0.0.1::8080 "$SCHEMA_REGISTRY_IMAGE" >/dev/null
port=$(docker port "$name" 8080/tcp | grep -m1 '^127.0.0.1:' | sed 's/.*://')
export SCHEMA_REGISTRY_URL="http://127.0.0.1:${port}/apis/ccompat/v6"
for _ in $(seq 1 150); do # bounded: 30 s
  curl -sf "$SCHEMA_REGISTRY_URL/subjects" >/dev/null && break
  [ "$(docker inspect -f '{{.State.Running}}' "$name")" = true ] || { docker logs --tail 30 "$name" >&2; exit 1; }
  sleep 0.2
done
run_check
