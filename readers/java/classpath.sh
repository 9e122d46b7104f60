#!/usr/bin/env bash
# Prints the classpath of the JVM reader (ReadOps.java): kafka-clients and avro with their dependencies, resolved
# by Maven into ~/.m2 (from Maven Central the first time; offline when the image builds already fetched them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
mvn -q -f "$here/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
  -Dmdep.outputFile="$out" >&2
cat "$out"
