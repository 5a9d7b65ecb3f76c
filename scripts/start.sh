#!/usr/bin/env bash
# Sets up and starts donedone on a Debian/Ubuntu machine with Node 20: reads .env when present,
# finds a Redis that keeps its data (scripts/local-redis.sh: checks the one in REDIS_URL, or
# starts one of its own on a free port; never reuses one it did not check), installs the
# dependencies, builds, and runs the bot. Settings: README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .env ]; then set -a; . ./.env; set +a; fi

if [ -z "${REDIS_CLUSTER_NODES:-}" ]; then
  REDIS_URL="$(bash scripts/local-redis.sh)"
  export REDIS_URL
fi # with REDIS_CLUSTER_NODES the bot checks every master itself at start
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--enable-source-maps"
# `npm start`'s command (package.json: node with the heap flag donedone is deployed with), run with
# exec rather than through npm, so a SIGTERM reaches node itself (npm would exit and leave it running).
read -r -a START <<<"$(node -p "require('./package.json').scripts.start")"
exec "${START[@]}"
