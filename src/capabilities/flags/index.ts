import { flagHandler } from '../../slack/listeners/commands/flag';
import type { FeatureService } from '../../usecases/feature-service';
import type { Core } from '../core';
import type { Capability } from '../types';

/** Feature flags: `flag` links one, so digests ask for its removal when stale. */
export function flags(core: Core, features: FeatureService) {
  return {
    subcommands: {
      flag: flagHandler({ service: features, now: core.now, staleFlagDays: core.config.staleFlagDays }),
    },
  } satisfies Capability<'flag'>;
}
