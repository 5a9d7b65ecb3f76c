import { type ConfigError, loadConfig } from '../../src/config';

const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...base, ...env });
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
}

describe('guardrail and flag settings', () => {
  it('defaults: guardrails every 300 s, no flag tool, no admins', () => {
    const c = loadConfig(base);
    expect(c.guardIntervalSeconds).toBe(300);
    expect(c.flags).toBeUndefined();
    expect(c.admins).toEqual([]);
  });

  it('reads each provider, with its documented default URL', () => {
    expect(
      loadConfig({
        ...base,
        FLAGS_PROVIDER: 'LaunchDarkly',
        FLAGS_TOKEN: 'api-x',
        FLAGS_PROJECT: 'default',
        FLAGS_ENVIRONMENT: 'production',
      }).flags,
    ).toEqual({
      provider: 'launchdarkly',
      url: 'https://app.launchdarkly.com',
      token: 'api-x',
      project: 'default',
      environment: 'production',
    });
    expect(
      loadConfig({
        ...base,
        FLAGS_PROVIDER: 'growthbook',
        FLAGS_TOKEN: 'secret_x',
        FLAGS_ENVIRONMENT: 'production',
      }).flags?.url,
    ).toBe('https://api.growthbook.io');
    expect(loadConfig({ ...base, DONEDONE_ADMINS: 'U1AB, U2CD' }).admins).toEqual(['U1AB', 'U2CD']);
  });

  it('lists what is missing or wrong, never the token', () => {
    const found = problems({ FLAGS_PROVIDER: 'unleash', FLAGS_TOKEN: 'SECRET-TOKEN' });
    expect(found).toEqual([
      'FLAGS_URL is required for unleash: your Unleash server, e.g. https://unleash.example.com',
      'FLAGS_ENVIRONMENT is required: the environment to turn flags off in, e.g. production',
      'FLAGS_PROJECT is required for unleash: the project id, e.g. default',
    ]);
    expect(problems({ FLAGS_PROVIDER: 'flagsmith' })).toEqual([
      'FLAGS_PROVIDER must be launchdarkly, unleash or growthbook (got "flagsmith")',
    ]);
    expect(problems({ FLAGS_TOKEN: 'SECRET-TOKEN' })[0]).toContain('without FLAGS_PROVIDER');
    expect(problems({ DONEDONE_GUARD_INTERVAL_SECONDS: '5' })[0]).toContain('at least 10');
    expect(problems({ DONEDONE_ADMINS: 'maria' })[0]).toContain('Slack user ids');
    expect(
      JSON.stringify(problems({ FLAGS_PROVIDER: 'unleash', FLAGS_TOKEN: 'SECRET-TOKEN' })),
    ).not.toContain('SECRET-TOKEN');
  });
});
