/**
 * Where each kind of Redis key is built, so the layout works on one Redis and on Redis Cluster alike.
 *
 * Redis Cluster refuses a command, transaction or script that touches keys of two hash slots; a key's
 * slot is that of its hash tag, the first `{…}` in its name. So every key that a multi-key operation
 * touches carries the same tag as its companions:
 *
 * - a workspace's data, `<prefix>team:{T}:…` (features, ids, owner index, checks, audit, access cache,
 *   limits): tagged by the workspace, so each workspace lives in one slot and workspaces spread over the
 *   masters (the feature store writes a feature and its indexes in one MULTI, and reads a board in one
 *   pipeline);
 * - BullMQ's queues, prefix `<prefix>{bull}`: BullMQ's scripts touch many keys of one queue, and
 *   BullMQ asks for a hash-tagged prefix on a cluster; both queues (scheduled work and Slack
 *   requests) share that one slot;
 * - a channel's posting pace, `<prefix>slot:{C}` and its companions: tagged by the channel;
 * - vendor limits, `<prefix>limits:{posthog}:…` (see `limitsKeyBase`): tagged by the vendor;
 * - Slack installations, `<prefix>{installs}:…`: an install, the set of installs, the uninstalled teams
 *   and an enterprise's teams change together in one MULTI, across workspaces, so they share one slot.
 *
 * Keys only ever used alone (`epoch`, `teams`, `once:…`, `effect:…`, `measure:…`, `guards:…`) need no tag.
 * The prefix itself holds no braces (`DONEDONE_REDIS_PREFIX` is validated), so the tag is always ours.
 */

/** A key of workspace `team`'s data: `<prefix>team:{T}:<parts joined by :>`. */
export function teamKey(prefix: string, team: string, ...parts: string[]): string {
  return `${prefix}team:{${team}}:${parts.join(':')}`;
}

/** A key of the Slack installations (many-workspace mode): `<prefix>{installs}:<parts joined by :>`. */
export function installKey(prefix: string, ...parts: string[]): string {
  return `${prefix}{installs}:${parts.join(':')}`;
}

/** BullMQ's key prefix for both queues: `<prefix>{bull}`, one hash slot. */
export function bullPrefix(prefix: string): string {
  return `${prefix}{bull}`;
}

/**
 * The keys of a channel's posting pace (one post a second) and of its pacer (src/jobs/pacing.ts):
 * all in the channel's slot, since the pacing scripts touch them together.
 */
export function channelPaceKeys(prefix: string, channel: string, effectKey = '') {
  const tag = `{${channel}}`;
  return {
    nextFree: `${prefix}slot:${tag}`,
    reserved: `${prefix}slot-reserved:${tag}:${effectKey}`,
    last: `${prefix}slot-last:${tag}`,
    pacer: `${prefix}pacer:${tag}`,
    outbox: `${prefix}outbox:${tag}`,
    payloads: `${prefix}outbox-msg:${tag}`,
  };
}
