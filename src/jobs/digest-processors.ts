import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Feature } from '../domain/model';
import type { SlackPort } from '../slack/port';
import { asJobError, classifySlackFailure, slackErrorCode } from '../slack/slack-failure';
import type { DigestJob, DigestService, OwnerDigestJob } from '../usecases/digest-service';
import type { Effects } from './effects';
import type { JobData } from './queue';
import type { JobProcessor } from './worker';

export interface DigestProcessorDeps {
  digests: DigestService;
  effects: Effects;
  /** The jobs' Slack port: fails fast on 429, so `Effects` turns it into a delayed job. */
  slack: SlackPort;
  log: Logger;
  /** The features that may be posted in a channel (public ones, and that channel's own). */
  visibleIn?: (team: string, channel: string, features: Feature[]) => Promise<Feature[]>;
}

/** Slack errors no retry can fix: the bot is not in the channel, the channel is gone or archived. */
function failForGood(err: unknown): never {
  throw asJobError(err);
}

/**
 * The slot a digest job is for: a scheduler's job carries its slot time in `opts.prevMillis` (BullMQ names the
 * job `repeat:<scheduler>:<slot>`), a digest asked for now carries `requestedAt`. A restart, a second bot
 * process or a retry runs the same slot, so the post is keyed by it and happens once.
 */
export function digestSlot(job: Job<JobData>): string {
  const data = job.data as DigestJob;
  if (job.repeatJobKey && job.opts.prevMillis) return `slot-${job.opts.prevMillis}`;
  if (typeof data.requestedAt === 'number') return `now-${data.requestedAt}`;
  return `job-${job.id}`;
}

/** Job processors of the digests capability, by job name (`digest`, `owner-digest`). */
export function digestProcessors(deps: DigestProcessorDeps): Map<string, JobProcessor> {
  const { digests, effects, log } = deps;
  const digest: JobProcessor = async (job) => {
    const data = job.data as DigestJob;
    const scheduled = Boolean(job.repeatJobKey);
    // A scheduled job created before `digest off` may still run once; it posts nothing.
    if (scheduled && !(await digests.isScheduled(data.team, data.channel))) return 'unscheduled';
    const slot = digestSlot(job);
    const key = `digest:${data.team}:${data.channel}:${slot}`;
    const result = await effects.once(key, data.channel, async () => {
      const zone = await digests.zoneFor(data.team, data.channel);
      const only = deps.visibleIn;
      const message = await digests.build(
        data.team,
        digests.now().setZone(zone),
        { channel: data.channel, slot },
        only ? (features) => only(data.team, data.channel, features) : undefined,
      );
      await deps.slack.post(data.team, data.channel, message).catch(failForGood);
    });
    log.info({ team: data.team, channel: data.channel, slot, result }, 'digest');
    if (scheduled) await digests.queueOwnerDms(data.team);
    return result === 'done' ? 'posted' : 'already posted';
  };
  const ownerDigest: JobProcessor = async (job) => {
    const data = job.data as OwnerDigestJob;
    const dms = await digests.ownerDms(data.team);
    let sent = 0;
    for (const { ownerId, message } of dms) {
      const result = await effects
        .once(`owner-dm:${data.team}:${ownerId}:${data.week}`, ownerId, () =>
          deps.slack.dm(data.team, ownerId, message),
        )
        .catch((err) => {
          // One owner who cannot be reached must not stop the others' DMs.
          if (classifySlackFailure(err) === 'permanent') {
            log.warn({ owner: ownerId, err: slackErrorCode(err) }, 'owner DM refused');
            return 'refused' as const;
          }
          throw err;
        });
      if (result === 'done') sent += 1;
    }
    return `owner DMs: ${sent} sent of ${dms.length}`;
  };
  return new Map([
    ['digest', digest],
    ['owner-digest', ownerDigest],
  ]);
}
