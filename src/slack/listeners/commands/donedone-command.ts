import type { App, RespondFn, webApi } from '@slack/bolt';
import { decodeSlackEntities } from '../../../domain/mentions';
import type { Expectation } from '../../../domain/model';
import {
  type Command,
  looksLikeExpectation,
  MAX_TITLE,
  type ProposalReading,
  parseCommand,
  usageOf,
} from '../../../domain/parse-command';
import { isStoreError } from '../../../store/redis-connection';
import { actingAs } from '../../../usecases/actor';
import type { FeatureService } from '../../../usecases/feature-service';
import { escapeMrkdwn } from '../../blocks/escape';
import { HELP_TEXT } from '../../blocks/show-blocks';
import { slackErrorCode } from '../../slack-failure';
import type { CommandContext, ListenerDeps } from '../deps';

/** A slash command (or a card button doing what one does) that was acknowledged and still has work to do. */
export interface CommandJob {
  team: string;
  channel: string;
  userId: string;
  triggerId: string;
  text: string;
  /** Answers only the asker (Bolt's `respond` through the request's response_url). */
  respond: (message: { text: string; blocks?: unknown[] }) => Promise<void>;
  /** Bolt's client for the request's workspace (opens the propose form). */
  client: webApi.WebClient;
  /** When the request arrived (ms since the epoch), for the command-duration histogram. */
  receivedAt: number;
}

/** Runs an acknowledged command's work (on a worker, from the request queue). */
export type CommandRunner = (job: CommandJob) => Promise<void>;

/** The answer when a request could not be taken at all: honest that nothing was saved. */
export const NOTHING_SAVED =
  ':warning: I could not take that request (my store did not answer), so nothing was saved. Try again in a minute.';

/** What the acknowledgement says, decided from the text alone (grammar, catalog, sources). */
export type CommandAck =
  | { kind: 'answer'; text: string; refused?: string }
  | { kind: 'run'; command: Command; expectation?: Expectation };

export function decideAck(raw: string, service: Pick<FeatureService, 'parseExpectation'>): CommandAck {
  // Slack escapes &, < and > in what was typed: decoded once here, escaped once where shown. An answer
  // may echo what was typed: the web tier's intake makes the acknowledgement safe (no pings) as it sends it.
  return decideText(decodeSlackEntities(raw), service);
}

function decideText(text: string, service: Pick<FeatureService, 'parseExpectation'>): CommandAck {
  const parsed = parseCommand(text);
  if (!parsed.ok) return { kind: 'answer', text: parsed.error, refused: 'invalid' };
  const cmd = parsed.command;
  if (cmd.name === 'help') return { kind: 'answer', text: HELP_TEXT };
  // Expectations are grammar: refuse a bad one before acknowledging, so nothing changes.
  if (cmd.name === 'propose' && cmd.readings) return decideProposal(cmd, cmd.readings, service);
  const expectationText = cmd.name === 'expect' ? cmd.expectation : undefined;
  if (!expectationText) return { kind: 'run', command: cmd };
  const expectation = service.parseExpectation(expectationText);
  if (!expectation.ok) return { kind: 'answer', text: expectation.error, refused: cmd.name };
  return { kind: 'run', command: cmd, expectation: expectation.value };
}

/**
 * A proposal whose text has the word `expect`: the first reading whose expectation parses is the
 * one meant. With none, a reading that tries to be an expectation (it has a comparison) is
 * answered with its mistake and the other reading named; otherwise `expect` belongs to the title.
 */
function decideProposal(
  cmd: Extract<Command, { name: 'propose' }>,
  readings: ProposalReading[],
  service: Pick<FeatureService, 'parseExpectation'>,
): CommandAck {
  for (const reading of readings) {
    if (!reading.title) continue;
    const parsed = service.parseExpectation(reading.expectation);
    if (parsed.ok) {
      return {
        kind: 'run',
        command: { name: 'propose', title: reading.title, expectation: reading.expectation },
        expectation: parsed.value,
      };
    }
  }
  const whole = cmd.whole ?? cmd.title ?? '';
  const attempted = [...readings].reverse().find((r) => looksLikeExpectation(r.expectation));
  if (attempted) {
    const parsed = service.parseExpectation(attempted.expectation);
    const why = parsed.ok ? '' : parsed.error.split('\nExample:')[0];
    const title = attempted.title || 'a title';
    return {
      kind: 'answer',
      refused: 'propose',
      text: [
        `I read \`${escapeMrkdwn(attempted.expectation)}\` as the expectation of *${escapeMrkdwn(title)}* and could not use it: ${why}`,
        `If you meant \`expect\` as a word of the title, propose it without a comparison in it and add the expectation after: \`/donedone expect F-<n> bulk_export_total >= 200 per week\`.`,
        `Example: \`${usageOf('propose')}\``,
      ].join('\n'),
    };
  }
  if (whole.length > MAX_TITLE) {
    return {
      kind: 'answer',
      refused: 'propose',
      text: `The title is ${whole.length} characters long; keep it to ${MAX_TITLE} or fewer.\nExample: \`${usageOf('propose')}\``,
    };
  }
  return { kind: 'run', command: { name: 'propose', title: whole } };
}

/**
 * `/donedone`: grammar errors are answered in the acknowledgement itself (ephemeral, within
 * Slack's 3 s); everything that touches Redis, telemetry or the Web API runs after `ack()`, in
 * `run` — in production on the command thread, so that work never delays the next ack.
 */
export function register(app: App, _deps: ListenerDeps, run: CommandRunner): void {
  // The web tier answered grammar mistakes in the acknowledgement and queued the rest; this runs
  // on a worker, from the queue (`context.receivedAt` is when the web tier took the request).
  app.command('/donedone', async ({ command, ack, context, client, respond }) => {
    await ack();
    const receivedAt = typeof context.receivedAt === 'number' ? context.receivedAt : Date.now();
    await run({
      team: command.team_id,
      channel: command.channel_id,
      userId: command.user_id,
      triggerId: command.trigger_id,
      text: command.text ?? '',
      respond: ephemeral(respond),
      client,
      receivedAt,
    });
  });
}

/** How a command's outcome is counted on /metrics. */
export type CommandOutcome = { command: string; outcome: 'ok' | 'error'; seconds: number };

/**
 * Does an acknowledged command's work and answers through its response_url. Never throws: a
 * failure is told to the asker in words and logged.
 */
export async function runCommand(
  job: CommandJob,
  deps: ListenerDeps,
  counted: (outcome: CommandOutcome) => void,
): Promise<void> {
  const { respond, client } = job;
  const decided = decideAck(job.text, deps.service);
  // A slash command was answered in its ack already; a button's text is only read here.
  if (decided.kind === 'answer') {
    await respond({ text: decided.text }).catch(() => undefined);
    return;
  }
  const cmd = decided.command;
  const ctx: CommandContext = {
    team: job.team,
    channel: job.channel,
    userId: job.userId,
    triggerId: job.triggerId,
    respond,
    client,
    ...(decided.expectation ? { expectation: decided.expectation } : {}),
  };
  let outcome: CommandOutcome['outcome'] = 'ok';
  try {
    const verdict = await deps.guard?.check(cmd, ctx);
    // A replayed request was acknowledged and does nothing; a refusal is answered and changes nothing.
    if (verdict?.kind === 'replay') return;
    if (verdict?.kind === 'refused') return await ctx.respond({ text: verdict.text });
    // `help` is answered in the acknowledgement (decideAck); every other name has its handler.
    if (cmd.name === 'help') return;
    await actingAs(job.userId, () => deps.handlers[cmd.name](cmd, ctx));
  } catch (err) {
    outcome = 'error';
    deps.log.error({ command: cmd.name, err }, 'command failed');
    await ctx.respond({ text: friendlyError(err) }).catch(() => undefined);
  } finally {
    counted({ command: cmd.name, outcome, seconds: (Date.now() - job.receivedAt) / 1000 });
  }
}

/** Counts a command's outcome on this thread's metrics. */
export function countCommand(metrics: ListenerDeps['metrics']): (o: CommandOutcome) => void {
  return (o) => {
    metrics.commands.inc({ command: o.command, outcome: o.outcome });
    metrics.commandSeconds.observe({ command: o.command }, o.seconds);
  };
}

/** An answer only the asker sees, that never replaces the message a button sits on. */
export function ephemeral(
  respond: RespondFn,
): (message: { text: string; blocks?: unknown[] }) => Promise<void> {
  return async (message) => {
    const res: unknown = await respond({
      response_type: 'ephemeral',
      replace_original: false,
      ...message,
    } as never);
    // Bolt's respond hands back fetch's Response unread: read it, so the connection goes back to
    // the pool instead of waiting for the garbage collector (a busy worker ran out of them).
    await (res as { arrayBuffer?: () => Promise<unknown> } | undefined)
      ?.arrayBuffer?.()
      .catch(() => undefined);
  };
}

/** Words for a failure the user cannot fix by retyping. */
export function friendlyError(err: unknown): string {
  const code = slackErrorCode(err);
  if (code === 'not_in_channel' || code === 'channel_not_found') {
    return ':warning: I can’t post in this channel. Invite me with `/invite @donedone` and try again; nothing was lost.';
  }
  if (isStoreError(err)) {
    return ':warning: I could not reach my database, so nothing was saved. Try again in a minute.';
  }
  return ':warning: Something went wrong on my side, so this may not have been saved. Look with `/donedone list mine` and try again in a minute.';
}
