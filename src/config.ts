import { createHash } from 'node:crypto';
import { IANAZone } from 'luxon';

/** A key of DONEDONE_ENCRYPTION_KEY(_OLD): 32 bytes, and its id (stored beside each ciphertext). */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** Many-workspace mode: Slack's OAuth install and the keys that encrypt tokens at rest. */
export interface OAuthConfig {
  clientId: string;
  clientSecret: string;
  stateSecret: string;
  /** DONEDONE_ENCRYPTION_KEY: encrypts every token stored from now on. */
  key: EncryptionKey;
  /** DONEDONE_ENCRYPTION_KEY_OLD while rotating: still decrypts; start-up re-encrypts with `key`. */
  oldKey?: EncryptionKey;
}

export interface Config {
  slack: {
    /** Single-workspace mode: the one bot token. Unset in many-workspace mode (`oauth`). */
    botToken?: string;
    signingSecret?: string;
    appToken?: string;
    apiUrl: string;
  };
  port: number;
  redisUrl: string;
  /** REDIS_CLUSTER_NODES: the store is a Redis Cluster reached through these seed nodes (REDIS_URL unused). */
  redisCluster?: RedisClusterConfig;
  /** Prefix of every Redis key, so several installs (or tests) can share one server. */
  redisPrefix: string;
  prometheusUrl?: string;
  posthog?: { url: string; apiKey: string; projectId: string };
  honeycomb?: { url: string; apiKey: string; dataset: string };
  /** Launch and verdict annotations are posted to Grafana when both are set. */
  grafana?: { url: string; token: string };
  apiToken?: string;
  metricsFile?: string;
  staleFlagDays: number;
  timezone: string;
  /**
   * `web` takes Slack's requests and the API, acknowledges and queues; `worker` runs the queued
   * requests and the scheduled jobs; `all` (default) both, in one process.
   */
  role: 'web' | 'worker' | 'all';
  /** After launch, how long the gate answers inconclusive for no data or no first use. */
  gateGraceHours: number;
  /** Prefixes that make a channel message a proposal, matched case-insensitively at its start. */
  proposalPrefixes: string[];
  logLevel: string;
  /** DONEDONE_GUARD_INTERVAL_SECONDS: how often guardrails are evaluated. */
  guardIntervalSeconds: number;
  /** DONEDONE_ADMINS: Slack user ids who may change any feature. */
  admins: string[];
  /** `DONEDONE_ALLOW_VOLATILE_REDIS=1`: start even on a Redis that does not persist (tests). */
  allowVolatileRedis: boolean;
  /** The flag tool that **Pause rollout** turns a flag off in (FLAGS_*). */
  flags?: FlagsConfig;
  /** Many-workspace mode (SLACK_CLIENT_ID…); absent in single-workspace mode (SLACK_BOT_TOKEN). */
  oauth?: OAuthConfig;
  /** DONEDONE_RETENTION_DAYS: how long an uninstalled workspace's features are kept. */
  retentionDays: number;
}

/** A Redis Cluster's seed nodes and what every node shares: credentials and TLS. */
export interface RedisClusterConfig {
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls?: boolean;
}

export const FLAG_PROVIDERS = ['launchdarkly', 'unleash', 'growthbook'] as const;
export type FlagProviderName = (typeof FLAG_PROVIDERS)[number];

export interface FlagsConfig {
  provider: FlagProviderName;
  url: string;
  token: string;
  /** LaunchDarkly's project key, Unleash's project id; unused by GrowthBook. */
  project?: string;
  environment: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `donedone cannot start: ${problems.length} setting${problems.length === 1 ? '' : 's'} to fix\n${problems
        .map((p) => `  - ${p}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

function validUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Reads and validates the environment once, at start. Every problem is collected, so a
 * newcomer fixes them all in one go; secrets are never echoed back.
 */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const url = (name: string, fallback?: string): string | undefined => {
    const value = get(name) ?? fallback;
    if (value !== undefined && !validUrl(value)) {
      problems.push(`${name} must be an http(s) URL, e.g. ${name}=http://127.0.0.1:9090 (got "${value}")`);
      return undefined;
    }
    return value;
  };

  const botToken = get('SLACK_BOT_TOKEN');
  const oauth = oauthConfig(get, problems, botToken !== undefined);
  if (!botToken && oauth === null)
    problems.push(
      'SLACK_BOT_TOKEN is required for one workspace: the bot token (xoxb-…) from OAuth & Permissions; for many workspaces set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET and DONEDONE_ENCRYPTION_KEY instead',
    );
  else if (botToken && !botToken.startsWith('xoxb-'))
    problems.push('SLACK_BOT_TOKEN must be a bot token starting with xoxb-');
  const appToken = get('SLACK_APP_TOKEN');
  if (appToken && !appToken.startsWith('xapp-')) {
    problems.push('SLACK_APP_TOKEN must be an app-level token starting with xapp- (or unset for HTTP mode)');
  }
  const signingSecret = get('SLACK_SIGNING_SECRET');
  if (!appToken && !signingSecret) {
    problems.push(
      'SLACK_SIGNING_SECRET is required in HTTP mode: Basic Information → App Credentials → Signing Secret',
    );
  }
  let apiUrl = url('SLACK_API_URL', 'https://slack.com/api/') ?? 'https://slack.com/api/';
  if (!apiUrl.endsWith('/')) apiUrl += '/';

  const portText = get('PORT') ?? '3000';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    problems.push(`PORT must be a port number, e.g. PORT=3000 (got "${portText}")`);

  const redisUrl = get('REDIS_URL') ?? 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\//.test(redisUrl))
    problems.push('REDIS_URL must look like redis://host:6379 or rediss://…');
  const clusterText = get('REDIS_CLUSTER_NODES');
  const redisCluster = clusterText === undefined ? undefined : parseClusterNodes(clusterText, problems);
  if (clusterText !== undefined && get('REDIS_URL')) {
    problems.push(
      'Set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both: unset REDIS_URL to use the cluster',
    );
  }

  const redisPrefix = get('DONEDONE_REDIS_PREFIX') ?? 'dd:';
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(redisPrefix)) {
    problems.push('DONEDONE_REDIS_PREFIX may hold letters, digits and _ . : - (e.g. dd:)');
  }
  const prometheusUrl = url('PROMETHEUS_URL');

  const group = (names: string[], label: string): string[] | undefined => {
    const values = names.map(get);
    if (values.every((v) => v === undefined)) return undefined;
    const missing = names.filter((_, i) => values[i] === undefined);
    if (missing.length > 0) {
      problems.push(`${label} needs ${names.join(', ')} together; missing: ${missing.join(', ')}`);
      return undefined;
    }
    return values as string[];
  };
  const ph = group(['POSTHOG_URL', 'POSTHOG_API_KEY', 'POSTHOG_PROJECT_ID'], 'PostHog');
  if (ph && !validUrl(ph[0]!))
    problems.push('POSTHOG_URL must be an http(s) URL, e.g. https://us.posthog.com');
  const hcKey = get('HONEYCOMB_API_KEY');
  const hcDataset = get('HONEYCOMB_DATASET');
  const hcUrl = url('HONEYCOMB_URL', 'https://api.honeycomb.io');
  if ((hcKey && !hcDataset) || (!hcKey && hcDataset)) {
    problems.push('Honeycomb needs HONEYCOMB_API_KEY and HONEYCOMB_DATASET together');
  }

  const grafana = group(['GRAFANA_URL', 'GRAFANA_TOKEN'], 'Grafana annotations');
  if (grafana && !validUrl(grafana[0]!))
    problems.push('GRAFANA_URL must be an http(s) URL, e.g. GRAFANA_URL=https://grafana.example.com');

  const staleText = get('DONEDONE_STALE_FLAG_DAYS') ?? '180';
  const staleFlagDays = Number(staleText);
  if (!Number.isInteger(staleFlagDays) || staleFlagDays < 1) {
    problems.push(`DONEDONE_STALE_FLAG_DAYS must be a whole number of days, e.g. 180 (got "${staleText}")`);
  }
  const timezone = get('DONEDONE_TIMEZONE') ?? 'UTC';
  if (!IANAZone.isValidZone(timezone)) {
    problems.push(`DONEDONE_TIMEZONE must be an IANA time zone such as Europe/Berlin (got "${timezone}")`);
  }
  const roleText = (get('DONEDONE_ROLE') ?? 'all').toLowerCase();
  const role = roleText === 'web' || roleText === 'worker' || roleText === 'all' ? roleText : 'all';
  if (role !== roleText) problems.push(`DONEDONE_ROLE must be web, worker or all (got "${roleText}")`);
  const graceText = get('DONEDONE_GATE_GRACE_HOURS') ?? '24';
  const gateGraceHours = Number(graceText);
  if (!Number.isFinite(gateGraceHours) || gateGraceHours < 0) {
    problems.push(`DONEDONE_GATE_GRACE_HOURS must be a number of hours, e.g. 24 (got "${graceText}")`);
  }
  const apiToken = get('DONEDONE_API_TOKEN');
  if (apiToken !== undefined && apiToken.length < 16) {
    problems.push('DONEDONE_API_TOKEN must be at least 16 characters (e.g. `openssl rand -hex 24`)');
  }
  const proposalPrefixes = (get('DONEDONE_PROPOSAL_PREFIXES') ?? 'Proposal:,Feature:')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);

  const guardText = get('DONEDONE_GUARD_INTERVAL_SECONDS') ?? '300';
  const guardIntervalSeconds = Number(guardText);
  if (!Number.isInteger(guardIntervalSeconds) || guardIntervalSeconds < 10) {
    problems.push(
      `DONEDONE_GUARD_INTERVAL_SECONDS must be a whole number of seconds, at least 10, e.g. 300 (got "${guardText}")`,
    );
  }
  const admins = (get('DONEDONE_ADMINS') ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  for (const admin of admins) {
    if (!/^[UW][A-Z0-9]{2,}$/.test(admin))
      problems.push(
        `DONEDONE_ADMINS must list Slack user ids like U012ABC, comma-separated (got "${admin}")`,
      );
  }
  const flags = flagsConfig(get, problems);
  const volatile = get('DONEDONE_ALLOW_VOLATILE_REDIS');
  if (volatile !== undefined && volatile !== '1' && volatile !== '0') {
    problems.push(`DONEDONE_ALLOW_VOLATILE_REDIS must be 1 or unset (got "${volatile}")`);
  }

  const retentionText = get('DONEDONE_RETENTION_DAYS') ?? '90';
  const retentionDays = Number(retentionText);
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    problems.push(`DONEDONE_RETENTION_DAYS must be a whole number of days, e.g. 90 (got "${retentionText}")`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  const config: Config = {
    slack: { ...(botToken ? { botToken } : {}), apiUrl },
    retentionDays,
    port,
    redisUrl,
    redisPrefix,
    staleFlagDays,
    timezone,
    gateGraceHours,
    role,
    proposalPrefixes,
    logLevel: get('LOG_LEVEL') ?? 'info',
    guardIntervalSeconds,
    admins,
    allowVolatileRedis: volatile === '1',
  };
  if (flags) config.flags = flags;
  if (redisCluster) config.redisCluster = redisCluster;
  if (oauth) config.oauth = oauth;
  if (signingSecret) config.slack.signingSecret = signingSecret;
  if (appToken) config.slack.appToken = appToken;
  if (prometheusUrl) config.prometheusUrl = prometheusUrl;
  if (ph) config.posthog = { url: ph[0]!, apiKey: ph[1]!, projectId: ph[2]! };
  if (hcKey && hcDataset && hcUrl) config.honeycomb = { url: hcUrl, apiKey: hcKey, dataset: hcDataset };
  if (grafana) config.grafana = { url: grafana[0]!, token: grafana[1]! };
  if (apiToken) config.apiToken = apiToken;
  const metricsFile = get('DONEDONE_METRICS_FILE');
  if (metricsFile) config.metricsFile = metricsFile;
  return config;
}

const CLUSTER_EXAMPLE = 'REDIS_CLUSTER_NODES=10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379';

/**
 * REDIS_CLUSTER_NODES: comma-separated seed nodes, each `host:port` or a `redis://[user:password@]host:port`
 * (`rediss://` for TLS) URL. Credentials and TLS are the cluster's, so every URL entry must give the same.
 * A problem names the entry by position and never echoes one holding a password.
 */
export function parseClusterNodes(text: string, problems: string[]): RedisClusterConfig | undefined {
  const before = problems.length;
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  const cluster: RedisClusterConfig = { nodes: [] };
  const shared = new Set<string>();
  entries.forEach((entry, i) => {
    const shown = entry.includes('@') ? `entry ${i + 1}` : `"${entry}"`;
    let host: string;
    let portText: string;
    if (/^rediss?:\/\//.test(entry)) {
      let url: URL;
      try {
        url = new URL(entry);
      } catch {
        problems.push(
          `REDIS_CLUSTER_NODES: ${shown} is not a valid URL; e.g. redis://:password@10.0.0.1:6379`,
        );
        return;
      }
      host = url.hostname.replace(/^\[|\]$/g, '');
      portText = url.port || '6379';
      const creds = {
        username: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        tls: url.protocol === 'rediss:',
      };
      shared.add(JSON.stringify(creds));
      if (creds.username) cluster.username = creds.username;
      if (creds.password) cluster.password = creds.password;
      if (creds.tls) cluster.tls = true;
    } else {
      const m = /^(\[[^\]]+\]|[^:/@\s]+):([^:]*)$/.exec(entry);
      if (!m) {
        problems.push(`REDIS_CLUSTER_NODES: ${shown} is not host:port; e.g. ${CLUSTER_EXAMPLE}`);
        return;
      }
      host = m[1]!.replace(/^\[|\]$/g, '');
      portText = m[2]!;
    }
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
      problems.push(`REDIS_CLUSTER_NODES: ${shown} has no valid port (1-65535); e.g. ${CLUSTER_EXAMPLE}`);
      return;
    }
    cluster.nodes.push({ host, port });
  });
  if (entries.length === 0) problems.push(`REDIS_CLUSTER_NODES lists no node; e.g. ${CLUSTER_EXAMPLE}`);
  if (shared.size > 1) {
    problems.push(
      'REDIS_CLUSTER_NODES: the redis:// entries disagree on user, password or TLS; a cluster has one of each, give them once or the same in every entry',
    );
  }
  return problems.length > before ? undefined : cluster;
}

const FLAG_URLS: Partial<Record<FlagProviderName, string>> = {
  launchdarkly: 'https://app.launchdarkly.com',
  growthbook: 'https://api.growthbook.io',
};

/** FLAGS_PROVIDER and its settings; every problem is pushed, the token is never echoed. */
function flagsConfig(get: (name: string) => string | undefined, problems: string[]): FlagsConfig | undefined {
  const provider = get('FLAGS_PROVIDER')?.toLowerCase();
  const others = ['FLAGS_URL', 'FLAGS_TOKEN', 'FLAGS_PROJECT', 'FLAGS_ENVIRONMENT'].filter((n) => get(n));
  if (!provider) {
    if (others.length > 0)
      problems.push(
        `${others.join(', ')} set without FLAGS_PROVIDER: set FLAGS_PROVIDER=launchdarkly|unleash|growthbook`,
      );
    return undefined;
  }
  if (!(FLAG_PROVIDERS as readonly string[]).includes(provider)) {
    problems.push(`FLAGS_PROVIDER must be launchdarkly, unleash or growthbook (got "${provider}")`);
    return undefined;
  }
  const name = provider as FlagProviderName;
  const url = get('FLAGS_URL') ?? FLAG_URLS[name];
  const token = get('FLAGS_TOKEN');
  const project = get('FLAGS_PROJECT');
  const environment = get('FLAGS_ENVIRONMENT');
  const before = problems.length;
  if (!url)
    problems.push(`FLAGS_URL is required for ${name}: your Unleash server, e.g. https://unleash.example.com`);
  else if (!validUrl(url)) problems.push(`FLAGS_URL must be an http(s) URL (got "${url}")`);
  if (!token) problems.push(`FLAGS_TOKEN is required for ${name}: an API token that may turn flags off`);
  if (!environment)
    problems.push('FLAGS_ENVIRONMENT is required: the environment to turn flags off in, e.g. production');
  if (!project && name !== 'growthbook') {
    problems.push(
      `FLAGS_PROJECT is required for ${name}: the ${name === 'unleash' ? 'project id, e.g. default' : 'project key, e.g. default'}`,
    );
  }
  if (problems.length > before) return undefined;
  return {
    provider: name,
    url: url!.replace(/\/$/, ''),
    token: token!,
    environment: environment!,
    ...(project ? { project } : {}),
  };
}

const OAUTH_SETTINGS = [
  'SLACK_CLIENT_ID',
  'SLACK_CLIENT_SECRET',
  'SLACK_STATE_SECRET',
  'DONEDONE_ENCRYPTION_KEY',
] as const;

/**
 * Many-workspace mode's settings. Null when none is set (single-workspace mode, or nothing at
 * all); undefined when some are wrong (the problems are pushed, secrets never echoed).
 */
function oauthConfig(
  get: (name: string) => string | undefined,
  problems: string[],
  hasBotToken: boolean,
): OAuthConfig | null | undefined {
  const given = OAUTH_SETTINGS.filter((n) => get(n) !== undefined);
  const oldText = get('DONEDONE_ENCRYPTION_KEY_OLD');
  if (given.length === 0) {
    if (oldText)
      problems.push(
        'DONEDONE_ENCRYPTION_KEY_OLD is set without DONEDONE_ENCRYPTION_KEY: set the new key too',
      );
    return null;
  }
  const appSettings = given.filter((n) => n !== 'DONEDONE_ENCRYPTION_KEY');
  if (hasBotToken) {
    // An encryption key alone is harmless beside SLACK_BOT_TOKEN (nothing to encrypt); the app's
    // OAuth credentials are not: which mode was meant is unclear.
    if (appSettings.length === 0) return null;
    problems.push(
      `SLACK_BOT_TOKEN and ${appSettings.join(', ')} are both set: set SLACK_BOT_TOKEN for one workspace, or unset it and use SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET and DONEDONE_ENCRYPTION_KEY for many`,
    );
    return undefined;
  }
  const missing = OAUTH_SETTINGS.filter((n) => get(n) === undefined);
  const before = problems.length;
  if (missing.length > 0) {
    problems.push(
      `Many workspaces need SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET and DONEDONE_ENCRYPTION_KEY together; missing: ${missing.join(', ')}`,
    );
  }
  const stateSecret = get('SLACK_STATE_SECRET');
  if (stateSecret && stateSecret.length < 16) {
    problems.push('SLACK_STATE_SECRET must be at least 16 characters (e.g. `openssl rand -hex 24`)');
  }
  const keyText = get('DONEDONE_ENCRYPTION_KEY');
  const key = keyText ? encryptionKey('DONEDONE_ENCRYPTION_KEY', keyText, problems) : undefined;
  const oldKey = oldText ? encryptionKey('DONEDONE_ENCRYPTION_KEY_OLD', oldText, problems) : undefined;
  if (key && oldKey && key.id === oldKey.id) {
    problems.push(
      'DONEDONE_ENCRYPTION_KEY_OLD is the same key as DONEDONE_ENCRYPTION_KEY: set the new key in DONEDONE_ENCRYPTION_KEY and the previous one in _OLD',
    );
  }
  if (problems.length > before || !key) return undefined;
  return {
    clientId: get('SLACK_CLIENT_ID')!,
    clientSecret: get('SLACK_CLIENT_SECRET')!,
    stateSecret: stateSecret!,
    key,
    ...(oldKey ? { oldKey } : {}),
  };
}

/** A 32-byte key in base64; its id is a digest of it, so no second setting can disagree with it. */
function encryptionKey(name: string, text: string, problems: string[]): EncryptionKey | undefined {
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (key.length !== 32) {
    problems.push(
      `${name} must be 32 bytes in base64 (44 characters, e.g. from \`openssl rand -base64 32\`); the value given is ${key.length === 0 ? 'not base64' : `${key.length} bytes`}`,
    );
    return undefined;
  }
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 8), key };
}
