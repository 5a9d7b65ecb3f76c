#!/usr/bin/env bash
# Sets up and starts donedone on a Debian/Ubuntu machine with Node 20: reads .env when
# present, starts a local Redis (with persistence) when REDIS_URL is unset and none answers,
# installs dependencies, builds, and runs the bot. Settings: README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .env ]; then set -a; . ./.env; set +a; fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if [ -z "${REDIS_URL:-}" ]; then
  if ! command -v redis-server >/dev/null 2>&1; then
    as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server redis-tools >/dev/null
  fi
  if ! redis-cli ping >/dev/null 2>&1; then
    mkdir -p .redis
    echo "starting a local Redis with append-only persistence in ./.redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --dir "$PWD/.redis" --appendonly yes --maxmemory-policy noeviction >/dev/null
  fi
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build
exec npm start
