/**
 * The three flag clients against vendor-shaped stand-ins: the path, auth header, content type and
 * body each vendor documents (openapi/*.yaml), and 401, 429 and 500 told in words without the token.
 */
import type { FlagProviderName } from '../../../src/config';
import { createFlagProvider } from '../../../src/flags';
import { type StandIn, startStandIn } from '../../support/vendor-stand-ins';

const TOKEN = 'tok-SECRET-0123456789';

let standIn: StandIn;
beforeEach(async () => {
  standIn = await startStandIn();
});
afterEach(async () => {
  await standIn.close();
});

const vendors: {
  provider: FlagProviderName;
  label: string;
  method: string;
  path: string;
  auth: string;
  contentType?: string;
  body?: unknown;
  ok: { status: number; json?: unknown };
}[] = [
  {
    provider: 'launchdarkly',
    label: 'LaunchDarkly',
    method: 'PATCH',
    path: '/api/v2/flags/web/new-checkout',
    auth: TOKEN,
    contentType: 'application/json; domain-model=launchdarkly.semanticpatch',
    body: {
      environmentKey: 'production',
      comment: 'paused by donedone',
      instructions: [{ kind: 'turnFlagOff' }],
    },
    ok: { status: 200, json: { key: 'new-checkout', environments: { production: { on: false } } } },
  },
  {
    provider: 'unleash',
    label: 'Unleash',
    method: 'POST',
    path: '/api/admin/projects/web/features/new-checkout/environments/production/off',
    auth: TOKEN,
    ok: { status: 200 },
  },
  {
    provider: 'growthbook',
    label: 'GrowthBook',
    method: 'POST',
    path: '/api/v1/features/new-checkout/toggle',
    auth: `Bearer ${TOKEN}`,
    contentType: 'application/json',
    body: { reason: 'paused by donedone', environments: { production: false } },
    ok: {
      status: 200,
      json: { feature: { id: 'new-checkout', environments: { production: { enabled: false } } } },
    },
  },
];

describe.each(vendors)('$label', (vendor) => {
  const provider = () =>
    createFlagProvider({
      provider: vendor.provider,
      url: standIn.url,
      token: TOKEN,
      project: 'web',
      environment: 'production',
    })!;

  it('turns the flag off in the environment, as the vendor documents', async () => {
    standIn.answer(() => ({ status: vendor.ok.status, ...(vendor.ok.json ? { json: vendor.ok.json } : {}) }));
    const outcome = await provider().turnOff('new-checkout', 'paused by donedone');
    expect(outcome).toMatchObject({ ok: true, status: 200 });
    const [req] = standIn.requests;
    expect(req).toMatchObject({ method: vendor.method, path: vendor.path });
    expect(req!.headers.authorization).toBe(vendor.auth);
    if (vendor.contentType) expect(req!.headers['content-type']).toBe(vendor.contentType);
    if (vendor.body) expect(req!.body).toEqual(vendor.body);
  });

  it.each([
    [401, { message: `Invalid token ${TOKEN}` }, /refused the token \(HTTP 401.*\): check FLAGS_TOKEN/],
    [429, { message: 'Too many requests' }, /rate limiting \(HTTP 429.*\): press again in 30 s/],
    [500, { message: 'internal' }, /had an error \(HTTP 500.*\): press again in a minute/],
    [404, { message: 'Unknown flag' }, /has no flag `new-checkout` there \(HTTP 404/],
  ])('answers HTTP %i with the reason, never the token', async (status, json, reason) => {
    const headers: Record<string, string> = status === 429 ? { 'retry-after': '30' } : {};
    standIn.answer(() => ({ status, json, headers }));
    const outcome = await provider().turnOff('new-checkout', 'paused by donedone');
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.reason).toMatch(reason);
      expect(outcome.reason.startsWith(vendor.label)).toBe(true);
      expect(outcome.reason).not.toContain(TOKEN);
    }
  });

  it('a tool that cannot be reached is a reason too', async () => {
    const url = standIn.url;
    await standIn.close();
    const outcome = await createFlagProvider({
      provider: vendor.provider,
      url,
      token: TOKEN,
      project: 'web',
      environment: 'production',
    })!.turnOff('new-checkout', 'x');
    expect(outcome).toMatchObject({ ok: false });
    if (!outcome.ok) expect(outcome.reason).toMatch(/could not be reached/);
    standIn = await startStandIn();
  });
});
