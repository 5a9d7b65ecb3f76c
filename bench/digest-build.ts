/**
 * How long building a digest takes for a board of 1,000 features: grouping plus Block Kit, 50 times.
 * Run with `npm run bench:digest` (node -r ts-node/register/transpile-only bench/digest-build.ts).
 */
import { performance } from 'node:perf_hooks';
import { groupBoard } from '../src/domain/board';
import { digestBlocks, textLength } from '../src/slack/blocks/digest-blocks';
import { generateFeatures, linkFor, NOW, usageFor } from '../test/fixtures/board';

const FEATURES = 1000;
const RUNS = 50;

const features = generateFeatures(FEATURES, NOW);
const usage = usageFor(features);
const timings: number[] = [];
let last: ReturnType<typeof digestBlocks> | undefined;
for (let i = 0; i < RUNS; i++) {
  const start = performance.now();
  const groups = groupBoard(features, NOW, { staleFlagDays: 180 });
  last = digestBlocks({ groups, now: NOW, linkFor, usage });
  timings.push(performance.now() - start);
}
const sorted = [...timings].sort((a, b) => a - b);
const median = (sorted[Math.floor((RUNS - 1) / 2)]! + sorted[Math.ceil((RUNS - 1) / 2)]!) / 2;
const max = sorted[sorted.length - 1]!;
console.log(
  `digest for ${FEATURES} features, ${RUNS} builds: median ${median.toFixed(2)} ms, max ${max.toFixed(2)} ms ` +
    `(first build ${timings[0]!.toFixed(2)} ms; ${last!.blocks.length} blocks, ${textLength(last!.blocks)} characters)`,
);
