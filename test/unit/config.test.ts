import { ConfigError, loadConfig } from '../../src/config';

describe('loadConfig', () => {
  it('reads a minimal HTTP-mode environment with the documented defaults', () => {
    const c = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' });
    expect(c).toMatchObject({
      port: 3000,
      redisUrl: 'redis://127.0.0.1:6379',
      staleFlagDays: 180,
      timezone: 'UTC',
      slack: { apiUrl: 'https://slack.com/api/' },
    });
  });

  it('lists every problem at once, never echoing secrets', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({
        SLACK_BOT_TOKEN: 'not-a-token-SECRET',
        PORT: 'eighty',
        PROMETHEUS_URL: 'prometheus:9090',
        POSTHOG_URL: 'https://us.posthog.com',
        DONEDONE_TIMEZONE: 'Mars/Olympus',
        DONEDONE_STALE_FLAG_DAYS: '-1',
        DONEDONE_API_TOKEN: 'short',
      });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toHaveLength(8);
    expect(error!.message).toContain('SLACK_SIGNING_SECRET is required');
    expect(error!.message).toContain('missing: POSTHOG_API_KEY, POSTHOG_PROJECT_ID');
    expect(error!.message).not.toContain('not-a-token-SECRET');
  });

  it('needs no signing secret in Socket Mode', () => {
    expect(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }).slack.appToken).toBe(
      'xapp-1',
    );
  });

  it('reads GRAFANA_URL and GRAFANA_TOKEN together, and names what is missing or malformed', () => {
    const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' };
    expect(loadConfig(base).grafana).toBeUndefined();
    expect(
      loadConfig({ ...base, GRAFANA_URL: 'https://grafana.example.com', GRAFANA_TOKEN: 'glsa_x' }).grafana,
    ).toEqual({ url: 'https://grafana.example.com', token: 'glsa_x' });
    expect(() => loadConfig({ ...base, GRAFANA_URL: 'https://grafana.example.com' })).toThrow(
      'Grafana annotations needs GRAFANA_URL, GRAFANA_TOKEN together; missing: GRAFANA_TOKEN',
    );
    let error: ConfigError | undefined;
    try {
      loadConfig({ ...base, GRAFANA_URL: 'grafana:3000', GRAFANA_TOKEN: 'glsa_SECRET' });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error!.problems).toEqual([
      'GRAFANA_URL must be an http(s) URL, e.g. GRAFANA_URL=https://grafana.example.com',
    ]);
    expect(error!.message).not.toContain('glsa_SECRET');
  });
});
