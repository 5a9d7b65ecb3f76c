import { digestProcessors } from '../../jobs/digest-processors';
import * as homeActions from '../../slack/listeners/actions/home';
import { digestHandler } from '../../slack/listeners/commands/digest';
import { usageHandler } from '../../slack/listeners/commands/usage';
import * as homeEvents from '../../slack/listeners/events/home';
import { DigestService } from '../../usecases/digest-service';
import type { FeatureService } from '../../usecases/feature-service';
import type { LearningService } from '../../usecases/learning-service';
import type { Core } from '../core';
import type { Capability } from '../types';

/** Digests, `usage` and the App Home tab (the board in the digest's groups). */
export function digests(core: Core, features: FeatureService, learning?: LearningService) {
  const { store, queue, usage, now, log, config, access } = core;
  const service = new DigestService({
    ...{ store, queue, usage, now, log },
    staleFlagDays: config.staleFlagDays,
    zone: config.timezone,
    ...(learning
      ? { monthlyLine: (team, channel, slot, at) => learning.monthlyDigestLine(team, channel, slot, at) }
      : {}),
  });
  return {
    service,
    subcommands: {
      digest: digestHandler({ digests: service, slack: core.slack, defaultZone: config.timezone }),
      usage: usageHandler({ service: features, usage, now }),
    },
    processors: Object.fromEntries(
      digestProcessors({
        digests: service,
        effects: core.effects,
        slack: core.jobSlack,
        log,
        visibleIn: (team, channel, list) => access.visibleIn(team, channel, list),
      }),
    ),
    listen(bolt, shared) {
      homeEvents.register(bolt, shared, service);
      homeActions.register(bolt, shared);
    },
  } satisfies Capability<'digest' | 'usage'> & { service: DigestService };
}
