#!/bin/bash
# S3Proxy with the filesystem-nio2 backend, SigV2/SigV4 authentication.
# Env: S3PROXY_IDENTITY (collab), S3PROXY_CREDENTIAL (collab-secret), S3PROXY_AUTHORIZATION (aws-v2-or-v4),
#      S3PROXY_ENDPOINT (http://0.0.0.0:8080), S3PROXY_BASEDIR (/data), S3PROXY_CORS_ALLOW_ALL (false),
#      S3PROXY_HEAP (-Xmx256m), S3PROXY_EXTRA_PROPERTIES (newline-separated key=value lines appended).
set -euo pipefail
CONF=/opt/s3proxy/s3proxy.conf
IDENTITY=${S3PROXY_IDENTITY:-collab}
CREDENTIAL=${S3PROXY_CREDENTIAL:-collab-secret}
BASEDIR=${S3PROXY_BASEDIR:-/data}
mkdir -p "$BASEDIR"
cat >"$CONF" <<CONF
s3proxy.endpoint=${S3PROXY_ENDPOINT:-http://0.0.0.0:8080}
s3proxy.authorization=${S3PROXY_AUTHORIZATION:-aws-v2-or-v4}
s3proxy.identity=${IDENTITY}
s3proxy.credential=${CREDENTIAL}
s3proxy.cors-allow-all=${S3PROXY_CORS_ALLOW_ALL:-false}
s3proxy.ignore-unknown-headers=true
jclouds.provider=filesystem-nio2
jclouds.identity=${IDENTITY}
jclouds.credential=${CREDENTIAL}
jclouds.filesystem.basedir=${BASEDIR}
${S3PROXY_EXTRA_PROPERTIES:-}
CONF
# shellcheck disable=SC2086
exec java ${S3PROXY_HEAP:--Xmx256m} -XX:TieredStopAtLevel=1 -Dlogback.configurationFile=/opt/s3proxy/logback.xml ${S3PROXY_JVM_OPTS:-} \
  -cp "/opt/s3proxy/lib/*" org.gaul.s3proxy.Main --properties "$CONF"
