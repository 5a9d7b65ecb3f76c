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
