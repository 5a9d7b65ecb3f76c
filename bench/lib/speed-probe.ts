import { createHash } from 'node:crypto';

/**
 * How fast this machine is right now, for reading CPU figures across runs and machines: the CPU
 * time of a fixed piece of work like the bot's own (JSON in and out, strings, maps, a SHA-1),
 * run five times in this process, median. The same code has measured up to 1.3 times the bot CPU
 * from one hour to the next on the same machine; a probe taken before and after a run says whether
 * the machine (or the host under it) was slower then. Lower is faster.
 */
export function speedProbeMs(rounds = 5): number {
  const feature = {
    id: 'F-1',
    team: 'T1',
    title: 'Bulk export of the reports page',
    ownerId: 'U0001',
    status: 'launched',
    launchedAt: '2026-05-25T09:00:00.000Z',
    expectation: { metric: { source: 'prometheus', name: 'bulk_export_total' }, op: '>=', target: 200 },
    history: Array.from({ length: 5 }, (_, i) => ({ at: `2026-0${i + 1}-01T09:00:00.000Z`, value: i * 37 })),
  };
  const times: number[] = [];
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    const start = process.cpuUsage();
    const seen = new Map<string, number>();
    for (let i = 0; i < 40_000; i++) {
      const copy = JSON.parse(JSON.stringify({ ...feature, id: `F-${i}` })) as typeof feature;
      const key = `${copy.team}:${copy.id}:${copy.launchedAt}`;
      seen.set(key, (seen.get(key) ?? 0) + copy.history.length);
      if (i % 8 === 0) sink += createHash('sha1').update(key).digest()[0]!;
    }
    sink += seen.size;
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1000);
  }
  if (sink < 0) throw new Error('unreachable');
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
