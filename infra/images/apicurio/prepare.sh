#!/usr/bin/env bash
# Called by infra/images/build.sh in the image's build context (a copy of this folder): runs the Quarkus build of
# Apicurio Registry from Maven Central (see pom.xml) and leaves the application in app/ (runner jar + lib/).
# Env: APICURIO_VERSION (versions.env), MAVEN_REPO_LOCAL (optional). Maven's output goes to prepare.mvn.log.
set -euo pipefail
ctx=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${APICURIO_VERSION:?APICURIO_VERSION is not set (infra/images/versions.env)}"
# Maven 3 does not interpolate properties in <parent><version>, so the version is substituted here.
sed -i "s/\${apicurio.version}/${APICURIO_VERSION}/g" "$ctx/pom.xml"
repo_opt=()
[ -n "${MAVEN_REPO_LOCAL:-}" ] && repo_opt=(-Dmaven.repo.local="$MAVEN_REPO_LOCAL")
# The upstream parent pom runs checkstyle, enforcer and jacoco against its own source tree, which is not here.
(cd "$ctx" && mvn -B "${repo_opt[@]}" package -Dmaven.test.skip=true -Dcheckstyle.skip -Denforcer.skip \
  -Djacoco.skip >"$ctx/prepare.mvn.log" 2>&1) || {
  tail -n 40 "$ctx/prepare.mvn.log" >&2
  echo "apicurio: mvn package failed (log: $ctx/prepare.mvn.log)" >&2
  exit 1
}
mkdir -p "$ctx/app"
mv "$ctx"/target/*-runner.jar "$ctx/app/registry-runner.jar"
mv "$ctx/target/lib" "$ctx/app/lib"
rm -rf "$ctx/target" "$ctx/prepare.mvn.log"
