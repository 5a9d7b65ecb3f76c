import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { installKey } from '../../src/store/keys';
import { scanKeys } from '../../src/store/redis-connection';
import { RETENTION_JOB, RETENTION_SCHEDULER_ID } from '../../src/workspaces/lifecycle';
import { type RunningBot, startBot } from '../support/bot';
import { FakeSlack } from '../support/slack-requests';
import type { Grant } from '../support/slack-stand-in';
import { targetRedis } from '../support/target-redis';
import { drainedBot, waitFor } from '../support/wait';

/**
 * Many workspaces (PRODUCT.md "Many workspaces, many processes"), through the real wire format:
 * the browser's way through /slack/install and /slack/oauth_redirect (state cookie and all), the
 * stand-in's oauth.v2.access issuing a token per workspace, then signed requests from each
 * workspace, and every Web API call's Authorization header as recorded by the stand-in.
 */
const CLIENT = { id: '1111.2222', secret: 'client-secret-0123456789' };
const OPERATOR = 'operator-api-token-0123456789';
const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('base64');

function oauthEnv(key = KEY_A, old?: string): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: '',
    SLACK_CLIENT_ID: CLIENT.id,
    SLACK_CLIENT_SECRET: CLIENT.secret,
    SLACK_STATE_SECRET: 'state-secret-0123456789abcdef',
    DONEDONE_ENCRYPTION_KEY: key,
    ...(old ? { DONEDONE_ENCRYPTION_KEY_OLD: old } : {}),
    DONEDONE_API_TOKEN: OPERATOR,
    DONEDONE_ADMINS: 'UADMIN',
  };
}

const running: RunningBot[] = [];
async function start(opts: Parameters<typeof startBot>[0] = {}): Promise<RunningBot> {
  const bot = await startBot({ ...opts, env: { ...oauthEnv(), ...opts.env } });
  bot.slackApi.client = CLIENT;
  running.push(bot);
  return bot;
}

afterEach(async () => {
  // Restarted bots share a prefix: only the last one of a prefix deletes its keys.
  const last = new Map(running.map((b) => [b.prefix, b]));
  for (const bot of running.splice(0)) await bot.stop({ keepData: last.get(bot.prefix) !== bot });
});

let codes = 0;
/** What a browser does: open the install page, follow Add to Slack, come back with Slack's code. */
async function install(
  bot: RunningBot,
  grant: Grant,
): Promise<{ status: number; page: string; token: string }> {
  const res = await fetch(`${bot.url}/slack/install`);
  expect(res.status).toBe(200);
  const html = await res.text();
  expect(html).toContain('Add to Slack');
  const href = /<a href="([^"]+)"/.exec(html)![1]!.replace(/&#38;/g, '&');
  const authorize = new URL(href);
  expect(`${authorize.origin}${authorize.pathname}`).toBe('https://slack.com/oauth/v2/authorize');
  expect(authorize.searchParams.get('client_id')).toBe(CLIENT.id);
  expect(authorize.searchParams.get('scope')).toContain('commands');
  const state = authorize.searchParams.get('state')!;
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  const code = `code-${++codes}`;
  bot.slackApi.grant(code, grant);
  const done = await fetch(
    `${bot.url}/slack/oauth_redirect?code=${code}&state=${encodeURIComponent(state)}`,
    {
      headers: { cookie },
    },
  );
  const owner = grant.orgWide ? { enterprise: grant.enterprise! } : { team: grant.team! };
  return { status: done.status, page: await done.text(), token: bot.slackApi.tokenOf(owner) ?? '' };
}

function slackOf(bot: RunningBot, team: string, enterprise?: { id: string; orgWide: boolean }): FakeSlack {
  return new FakeSlack({
    botUrl: bot.url,
    responseBase: bot.slackApi.url,
    team,
    ...(enterprise ? { enterprise: enterprise.id, orgWide: enterprise.orgWide } : {}),
  });
}

/** A command's ephemeral answer: in the acknowledgement, or through its response URL. */
async function ask(bot: RunningBot, slack: FakeSlack, text: string, user = 'U1'): Promise<string> {
  const { body, responseId } = await slack.command(text, user);
  if (body) return body;
  await bot.slackApi.waitFor(() => bot.slackApi.responses.some((r) => r.id === responseId), 15_000);
  return String(bot.slackApi.responses.find((r) => r.id === responseId)!.body.text);
}

let events = 0;
/** Opens the App Home tab in `slack`'s workspace; resolves with the views.publish it caused. */
async function openHome(bot: RunningBot, slack: FakeSlack, user = 'U1') {
  const before = bot.slackApi.callsTo('views.publish').length;
  const res = await slack.event(
    { type: 'app_home_opened', user, channel: 'D1', tab: 'home' },
    `Ev${++events}`,
  );
  expect(res.status).toBe(200);
  await bot.slackApi.waitFor(() => bot.slackApi.callsTo('views.publish').length > before);
  return bot.slackApi.callsTo('views.publish')[before]!;
}

/** Every key under the bot's prefix with its value, whatever its type: what an intruder in Redis reads. */
async function redisDump(prefix: string): Promise<string> {
  const redis = targetRedis();
  const out: string[] = [];
  for (const key of await scanKeys(redis, `${prefix}*`)) {
    const type = await redis.type(key);
    const value =
      type === 'string'
        ? await redis.get(key)
        : type === 'hash'
          ? await redis.hgetall(key)
          : type === 'set'
            ? await redis.smembers(key)
            : type === 'zset'
              ? await redis.zrange(key, 0, -1, 'WITHSCORES')
              : type === 'list'
                ? await redis.lrange(key, 0, -1)
                : type === 'stream'
                  ? await redis.xrange(key, '-', '+')
                  : type;
    out.push(`${key} ${JSON.stringify(value)}`);
  }
  redis.disconnect();
  return out.join('\n');
}

async function installRecord(prefix: string, id: string): Promise<Record<string, string>> {
  const redis = targetRedis();
  const record = await redis.hgetall(installKey(prefix, 'install', id));
  redis.disconnect();
  return record;
}

describe('installing in several workspaces', () => {
  it('installs through /slack/install and /slack/oauth_redirect; each workspace is served with its own token, none kept in clear', async () => {
    const bot = await start();
    const one = await install(bot, { team: 'T1', teamName: 'Acme' });
    const two = await install(bot, { team: 'T2', teamName: 'Beta' });
    expect(one.status).toBe(200);
    expect(one.page).toContain('donedone is installed');
    expect(one.page).toContain('Acme');
    expect(one.page).toContain('/invite @donedone');
    expect(one.page).toContain('/donedone help');
    expect(one.token).toMatch(/^xoxb-T1-/);
    expect(two.token).toMatch(/^xoxb-T2-/);
    // oauth.v2.access was asked at SLACK_API_URL with the app's own credentials.
    expect(bot.slackApi.callsTo('oauth.v2.access')).toHaveLength(2);

    const slack1 = slackOf(bot, 'T1');
    const slack2 = slackOf(bot, 'T2');
    // Events (the App Home) and commands (the proposal form) from each workspace use its token.
    expect((await openHome(bot, slack1)).token).toBe(one.token);
    expect((await openHome(bot, slack2)).token).toBe(two.token);
    for (const [slack, token] of [
      [slack1, one.token],
      [slack2, two.token],
    ] as const) {
      const before = bot.slackApi.callsTo('views.open').length;
      const { res } = await slack.command('propose');
      expect(res.status).toBe(200);
      await bot.slackApi.waitFor(() => bot.slackApi.callsTo('views.open').length > before);
      expect(bot.slackApi.callsTo('views.open')[before]!.token).toBe(token);
    }
    // Cards posted by use cases (through the Slack port) carry their workspace's token too.
    for (const [slack, token, title] of [
      [slack1, one.token, 'Bulk export'],
      [slack2, two.token, 'Dark mode'],
    ] as const) {
      await ask(bot, slack, `propose ${title}`);
      await bot.slackApi.waitFor(() =>
        bot.slackApi.callsTo('chat.postMessage').find((c) => JSON.stringify(c.body).includes(title)),
      );
      const cards = bot.slackApi
        .callsTo('chat.postMessage')
        .filter((c) => JSON.stringify(c.body).includes(title));
      expect(cards.map((c) => c.token)).toEqual(cards.map(() => token));
    }
    // A command from each is answered.
    expect(await ask(bot, slack1, 'list')).toMatch(/board|feature|nothing/i);
    expect(await ask(bot, slack2, 'list')).toMatch(/board|feature|nothing/i);
    await drainedBot(bot.donedone);

    expect(await bot.donedone.workspaces.installed({ team: 'T1' })).toMatchObject({
      botToken: one.token,
      botUserId: 'UBOTT1',
      botId: 'BBOTT1',
    });
    expect(await bot.donedone.workspaces.installed({ team: 'T3' })).toBeNull();
    const dump = await redisDump(bot.prefix);
    expect(dump).toContain('install:T-T1');
    for (const token of [one.token, two.token]) {
      expect(dump).not.toContain(token);
      // Not even its random part, in any encoding a careless store might use.
      expect(dump).not.toContain(token.slice(-10));
      expect(dump).not.toContain(Buffer.from(token).toString('base64').slice(0, 24));
    }
    expect(dump).not.toContain(CLIENT.secret);
  });

  it('answers a failed or replayed redirect with a page that says what happened, and installs nothing', async () => {
    const bot = await start();
    const first = await install(bot, { team: 'T1' });
    expect(first.status).toBe(200);
    // The same state again without its browser cookie: refused before Slack is asked.
    const calls = bot.slackApi.callsTo('oauth.v2.access').length;
    const forged = await fetch(`${bot.url}/slack/oauth_redirect?code=code-x&state=forged`);
    expect(forged.status).toBe(400);
    const page = await forged.text();
    expect(page).toContain('donedone was not installed');
    expect(page).toContain('/slack/install');
    expect(bot.slackApi.callsTo('oauth.v2.access')).toHaveLength(calls);
    // Slack refuses the code (used, expired): the page says so, nothing stored.
    bot.slackApi.fail('oauth.v2.access', { error: 'invalid_code' });
    const failed = await install(bot, { team: 'T9' });
    expect(failed.status).toBe(400);
    expect(failed.page).toContain('donedone was not installed');
    expect(failed.page).not.toContain(CLIENT.secret);
    expect(await bot.donedone.workspaces.installed({ team: 'T9' })).toBeNull();
  });

  it('serves every team of an Enterprise Grid org-wide install with the enterprise’s token, scheduled work included', async () => {
    const bot = await start();
    const org = await install(bot, { enterprise: 'E1', orgWide: true });
    expect(org.status).toBe(200);
    expect(org.token).toMatch(/^xoxb-E1-/);
    const slack5 = slackOf(bot, 'T5', { id: 'E1', orgWide: true });
    expect((await openHome(bot, slack5)).token).toBe(org.token);
    await drainedBot(bot.donedone);
    // Work that knows only its team (a job) finds the org's install too.
    expect((await bot.donedone.workspaces.installed({ team: 'T5' }))?.botToken).toBe(org.token);
    expect((await bot.donedone.workspaces.installed({ team: 'T6', enterprise: 'E1' }))?.botToken).toBe(
      org.token,
    );
    expect(await bot.donedone.workspaces.installed({ team: 'T6', enterprise: 'E2' })).toBeNull();
    expect(Object.keys(await installRecord(bot.prefix, 'E-E1'))).toContain('data');
    // Uninstalling the org uninstalls every team of it.
    await slack5.event({ type: 'app_uninstalled' }, 'EvOrgGone');
    await waitFor(async () => (await bot.donedone.workspaces.installed({ team: 'T5' })) === null);
    expect(await bot.donedone.workspaces.installed({ team: 'T6', enterprise: 'E1' })).toBeNull();
    expect(await installRecord(bot.prefix, 'E-E1')).toEqual({});
  });
});

describe('when the installation store fails', () => {
  it('answers an event with an error (Slack sends it again) instead of dropping it as not installed', async () => {
    const bot = await start();
    const { token } = await install(bot, { team: 'T2' });
    const slack2 = slackOf(bot, 'T2');
    const redis = targetRedis();
    const key = installKey(bot.prefix, 'install', 'T-T2');
    try {
      // The record answers every read with an error (WRONGTYPE), as a store in trouble would.
      await redis.rename(key, `${key}:aside`);
      await redis.set(key, 'not a hash');
      const publishes = bot.slackApi.callsTo('views.publish').length;
      const event = { type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home' };
      const failed = await slack2.event(event, 'EvStoreDown');
      expect(failed.status).not.toBe(200);
      await drainedBot(bot.donedone);
      expect(bot.slackApi.callsTo('views.publish')).toHaveLength(publishes);
      // The store is back: Slack's retry of the same event is served.
      await redis.del(key);
      await redis.rename(`${key}:aside`, key);
      const retried = await slack2.event(event, 'EvStoreDown', 1);
      expect(retried.status).toBe(200);
      await bot.slackApi.waitFor(() => bot.slackApi.callsTo('views.publish').length > publishes);
      expect(bot.slackApi.callsTo('views.publish')[publishes]!.token).toBe(token);
    } finally {
      redis.disconnect();
    }
  });
});

describe('encryption keys', () => {
  it('rotates: a restart with the new key and the old one as _OLD still serves, and leaves only new-key ciphertexts', async () => {
    const first = await start();
    const { token } = await install(first, { team: 'T2' });
    const before = await installRecord(first.prefix, 'T-T2');
    await first.stop({ keepData: true });
    running.splice(running.indexOf(first), 1);

    const second = await start({ prefix: first.prefix, env: oauthEnv(KEY_B, KEY_A) });
    const after = await installRecord(second.prefix, 'T-T2');
    expect(after.key).not.toBe(before.key);
    expect(after.data!.split('.')[1]).toBe(after.key);
    expect(after.data).not.toBe(before.data);
    expect((await openHome(second, slackOf(second, 'T2'))).token).toBe(token);
    await drainedBot(second.donedone);
    await second.stop({ keepData: true });
    running.splice(running.indexOf(second), 1);

    // The old key can go now: the new one alone opens every installation.
    const third = await start({ prefix: first.prefix, env: oauthEnv(KEY_B) });
    expect((await openHome(third, slackOf(third, 'T2'))).token).toBe(token);
    expect(await redisDump(third.prefix)).not.toContain(token);
  });
});

describe('leaving', () => {
  it('app_uninstalled deletes the tokens and stops the schedules of that workspace only; a web and a worker process agree', async () => {
    const web = await start({ env: { DONEDONE_ROLE: 'web' } });
    const worker = await start({
      prefix: web.prefix,
      env: { DONEDONE_ROLE: 'worker', SLACK_API_URL: `${web.slackApi.url}/api/` },
    });
    const one = await install(web, { team: 'T1' });
    const two = await install(web, { team: 'T2' });
    const slack1 = slackOf(web, 'T1');
    const slack2 = slackOf(web, 'T2');
    expect(await ask(web, slack2, 'propose Bulk export')).toBeDefined();
    expect(await ask(web, slack2, 'digest every monday 09:00 Europe/Berlin')).toMatch(/monday/i);
    await drainedBot(worker.donedone);
    const schedulers = async () =>
      (await worker.donedone.queue.getJobSchedulers(0, -1)).map((s) => String(s.key));
    expect((await schedulers()).some((k) => k.includes('T2'))).toBe(true);

    await slack2.event({ type: 'app_uninstalled' }, 'EvUninstall');
    await waitFor(async () => (await web.donedone.workspaces.installed({ team: 'T2' })) === null);
    await waitFor(async () => !(await schedulers()).some((k) => k.includes('T2')));
    expect(await redisDump(web.prefix)).not.toContain('install:T-T2');
    // The features are kept (for retention).
    expect(await web.donedone.store.list('T2')).toHaveLength(1);

    // Later requests from T2 get nothing: no answer, no Web API call with any token.
    const calls = web.slackApi.calls.length;
    const responses = web.slackApi.responses.length;
    const { res, body } = await slack2.command('list');
    expect(res.status).toBe(200);
    expect(body).toBe('');
    await slack2.event({ type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home' }, 'EvAfter');
    await drainedBot(worker.donedone);
    expect(web.slackApi.calls.slice(calls).filter((c) => c.token === two.token)).toEqual([]);
    expect(web.slackApi.responses.length).toBe(responses);
    // T1 is unaffected.
    expect((await openHome(web, slack1)).token).toBe(one.token);
  });

  it('work already queued for a workspace that uninstalled posts nothing and fails at once, without retrying', async () => {
    const bot = await start();
    await install(bot, { team: 'T2' });
    const slack2 = slackOf(bot, 'T2');
    expect(await ask(bot, slack2, 'propose Bulk export')).toContain('F-1');
    await drainedBot(bot.donedone);
    await slack2.event({ type: 'app_uninstalled' }, 'EvGone');
    await waitFor(async () => (await bot.donedone.workspaces.installed({ team: 'T2' })) === null);
    const calls = bot.slackApi.calls.length;
    // A digest asked for just before the uninstall, still in the queue (it posts in the channel).
    const job = await bot.donedone.queue.add('digest', {
      team: 'T2',
      channel: 'C1',
      requestedAt: Date.now(),
    } as never);
    await waitFor(async () => (await job.getState()) === 'failed');
    const failed = (await bot.donedone.queue.getJob(job.id!))!;
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toContain('workspace_not_installed');
    expect(bot.slackApi.calls.slice(calls)).toEqual([]);
  });

  it('tokens_revoked for the bot does the same as an uninstall; a revoked user token alone changes nothing', async () => {
    const bot = await start();
    await install(bot, { team: 'T2' });
    const slack2 = slackOf(bot, 'T2');
    await slack2.event({ type: 'tokens_revoked', tokens: { oauth: ['U7'] } }, 'EvUserOnly');
    await drainedBot(bot.donedone);
    expect(await bot.donedone.workspaces.installed({ team: 'T2' })).not.toBeNull();
    await slack2.event({ type: 'tokens_revoked', tokens: { bot: ['UBOTT2'] } }, 'EvBot');
    await waitFor(async () => (await bot.donedone.workspaces.installed({ team: 'T2' })) === null);
  });

  it('keeps an uninstalled workspace’s features DONEDONE_RETENTION_DAYS, then the daily job deletes them; reinstalling keeps them', async () => {
    const bot = await start({ env: { DONEDONE_RETENTION_DAYS: '30' } });
    await install(bot, { team: 'T1' });
    await install(bot, { team: 'T2' });
    await install(bot, { team: 'T3' });
    for (const team of ['T1', 'T2', 'T3']) await ask(bot, slackOf(bot, team), `propose Export for ${team}`);
    await drainedBot(bot.donedone);
    await slackOf(bot, 'T2').event({ type: 'app_uninstalled' }, 'EvU2');
    await slackOf(bot, 'T3').event({ type: 'app_uninstalled' }, 'EvU3');
    await waitFor(async () => (await bot.donedone.workspaces.installed({ team: 'T3' })) === null);
    await waitFor(async () => (await bot.donedone.workspaces.installed({ team: 'T2' })) === null);
    // T3 comes back: its features stay whatever the clock says.
    await install(bot, { team: 'T3' });

    // The daily sweep is a job scheduler (one, however many processes start); here it is run by hand.
    expect(await bot.donedone.queue.getJobScheduler(RETENTION_SCHEDULER_ID)).toMatchObject({
      every: 86_400_000,
    });
    const sweep = async () => {
      await bot.donedone.queue.add(RETENTION_JOB, {});
      await drainedBot(bot.donedone);
    };
    bot.clock.now = bot.clock.now.plus({ days: 29 });
    await sweep();
    expect(await bot.donedone.store.list('T2')).toHaveLength(1);
    bot.clock.now = bot.clock.now.plus({ days: 2 });
    await sweep();
    expect(await bot.donedone.store.list('T2')).toEqual([]);
    expect(await bot.donedone.store.teams()).not.toContain('T2');
    expect(await redisDump(bot.prefix)).not.toMatch(/team:T2:/);
    expect(await bot.donedone.store.list('T1')).toHaveLength(1);
    expect(await bot.donedone.store.list('T3')).toHaveLength(1);
  });

  it('forget-workspace: an admin is told what it deletes and confirms; a stranger is refused; the other workspace keeps its data', async () => {
    const bot = await start();
    await install(bot, { team: 'T1' });
    await install(bot, { team: 'T2' });
    const slack1 = slackOf(bot, 'T1');
    const slack2 = slackOf(bot, 'T2');
    await ask(bot, slack1, 'propose Bulk export');
    await ask(bot, slack1, 'propose Dark mode');
    await ask(bot, slack2, 'propose Other workspace');
    await drainedBot(bot.donedone);

    expect(await ask(bot, slack1, 'forget-workspace', 'U2')).toMatch(
      /Only workspace admins.*Nothing was deleted/,
    );
    const asked = await ask(bot, slack1, 'forget-workspace', 'UADMIN');
    expect(asked).toContain('its 2 features');
    expect(asked).toContain('/donedone forget-workspace confirm');
    expect(await bot.donedone.store.list('T1')).toHaveLength(2);
    expect(await ask(bot, slack1, 'forget-workspace now', 'UADMIN')).toMatch(
      /takes only the word `confirm`[\s\S]*Example: `\/donedone forget-workspace confirm`/,
    );

    const done = await ask(bot, slack1, 'forget-workspace confirm', 'UADMIN');
    expect(done).toContain('deleted 2 features');
    expect(await bot.donedone.store.list('T1')).toEqual([]);
    expect(await redisDump(bot.prefix)).not.toMatch(/team:T1:(f|ids|seq|audit)/);
    expect(await bot.donedone.store.list('T2')).toHaveLength(1);
  });
});

describe('per-workspace API tokens', () => {
  it('an admin makes one (shown once, kept hashed); it sees only its workspace; a stranger is refused; revoking works', async () => {
    const bot = await start();
    await install(bot, { team: 'T1' });
    await install(bot, { team: 'T2' });
    const slack1 = slackOf(bot, 'T1');
    const slack2 = slackOf(bot, 'T2');
    await ask(bot, slack1, 'propose Bulk export');
    await ask(bot, slack2, 'propose Other workspace');
    await drainedBot(bot.donedone);

    expect(await ask(bot, slack1, 'api-token', 'U2')).toMatch(/Only workspace admins.*Nothing changed/);
    const made = await ask(bot, slack1, 'api-token', 'UADMIN');
    expect(made).toContain('shown only this once');
    const token = /`(ddw_[A-Za-z0-9_-]{43})`/.exec(made)![1]!;
    const prefix = token.slice(0, 10);

    const api = (path: string, bearer = token) =>
      fetch(`${bot.url}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
    const mine = (await (await api('/api/features')).json()) as { data: { title: string }[] };
    expect(mine.data.map((f) => f.title)).toEqual(['Bulk export']);
    expect((await api('/api/features?team=T1')).status).toBe(200);
    const other = await api('/api/features?team=T2');
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: string }).error).toContain('belongs to workspace T1');
    expect((await api('/api/features/F-1?team=T2')).status).toBe(403);
    // The operator's token still sees every workspace, and must say which.
    expect((await api('/api/features', OPERATOR)).status).toBe(400);
    const theirs = (await (await api('/api/features?team=T2', OPERATOR)).json()) as {
      data: { title: string }[];
    };
    expect(theirs.data.map((f) => f.title)).toEqual(['Other workspace']);
    expect((await api('/api/features', 'ddw_not-a-real-token-at-all-0000000000000000000')).status).toBe(401);

    const listed = await ask(bot, slack1, 'api-token list', 'UADMIN');
    expect(listed).toContain(prefix);
    expect(listed).not.toContain(token);
    expect(await ask(bot, slack2, 'api-token list', 'UADMIN')).toContain('no API tokens');
    // Another workspace's admin cannot revoke it.
    expect(await ask(bot, slack2, `api-token revoke ${prefix}`, 'UADMIN')).toContain(
      'No API token of this workspace',
    );
    expect(await redisDump(bot.prefix)).not.toContain(token);

    expect(await ask(bot, slack1, `api-token revoke ${prefix}`, 'UADMIN')).toContain('Revoked');
    expect((await api('/api/features')).status).toBe(401);
  });

  it('answers `api-token revoke` without a prefix with the mistake and an example, at once', async () => {
    const bot = await start();
    await install(bot, { team: 'T1' });
    const { res, body } = await slackOf(bot, 'T1').command('api-token revoke', 'UADMIN');
    expect(res.status).toBe(200);
    expect(body).toContain('`api-token revoke` needs the prefix');
    expect(body).toContain('Example: `/donedone api-token revoke ddw_');
    expect(await ask(bot, slackOf(bot, 'T1'), 'api-token revoke nope', 'UADMIN')).toContain(
      'is not a token prefix',
    );
  });
});

describe('one workspace (SLACK_BOT_TOKEN)', () => {
  it('refuses a request from another workspace with a log line, and calls no Web API for it', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const bot = await startBot({ logger: pino({ level: 'info' }, sink) });
    running.push(bot);
    const stranger = slackOf(bot, 'T9');
    const calls = bot.slackApi.calls.length;
    const { res, body } = await stranger.command('propose');
    expect(res.status).toBe(200);
    expect(body).toBe('');
    await stranger.event({ type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home' }, 'EvT9');
    await drainedBot(bot.donedone);
    expect(bot.slackApi.calls.slice(calls)).toEqual([]);
    expect(bot.slackApi.responses).toEqual([]);
    const refusals = lines.filter((l) => l.includes('refused a request from another workspace'));
    expect(refusals.length).toBeGreaterThanOrEqual(2);
    expect(refusals[0]).toContain('"team":"T9"');
    expect(lines.join('')).not.toContain('xoxb-test-token');
    // Its own workspace is served as before; workspace API tokens belong to the many-workspace mode.
    expect((await openHome(bot, slackOf(bot, 'T1'))).token).toBe('xoxb-test-token');
    expect(await ask(bot, slackOf(bot, 'T1'), 'api-token')).toContain('one workspace with SLACK_BOT_TOKEN');
  });
});
