#!/usr/bin/env bash
# `npm run bench:checks:ab`: issue 13's "half the CPU" judged on one machine in one hour. It runs
# `npm run bench:checks` of the code before issue 13's posting work (BENCH_BASE, default 4f49104:
# every result re-delaying itself until its channel's slot) and of this checkout, in turn,
# BENCH_PAIRS times (default 2; the order alternates, so neither side always runs on a warmer or
# quieter machine), and prints each side's bot CPU over the sweep and the ratio.
#
# Why: the same code measures up to 1.6 times the CPU from one machine, or one hour, to another
# (bench/lib/speed-probe.ts), so an absolute figure taken on another day (the issue's 63 s) cannot
# be halved reliably; both sides measured back to back can be compared.
#
# The base's bench seeded features without a first use, which its own Prometheus stand-in cannot
# answer (fixed in a7fbb61); the same one line is added to its copy before it runs. Needs the git
# history (a full clone) and the npm registry for the base's `npm ci`. About 7 minutes a pair.
# BENCH_AB_KEEP=<dir> keeps every run's full output there.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${BENCH_BASE:-4f49104}"
PAIRS="${BENCH_PAIRS:-2}"
if ! [[ "$PAIRS" =~ ^[1-9][0-9]*$ ]]; then
  echo "BENCH_PAIRS must be a whole number of pairs, 1 or more (e.g. BENCH_PAIRS=2), not '$PAIRS'" >&2
  exit 2
fi
if ! git rev-parse --verify --quiet "$BASE^{commit}" >/dev/null; then
  echo "BENCH_BASE '$BASE' is no commit of this repository (a full clone is needed; e.g. BENCH_BASE=4f49104)" >&2
  exit 2
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/donedone-ab-XXXXXX")"
cleanup() {
  git worktree remove --force "$work/base" >/dev/null 2>&1 || true
  if [ -n "${BENCH_AB_KEEP:-}" ]; then mkdir -p "$BENCH_AB_KEEP" && cp "$work"/*.log "$BENCH_AB_KEEP"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

git worktree add --detach "$work/base" "$BASE" >/dev/null
(
  cd "$work/base"
  if ! grep -q 'firstUseAt: LAUNCHED_AT' bench/checks-sweep.ts; then
    sed -i 's/^    launchedAt: LAUNCHED_AT,$/&\n    firstUseAt: LAUNCHED_AT,/' bench/checks-sweep.ts
    grep -q 'firstUseAt: LAUNCHED_AT' bench/checks-sweep.ts || { echo "could not patch the base's bench" >&2; exit 1; }
  fi
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
)

# The bot's CPU over the sweep, as both versions of the bench print it ("bot process over …: CPU 42.7 s").
cpu_of() { grep -oE 'bot process over [0-9.]+ s: CPU [0-9.]+ s' "$1" | grep -oE '[0-9.]+ s$' | grep -oE '[0-9.]+'; }
runs_of() { grep -oE 'check job runs: [0-9]+ for [0-9]+ jobs \([0-9.]+ each\)' "$1" | grep -oE "[0-9.]+ each" | grep -oE "[0-9.]+" || echo "n/a"; }
probe_of() { grep -oE 'speed probe[^:]*: [0-9]+ ms before' "$1" | grep -oE '[0-9]+ ms' || echo 'n/a'; }

run_side() { # run_side <name> <dir> <log>
  echo "$(date -u +%H:%M:%S) ${1}: npm run bench:checks"
  if ! (cd "$2" && npm run bench:checks >"$3" 2>&1); then
    echo "${1}'s bench failed; its output: $3" >&2
    tail -20 "$3" >&2
    exit 1
  fi
}

results=()
for i in $(seq 1 "$PAIRS"); do
  if [ $((i % 2)) = 1 ]; then order="base this"; else order="this base"; fi
  for side in $order; do
    if [ "$side" = base ]; then dir="$work/base"; else dir="$PWD"; fi
    run_side "$side" "$dir" "$work/$side-$i.log"
  done
  base_cpu="$(cpu_of "$work/base-$i.log")"
  this_cpu="$(cpu_of "$work/this-$i.log")"
  ratio="$(node -e "console.log((${this_cpu} / ${base_cpu}).toFixed(2))")"
  line="pair $i ($order): base ($BASE) ${base_cpu} s ($(runs_of "$work/base-$i.log") check job runs a post), this $(git rev-parse --short HEAD) ${this_cpu} s (speed probe before this: $(probe_of "$work/this-$i.log")) = ${ratio} x"
  echo "$line"
  results+=("$line")
done
echo
echo "bot CPU over the sweep, this / base (target: <= 0.50, half the CPU):"
printf '  %s\n' "${results[@]}"
