import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { type RunningBot, startBot } from '../support/bot';
import { DEPLOY, type Manifest } from '../support/deploy-files';

const run = promisify(execFile);
const dashboard = JSON.parse(
  readFileSync(join(DEPLOY, 'grafana', 'donedone-dashboard.json'), 'utf8'),
) as Manifest;
const panels = (dashboard.panels as Manifest[]).filter((p) => p.type !== 'row');
const exprs: string[] = panels.flatMap((p) => (p.targets as Manifest[]).map((t) => t.expr as string));
const variableQuery = dashboard.templating.list.find((v: Manifest) => v.name === 'job').query.query as string;

/** Grafana's variables replaced by what they stand for, so Prometheus' own parser can read the query. */
const asPromQL = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$job', '.*');

const NOT_METRICS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
]);

/** The metric names a PromQL expression reads: identifiers that are not functions, keywords or labels. */
function metricNames(expr: string): string[] {
  const bare = asPromQL(expr)
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((n) => !NOT_METRICS.has(n));
}

async function promtoolAccepts(expressions: string[]): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dd-dashboard-'));
  const file = join(dir, 'rules.yml');
  writeFileSync(
    file,
    stringify({
      groups: [
        {
          name: 'dashboard',
          rules: expressions.map((expr, i) => ({ record: `dashboard:query:${i}`, expr })),
        },
      ],
    }),
  );
  try {
    const { stdout, stderr } = await run('promtool', ['check', 'rules', file]);
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the Grafana dashboard', () => {
  let bot: RunningBot;
  let exported: Map<string, string>;
  beforeAll(async () => {
    bot = await startBot();
    const text = await (await fetch(`${bot.url}/metrics`)).text();
    exported = new Map(
      text
        .split('\n')
        .filter((l) => l.startsWith('# TYPE '))
        .map((l) => {
          const [, , name, type] = l.split(' ');
          return [name!, type!];
        }),
    );
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('reads only metrics a running bot exports (histograms through their _bucket series)', () => {
    const used = new Set(
      [...exprs, variableQuery.replace(/^label_values\(([^,]+),.*$/, '$1')].flatMap(metricNames),
    );
    expect(used.size).toBeGreaterThanOrEqual(8);
    for (const name of used) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      const known = exported.has(name) || (base !== name && exported.get(base) === 'histogram');
      expect([name, known]).toEqual([name, true]);
    }
  });

  it('covers commands, their duration, checks by verdict, jobs, telemetry errors, memory and CPU', () => {
    const all = exprs.join('\n');
    for (const name of [
      'donedone_commands_total',
      'donedone_command_duration_seconds_bucket',
      'donedone_checks_total',
      'donedone_jobs',
      'donedone_telemetry_errors_total',
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
    ])
      expect(all).toContain(name);
    expect(all).toMatch(/sum by \(verdict\)/);
  });

  it('every query parses with Prometheus’ own parser (promtool), which does refuse a broken one', async () => {
    const checked = await promtoolAccepts(exprs.map(asPromQL));
    expect(checked).toMatchObject({ ok: true });
    expect(checked.output).toContain(`${exprs.length} rules found`);
    expect((await promtoolAccepts(['sum by (outcome) (rate(donedone_commands_total[5m])'])).ok).toBe(false);
  });

  it('shows launch and verdict annotations by the tag the bot gives them', () => {
    const annotation = dashboard.annotations.list.find((a: Manifest) => a.target?.type === 'tags');
    expect(annotation.target.tags).toEqual(['donedone']);
    expect(annotation.datasource).toEqual({ type: 'grafana', uid: '-- Grafana --' });
  });

  it('every panel has a unique id, a title, a place on the grid and reads the chosen data source', () => {
    const ids = (dashboard.panels as Manifest[]).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(p.title).toBeTruthy();
      expect(p.gridPos.w).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's own ${variable} syntax.
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });
});
