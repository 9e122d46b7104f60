#!/usr/bin/env bash
# Runs the registry in the foreground. Storage is in memory (H2): a restarted container starts empty, and the
# writer registers its schema again at start (the registry returns the same id for the same schema only within
# one registry's lifetime — see docs/operations.md, COLLAB_SCHEMA_REGISTRY_URL).
# Env: REGISTRY_HEAP (default 256m), REGISTRY_LOG_LEVEL (default INFO).
set -euo pipefail
exec java -Xmx"${REGISTRY_HEAP:-256m}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -Dquarkus.profile=prod -Dquarkus.http.port=8080 -Dquarkus.http.host=0.0.0.0 \
  -Dquarkus.log.level="${REGISTRY_LOG_LEVEL:-INFO}" -Dquarkus.log.category.\"io.apicurio\".level=INFO \
  -jar /opt/apicurio/registry-runner.jar
