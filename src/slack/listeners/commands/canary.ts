import type { Logger } from 'pino';
import { chartAltText, renderChartPng } from '../../../charts/render-chart';
import type { Feature } from '../../../domain/model';
import { type CanarySpec, formatCanarySpec, parseCanarySpec } from '../../../domain/parse-canary';
import type { Command } from '../../../domain/parse-command';
import { type CanaryResult, CanaryService } from '../../../usecases/canary-service';
import type { FeatureService } from '../../../usecases/feature-service';
import { canaryChartSpec, canaryMessage, canaryProblemMessage } from '../../blocks/canary-blocks';
import { context } from '../../blocks/digest-blocks';
import { escapeMrkdwn } from '../../blocks/escape';
import type { SlackPort } from '../../port';
import { slackErrorCode } from '../../slack-failure';
import type { CommandContext } from '../deps';

export interface CanaryHandlerDeps {
  canary: CanaryService;
  features: FeatureService;
  slack: SlackPort;
  log: Logger;
}

const ATTACH_EXAMPLE = '/donedone canary F-3 checkout_revenue_dollars_total node=canary';

/**
 * `/donedone canary <metric> <label>=<value> [over <duration>] [lower-is-better]` and
 * `/donedone canary F-3 [<metric> <label>=<value> …]`.
 *
 * A judgement is posted where the team sees it, with its chart in the thread: a rollout decision is
 * the team's business, and Slack cannot attach a file to an ephemeral answer. The plain command
 * posts in the channel it was typed in; a feature's canary posts in the feature's thread. Anything
 * short of a judgement (a typo, no such series, too few points, Prometheus down) is answered only
 * to the person who asked.
 */
export function canaryHandler(deps: CanaryHandlerDeps) {
  return async (cmd: Command, ctx: CommandContext): Promise<void> => {
    if (cmd.name !== 'canary') return;
    if (cmd.id) return forFeature(cmd.id, cmd.spec, ctx, deps);

    const parsed = parseCanarySpec(cmd.spec);
    if (!parsed.ok) return ctx.respond({ text: escapeMrkdwn(parsed.error) });
    const outcome = await deps.canary.judge(parsed.value);
    if (!outcome.ok) return ctx.respond(canaryProblemMessage(outcome.message));
    const message = canaryMessage(outcome.result);
    const blocks = [
      ...message.blocks,
      context(
        `Asked by <@${ctx.userId}> with \`/donedone canary ${escapeMrkdwn(formatCanarySpec(parsed.value))}\``,
      ),
    ];
    let ts: string | undefined;
    try {
      ts = (await deps.slack.post(ctx.team, ctx.channel, { text: message.text, blocks })).ts;
    } catch (err) {
      const code = slackErrorCode(err);
      if (code !== 'not_in_channel' && code !== 'channel_not_found') throw err;
      // Not a member (a DM, or a channel the app was never invited to): answer privately instead.
      return ctx.respond({
        text: message.text,
        blocks: [
          ...message.blocks,
          context(
            'Only you can see this: invite me with `/invite @donedone` to share judgements and charts here.',
          ),
        ],
      });
    }
    if (ts) await uploadChart(deps, ctx.team, outcome.result, ctx.channel, ts);
  };
}

async function forFeature(id: string, specText: string, ctx: CommandContext, deps: CanaryHandlerDeps) {
  const found = await deps.features.get(ctx.team, id);
  if (!found.ok) return ctx.respond({ text: found.error });
  let feature: Feature = found.value;
  let spec: CanarySpec;
  let attached = false;
  if (!specText.trim()) {
    const stored = CanaryService.specOf(feature);
    if (!stored) {
      return ctx.respond({
        text: `${feature.id} has no canary yet. Attach one with the metric and the canary's label, e.g. \`${ATTACH_EXAMPLE}\`.`,
      });
    }
    spec = stored;
  } else {
    const parsed = parseCanarySpec(specText);
    if (!parsed.ok) {
      return ctx.respond({
        text: escapeMrkdwn(parsed.error.replace('/donedone canary ', `/donedone canary ${id} `)),
      });
    }
    spec = parsed.value;
    const updated = await deps.canary.attach(ctx.team, feature.id, spec);
    if (!updated) return ctx.respond({ text: `There is no feature ${id} in this workspace.` });
    feature = updated;
    attached = true;
  }
  const written = `\`${escapeMrkdwn(formatCanarySpec(spec))}\``;
  const attachedNote = attached ? `Attached the canary ${written} to *${feature.id}*. ` : '';
  const outcome = await deps.canary.judge(spec);
  if (!outcome.ok) {
    const problem = canaryProblemMessage(outcome.message);
    return ctx.respond(
      attached
        ? { text: `${attachedNote}No judgement yet: ${problem.text}`, blocks: problem.blocks }
        : problem,
    );
  }
  const message = canaryMessage(outcome.result, { feature });
  const ts = await deps.slack.inThread(feature, message);
  if (!ts || !feature.channel || !feature.cardTs) {
    // No card to thread under (it was never posted): the judgement comes back privately.
    return ctx.respond({ text: `${attachedNote}${message.text}`, blocks: message.blocks });
  }
  await uploadChart(deps, feature.team, outcome.result, feature.channel, feature.cardTs);
  const verdict = outcome.result.judgement.verdict;
  return ctx.respond({
    text: `${attachedNote}Judged: *${verdict}*. The judgement and its chart are in ${feature.id}'s thread.`,
  });
}

/** The chart as a reply in the thread; a failed upload costs the chart, not the judgement. */
async function uploadChart(
  deps: CanaryHandlerDeps,
  team: string,
  result: CanaryResult,
  channel: string,
  threadTs: string,
) {
  try {
    const spec = canaryChartSpec(result);
    await deps.slack.upload(team, {
      channel,
      threadTs,
      file: await renderChartPng(spec),
      filename: `canary-${result.spec.metric}.png`,
      title: spec.title,
      altText: chartAltText(spec),
    });
  } catch (err) {
    deps.log.warn({ err, code: slackErrorCode(err) }, 'canary chart upload failed');
  }
}
