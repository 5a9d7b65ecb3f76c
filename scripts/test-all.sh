#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian/Ubuntu machine with Node 20: installs and starts
# what the tests need (Redis, Prometheus from the distribution's packages) when missing,
# installs the npm dependencies, then `npm test` (type-check, lint, every test).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
need() { # need <command> <debian package>
  if ! command -v "$1" >/dev/null 2>&1; then
    if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
    echo "installing $2 from the distribution's packages"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$2" >/dev/null
  fi
}

need redis-server redis-server
need redis-cli redis-tools   # also joins the test's own 3-master Redis Cluster (redis-cli --cluster create)
need prometheus prometheus   # also brings promtool, used to backfill the test history
need curl curl               # deploy/ci/record-launch.sh is tested for real

REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
if ! redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
  echo "starting a local Redis on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 50); do redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm test
