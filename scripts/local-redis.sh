#!/usr/bin/env bash
# Finds a Redis that keeps donedone's data, and prints its URL on stdout (messages go to stderr).
# Used by scripts/start.sh (`npm run up`); runs on a bare Debian/Ubuntu machine.
#
# - REDIS_URL set: that Redis is checked (CONFIG GET appendonly, maxmemory-policy); one that
#   would lose or evict data is refused, unless DONEDONE_ALLOW_VOLATILE_REDIS=1. A Redis that
#   hides CONFIG (most managed ones) is used as named, with a warning.
# - REDIS_URL unset: a Redis this script started before (its port is in $DIR/redis.port) is
#   reused when it still answers with persistence on; so is one on 127.0.0.1:6379 that has
#   appendonly yes and noeviction. Any other is left alone and never reused: a Redis of our own
#   starts on a free port with --appendonly yes --maxmemory-policy noeviction, its files in $DIR
#   (DONEDONE_REDIS_DIR, default ./.redis).
set -euo pipefail
DIR="${DONEDONE_REDIS_DIR:-$PWD/.redis}"
say() { echo "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then say "  (with sudo: $*)"; sudo "$@"
  else say "Run as root, or install sudo: $*"; exit 1; fi
}

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "Redis is not installed and this is not a Debian/Ubuntu machine: install Redis 6 or newer, or set REDIS_URL."
    exit 1
  fi
  say "Redis is not installed: installing Debian's redis-server and redis-tools packages with apt-get."
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server redis-tools >/dev/null
  say "Installed redis-server $(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p'). Debian may also have started its own service on 6379; it is reused only if it persists (see below)."
fi

# Prints "<appendonly> <maxmemory-policy>" of the Redis at URL $1, or nothing when unreachable.
settings_of() {
  local url="$1" aof policy
  aof=$(redis-cli -u "$url" --no-auth-warning CONFIG GET appendonly 2>/dev/null | sed -n 2p) || return 0
  policy=$(redis-cli -u "$url" --no-auth-warning CONFIG GET maxmemory-policy 2>/dev/null | sed -n 2p) || return 0
  [ -n "$aof" ] && echo "$aof $policy"
}
answers() { [ "$(redis-cli -u "$1" --no-auth-warning PING 2>/dev/null)" = "PONG" ]; }

if [ -n "${REDIS_URL:-}" ]; then
  if ! answers "$REDIS_URL"; then
    say "REDIS_URL is set but nothing answers there (or it needs a password in the URL: redis://:password@host:6379)."
    exit 1
  fi
  settings=$(settings_of "$REDIS_URL")
  if [ -z "$settings" ]; then
    say "Warning: this Redis does not let donedone read its configuration (CONFIG is off, as on most managed Redis): make sure it persists (append-only file) and uses maxmemory-policy noeviction."
  elif [ "$settings" != "yes noeviction" ] && [ "${DONEDONE_ALLOW_VOLATILE_REDIS:-}" != 1 ]; then
    say "REDIS_URL points at a Redis that could lose proposals (appendonly/maxmemory-policy: $settings)."
    say "Set 'appendonly yes' and 'maxmemory-policy noeviction' there, unset REDIS_URL to let npm run up start one that does, or set DONEDONE_ALLOW_VOLATILE_REDIS=1 to accept the loss."
    exit 1
  fi
  echo "$REDIS_URL"
  exit 0
fi

if [ -f "$DIR/redis.port" ]; then
  url="redis://127.0.0.1:$(cat "$DIR/redis.port")"
  if [ "$(settings_of "$url")" = "yes noeviction" ]; then
    say "Using the Redis started earlier in $DIR ($url)."
    echo "$url"
    exit 0
  fi
fi

if answers redis://127.0.0.1:6379; then
  settings=$(settings_of redis://127.0.0.1:6379)
  if [ "$settings" = "yes noeviction" ]; then
    say "Using the Redis on 127.0.0.1:6379: it keeps an append-only file and never evicts."
    echo "redis://127.0.0.1:6379"
    exit 0
  fi
  say "The Redis on 127.0.0.1:6379 could lose data (appendonly/maxmemory-policy: ${settings:-unreadable}); leaving it alone and starting one of donedone's own."
fi

port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
mkdir -p "$DIR"
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --dir "$DIR" \
  --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" \
  --appendonly yes --maxmemory-policy noeviction >/dev/null
for _ in $(seq 1 50); do answers "redis://127.0.0.1:$port" && break; sleep 0.1; done
if ! answers "redis://127.0.0.1:$port"; then
  say "The local Redis did not start: see $DIR/redis.log"
  exit 1
fi
echo "$port" > "$DIR/redis.port"
say "Started a Redis of donedone's own on 127.0.0.1:$port (append-only file in $DIR; stop it with: redis-cli -p $port shutdown)."
echo "redis://127.0.0.1:$port"
