import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Manifest, ROOT, readYaml } from '../support/deploy-files';
import { type StandIn, startStandIn } from '../support/vendor-stand-ins';

const SCRIPT = join(ROOT, 'deploy', 'ci', 'record-launch.sh');
const TOKEN = 'ci-secret-api-token-0123456789';
let bot: StandIn;

beforeEach(async () => {
  // The bot's answer to POST /api/features/:id/launch, as src/http/api.ts gives it.
  bot = await startStandIn((req) => {
    const id = /^\/api\/features\/([^/]+)\/launch$/.exec(req.path)?.[1];
    if (req.method !== 'POST' || !id) return { status: 404, json: { error: 'Not found' } };
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return { status: 401, json: { error: 'Send Authorization: Bearer <DONEDONE_API_TOKEN>.' } };
    if (id === 'F-9') return { status: 404, json: { error: 'No feature F-9 in this workspace.' } };
    return { status: 200, json: { data: { id, launchedAt: '2026-10-01T00:00:00.000Z', changed: true } } };
  });
});
afterEach(async () => {
  await bot.close();
});

function record(
  env: Record<string, string>,
  cwd = ROOT,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [SCRIPT],
      {
        cwd,
        env: { PATH: process.env.PATH ?? '', DONEDONE_URL: bot.url, DONEDONE_API_TOKEN: TOKEN, ...env },
        timeout: 30_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

it('records each [F-n] of the commit message once, in order, with the token in the header and an empty body', async () => {
  const out = await record({
    COMMIT_MESSAGE: 'Ship bulk export [F-3]\n\nAlso mends [f-3] and [F-12]; see F-4.',
  });
  expect(out.code).toBe(0);
  expect(bot.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
    'POST /api/features/F-3/launch',
    'POST /api/features/F-12/launch',
  ]);
  for (const r of bot.requests) {
    expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body).toEqual({});
  }
  expect(out.stdout).toContain('Recorded the launch of F-3');
  expect(out.stdout).toContain('Recorded the launch of F-12');
  expect(out.stdout + out.stderr).not.toContain(TOKEN);
});

it('FEATURE (a workflow input) wins over the commit message; LAUNCH_AT becomes the body', async () => {
  const out = await record({
    FEATURE: 'f-7',
    COMMIT_MESSAGE: '[F-3] something else',
    LAUNCH_AT: '2026-10-01',
  });
  expect(out.code).toBe(0);
  expect(bot.requests.map((r) => [r.path, r.body])).toEqual([
    ['/api/features/F-7/launch', { at: '2026-10-01' }],
  ]);
});

it('reads the last commit’s message when none is given', async () => {
  const repo = mkdtempSync(join(tmpdir(), 'dd-ci-'));
  try {
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.com', ...args], { cwd: repo });
    git('init', '-q');
    git('commit', '-q', '--allow-empty', '-m', 'Dark mode for everyone [F-5]');
    const out = await record({}, repo);
    expect(out.code).toBe(0);
    expect(bot.requests.map((r) => r.path)).toEqual(['/api/features/F-5/launch']);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});

it('no feature id anywhere: nothing is sent and the deploy is not failed', async () => {
  const out = await record({ COMMIT_MESSAGE: 'Tidy the README (F-3 is mentioned, not tagged)' });
  expect(out.code).toBe(0);
  expect(out.stdout).toContain('no launch to record');
  expect(bot.requests).toEqual([]);
});

it('a launch the bot refuses fails the step with the bot’s own words; the others are still recorded', async () => {
  const out = await record({ COMMIT_MESSAGE: '[F-9] [F-3]' });
  expect(out.code).toBe(1);
  expect(out.stderr).toContain(
    'Could not record the launch of F-9: {"error":"No feature F-9 in this workspace."}',
  );
  expect(bot.requests.map((r) => r.path)).toEqual(['/api/features/F-9/launch', '/api/features/F-3/launch']);
  const wrongToken = await record({ COMMIT_MESSAGE: '[F-3]', DONEDONE_API_TOKEN: 'not-the-token-at-all' });
  expect(wrongToken.code).toBe(1);
  expect(wrongToken.stderr).toContain('Send Authorization: Bearer');
});

it('bad input is refused before anything is sent', async () => {
  expect((await record({ FEATURE: 'feature three' })).code).toBe(1);
  const badDate = await record({ FEATURE: 'F-3', LAUNCH_AT: 'next tuesday' });
  expect(badDate.code).toBe(1);
  expect(badDate.stderr).toContain('LAUNCH_AT must be a date or date-time, e.g. 2026-10-01');
  const noToken = await record({ FEATURE: 'F-3', DONEDONE_API_TOKEN: '' });
  expect(noToken.code).not.toBe(0);
  expect(noToken.stderr).toContain('DONEDONE_API_TOKEN');
  expect(bot.requests).toEqual([]);
});

describe('the GitHub Actions example', () => {
  const workflow = readYaml(join(ROOT, '.github', 'workflows', 'record-launch.yml'))[0]!;
  const steps = Object.values(workflow.jobs as Record<string, Manifest>).flatMap(
    (j) => j.steps as Manifest[],
  );
  const step = steps.find((s) => String(s.run ?? '').includes('record-launch.sh'))!;

  // biome-ignore-start lint/suspicious/noTemplateCurlyInString: GitHub's own ${{ }} expressions.
  it('runs the script with the token from a secret, the feature from an input, nothing spliced into the shell', () => {
    expect(step.run).toBe('bash deploy/ci/record-launch.sh');
    expect(step.env.DONEDONE_API_TOKEN).toBe('${{ secrets.DONEDONE_API_TOKEN }}');
    expect(step.env.FEATURE).toBe('${{ inputs.feature }}');
    expect(step.env.COMMIT_MESSAGE).toBe('${{ github.event.head_commit.message }}');
    expect(Object.keys(workflow.on.workflow_dispatch.inputs)).toEqual(['feature', 'at']);
    for (const s of steps) expect(String(s.run ?? '')).not.toContain('${{');
  });
  // biome-ignore-end lint/suspicious/noTemplateCurlyInString: GitHub's own ${{ }} expressions.
});
