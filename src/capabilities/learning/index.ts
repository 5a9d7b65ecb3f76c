import * as suggestActions from '../../slack/listeners/actions/suggest';
import { scorecardHandler } from '../../slack/listeners/commands/scorecard';
import { suggestHandler } from '../../slack/listeners/commands/suggest';
import type { FeatureService } from '../../usecases/feature-service';
import { LearningService } from '../../usecases/learning-service';
import type { Core } from '../core';
import type { Capability } from '../types';

/** The learning service: made first, since proposals offer its suggestions and cards show its calibration. */
export function learningService(core: Core): LearningService {
  const { store, checks, telemetry, redis, prefix, now, log, access, hooks } = core;
  const learning = new LearningService({
    ...{ store, checks, telemetry, redis, prefix, now, log },
    zone: core.config.timezone,
    visibleTo: (team, user, features) => access.visibleTo(team, user, features),
  });
  // Kept calibrations are checked against a version that every write changing judged cycles renews.
  store.onWrite((before, after) => learning.featureWritten(before, after));
  hooks.cardLine = (feature) => learning.cardLine(feature);
  hooks.expectationNote = (feature) => learning.expectationNote(feature);
  return learning;
}

/** Learning from past features: `scorecard`, `suggest` and the suggestion buttons. */
export function learning(core: Core, service: LearningService, features: FeatureService) {
  return {
    subcommands: {
      scorecard: scorecardHandler({ service: features, learning: service, guard: core.guard }),
      suggest: suggestHandler({ service: features, learning: service }),
    },
    listen(bolt, shared) {
      suggestActions.register(bolt, shared);
    },
  } satisfies Capability<'scorecard' | 'suggest'>;
}
