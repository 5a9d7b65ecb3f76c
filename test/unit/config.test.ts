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

  it("reads REDIS_CLUSTER_NODES: host:port or redis:// entries, the cluster's credentials once", () => {
    const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' };
    expect(loadConfig(base).redisCluster).toBeUndefined();
    expect(
      loadConfig({ ...base, REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001,redis-3.internal:6379' })
        .redisCluster,
    ).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: 'redis-3.internal', port: 6379 },
      ],
    });
    expect(
      loadConfig({
        ...base,
        REDIS_CLUSTER_NODES: 'rediss://bot:p%40ss@10.0.0.1:7000,rediss://bot:p%40ss@10.0.0.2,[::1]:7002',
      }).redisCluster,
    ).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      username: 'bot',
      password: 'p@ss',
      tls: true,
    });
  });

  it('names each bad REDIS_CLUSTER_NODES entry with an example, never echoing a password', () => {
    const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' };
    let error: ConfigError | undefined;
    try {
      loadConfig({
        ...base,
        REDIS_URL: 'redis://127.0.0.1:6379',
        REDIS_CLUSTER_NODES:
          '10.0.0.1, 10.0.0.2:99999, redis://:SECRET@10.0.0.3:7000, redis://:OTHER-SECRET@10.0.0.4:7000',
      });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error!.problems).toEqual([
      'REDIS_CLUSTER_NODES: "10.0.0.1" is not host:port; e.g. REDIS_CLUSTER_NODES=10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379',
      'REDIS_CLUSTER_NODES: "10.0.0.2:99999" has no valid port (1-65535); e.g. REDIS_CLUSTER_NODES=10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379',
      'REDIS_CLUSTER_NODES: the redis:// entries disagree on user, password or TLS; a cluster has one of each, give them once or the same in every entry',
      'Set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both: unset REDIS_URL to use the cluster',
    ]);
    expect(error!.message).not.toContain('SECRET');
    expect(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: ' , ' })).toThrow(
      'REDIS_CLUSTER_NODES lists no node',
    );
    expect(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: 'redis://:SECRET@bad host:1' })).toThrow(
      'REDIS_CLUSTER_NODES: entry 1 is not a valid URL',
    );
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

describe('many workspaces (OAuth) settings', () => {
  const KEY = Buffer.alloc(32, 7).toString('base64');
  const OTHER = Buffer.alloc(32, 9).toString('base64');
  const many = {
    SLACK_SIGNING_SECRET: 's',
    SLACK_CLIENT_ID: '1111.2222',
    SLACK_CLIENT_SECRET: 'client-s3cr3t-value',
    SLACK_STATE_SECRET: 'state-s3cr3t-0123456789',
    DONEDONE_ENCRYPTION_KEY: KEY,
  };
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      expect((err as Error).message).not.toMatch(/s3cr3t|BwcHBwcH|CQkJCQkJ/);
      return (err as ConfigError).problems;
    }
  };

  it('reads the four settings without SLACK_BOT_TOKEN, with the key id and the default retention', () => {
    const c = loadConfig(many);
    expect(c.slack.botToken).toBeUndefined();
    expect(c.oauth).toMatchObject({ clientId: '1111.2222', clientSecret: 'client-s3cr3t-value' });
    expect(c.oauth!.key.key).toEqual(Buffer.alloc(32, 7));
    expect(c.oauth!.key.id).toMatch(/^[0-9a-f]{8}$/);
    expect(c.oauth!.oldKey).toBeUndefined();
    expect(c.retentionDays).toBe(90);
    const rotating = loadConfig({
      ...many,
      DONEDONE_ENCRYPTION_KEY: OTHER,
      DONEDONE_ENCRYPTION_KEY_OLD: KEY,
    });
    expect(rotating.oauth!.oldKey!.id).toBe(c.oauth!.key.id);
    expect(rotating.oauth!.key.id).not.toBe(c.oauth!.key.id);
    expect(loadConfig({ ...many, DONEDONE_RETENTION_DAYS: '30' }).retentionDays).toBe(30);
  });

  it('refuses both modes at once, naming what to unset', () => {
    expect(problemsOf({ ...many, SLACK_BOT_TOKEN: 'xoxb-1' })).toEqual([
      'SLACK_BOT_TOKEN and SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET are both set: set SLACK_BOT_TOKEN for one workspace, or unset it and use SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET and DONEDONE_ENCRYPTION_KEY for many',
    ]);
    // A key beside SLACK_BOT_TOKEN is harmless: single-workspace mode.
    expect(
      loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', DONEDONE_ENCRYPTION_KEY: KEY })
        .oauth,
    ).toBeUndefined();
  });

  it('names what is missing, and says how to choose when nothing is set', () => {
    const { SLACK_STATE_SECRET: _s, DONEDONE_ENCRYPTION_KEY: _k, ...partial } = many;
    expect(problemsOf(partial)).toEqual([
      'Many workspaces need SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET and DONEDONE_ENCRYPTION_KEY together; missing: SLACK_STATE_SECRET, DONEDONE_ENCRYPTION_KEY',
    ]);
    expect(problemsOf({ SLACK_SIGNING_SECRET: 's' })[0]).toMatch(
      /^SLACK_BOT_TOKEN is required for one workspace.*for many workspaces set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET and DONEDONE_ENCRYPTION_KEY instead$/,
    );
  });

  it('refuses a key that is not 32 bytes of base64, an _OLD equal to the key, a short state secret, a bad retention', () => {
    expect(problemsOf({ ...many, DONEDONE_ENCRYPTION_KEY: Buffer.alloc(16, 1).toString('base64') })).toEqual([
      'DONEDONE_ENCRYPTION_KEY must be 32 bytes in base64 (44 characters, e.g. from `openssl rand -base64 32`); the value given is 16 bytes',
    ]);
    expect(problemsOf({ ...many, DONEDONE_ENCRYPTION_KEY: 'not base64 at all!' })[0]).toContain(
      'is not base64',
    );
    expect(problemsOf({ ...many, DONEDONE_ENCRYPTION_KEY_OLD: KEY })[0]).toContain(
      'DONEDONE_ENCRYPTION_KEY_OLD is the same key as DONEDONE_ENCRYPTION_KEY',
    );
    expect(problemsOf({ ...many, DONEDONE_ENCRYPTION_KEY_OLD: 'short' })[0]).toMatch(
      /^DONEDONE_ENCRYPTION_KEY_OLD must be 32 bytes in base64/,
    );
    expect(problemsOf({ ...many, SLACK_STATE_SECRET: 'short' })).toEqual([
      'SLACK_STATE_SECRET must be at least 16 characters (e.g. `openssl rand -hex 24`)',
    ]);
    expect(problemsOf({ ...many, DONEDONE_RETENTION_DAYS: '0' })).toEqual([
      'DONEDONE_RETENTION_DAYS must be a whole number of days, e.g. 90 (got "0")',
    ]);
  });
});
