/**
 * How long ranking metric suggestions takes: one title against 2,000 metric names (with HELP text)
 * and 1,000 past features, as `rankMetrics` does it for `propose` and `suggest` (tokenising the
 * whole corpus on every call, as the service does). Target: under 50 ms.
 * Run with `npm run bench:suggest` (node -r ts-node/register/transpile-only bench/suggest.ts).
 */
import { performance } from 'node:perf_hooks';
import {
  type CandidateIndex,
  indexCandidates,
  type MetricCandidate,
  type PastFeature,
  rankMetrics,
} from '../src/domain/suggest-metrics';

const METRICS = 2000;
const PAST = 1000;
const RUNS = 200;

/** A deterministic generator (a linear congruential one), so every run ranks the same corpus. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) % 4294967296;
    return state / 4294967296;
  };
}

const WORDS = (
  'bulk export report invoice checkout cart payment search query index page view session login signup ' +
  'onboarding dashboard chart share comment notification email webhook api request error latency upload ' +
  'download file folder team member invite billing plan subscription trial refund order shipment stock ' +
  'catalog product price discount coupon review rating message thread channel reaction mention archive'
).split(' ');
const SUFFIXES = ['total', 'count', 'seconds', 'bytes_total', 'errors_total', 'duration_seconds'];
const rnd = random(42);
const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;

const candidates: MetricCandidate[] = Array.from({ length: METRICS }, (_, i) => {
  const name = `${pick(WORDS)}_${pick(WORDS)}_${i}_${pick(SUFFIXES)}`;
  return {
    metric: name,
    source: i % 10 === 0 ? 'catalog' : 'prometheus',
    name,
    description: `${pick(WORDS)} ${pick(WORDS)} handled by the ${pick(WORDS)} service, per ${pick(WORDS)}.`,
  };
});
const past: PastFeature[] = Array.from({ length: PAST }, (_, i) => ({
  id: `F-${i + 1}`,
  title: `${pick(WORDS)} ${pick(WORDS)} for ${pick(WORDS)} teams`,
  metric: candidates[Math.floor(rnd() * METRICS)]!.metric,
  op: '>=',
  target: 100 + i,
  window: 'week',
  verdict: i % 3 === 0 ? 'missed' : 'met',
  value: 80 + i,
  share: (80 + i) / (100 + i),
}));
const titles = Array.from({ length: 20 }, () => `${pick(WORDS)} ${pick(WORDS)} for enterprise accounts`);
titles.push('Quarterly tax filing');

function run(label: string, corpus: () => readonly MetricCandidate[] | CandidateIndex): void {
  const timings: number[] = [];
  let offered = 0;
  for (let i = 0; i < RUNS; i++) {
    const title = titles[i % titles.length]!;
    const start = performance.now();
    const ranked = rankMetrics(title, { candidates: corpus(), past });
    timings.push(performance.now() - start);
    offered += ranked.length;
  }
  const sorted = [...timings].sort((a, b) => a - b);
  const p99 = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
  const median = (sorted[Math.floor((RUNS - 1) / 2)]! + sorted[Math.ceil((RUNS - 1) / 2)]!) / 2;
  console.log(
    `suggest (${label}): ${METRICS} metric names + ${PAST} past features, ${RUNS} rankings of ${titles.length} titles: ` +
      `median ${median.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${sorted[sorted.length - 1]!.toFixed(2)} ms ` +
      `(first ${timings[0]!.toFixed(2)} ms; ${(offered / RUNS).toFixed(2)} suggestions a title on average; target < 50 ms)`,
  );
}

// Every word folded on every call: the worst case, a listing seen for the first time.
run('corpus folded each time', () => candidates);
// As the service ranks within a minute of listing: the metric names' words folded once.
const index = indexCandidates(candidates);
run('metric names folded once', () => index);
