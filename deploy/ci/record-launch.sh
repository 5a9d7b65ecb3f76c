#!/usr/bin/env bash
# Records a launch in donedone after a deploy: POST /api/features/<id>/launch for each feature
# id named, so the watch (first use, weekly checks, the verdict) starts from the deploy.
#
# Environment:
#   DONEDONE_URL         the bot's base URL, e.g. https://donedone.example.com (required)
#   DONEDONE_API_TOKEN   the bot's DONEDONE_API_TOKEN, from your CI's secrets (required)
#   FEATURE              feature id(s) to record, e.g. "F-3" or "F-3 F-7" (optional)
#   COMMIT_MESSAGE       read for [F-3] tags when FEATURE is empty (default: git log -1)
#   LAUNCH_AT            the launch date or date-time, e.g. 2026-10-01 (default: now)
#
# No id anywhere: nothing to record, exit 0. A launch the bot refuses (unknown id, wrong token,
# a dropped feature): its answer is printed and the script exits 1. The token is sent in a
# header read from a file descriptor, so it appears in no command line and no log.
set -euo pipefail

: "${DONEDONE_URL:?set DONEDONE_URL to the base URL of the bot, e.g. https://donedone.example.com}"
: "${DONEDONE_API_TOKEN:?set DONEDONE_API_TOKEN from the secrets of your CI}"

# Feature ids in a text: [F-3] tags, or bare F-3 words when given as FEATURE. Upper-cased, once each.
ids_in() { grep -oiE "$1" <<<"$2" | tr -d '[]' | tr 'f' 'F' | awk '!seen[$0]++' || true; }

if [ -n "${FEATURE:-}" ]; then
  ids=$(ids_in '\bF-[0-9]+\b' "$FEATURE")
  if [ -z "$ids" ]; then echo "FEATURE must name feature ids like F-3 (got \"$FEATURE\")" >&2; exit 1; fi
else
  message="${COMMIT_MESSAGE:-$(git log -1 --format=%B 2>/dev/null || true)}"
  ids=$(ids_in '\[F-[0-9]+\]' "$message")
  if [ -z "$ids" ]; then
    echo "No [F-3]-style feature id in the commit message and no FEATURE given: no launch to record."
    exit 0
  fi
fi

body='{}'
if [ -n "${LAUNCH_AT:-}" ]; then
  if ! [[ "$LAUNCH_AT" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9:]+)?)?$ ]]; then
    echo "LAUNCH_AT must be a date or date-time, e.g. 2026-10-01 (got \"$LAUNCH_AT\")" >&2
    exit 1
  fi
  body="{\"at\": \"$LAUNCH_AT\"}"
fi

failed=0
for id in $ids; do
  url="${DONEDONE_URL%/}/api/features/$id/launch"
  if answer=$(curl --silent --show-error --fail-with-body --max-time 30 \
    --retry 3 --retry-connrefused --retry-delay 2 \
    -X POST -H 'content-type: application/json' \
    -H @<(printf 'authorization: Bearer %s\n' "$DONEDONE_API_TOKEN") \
    --data "$body" "$url"); then
    echo "Recorded the launch of $id: $answer"
  else
    echo "Could not record the launch of $id: ${answer:-no answer from $url}" >&2
    failed=1
  fi
done
exit "$failed"
