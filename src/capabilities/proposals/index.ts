import * as actions from '../../slack/listeners/actions';
import { metricsHandler } from '../../slack/listeners/commands/metrics';
import { ownerHandler } from '../../slack/listeners/commands/owner';
import { proposalHandlers } from '../../slack/listeners/commands/proposals';
import * as epochCheck from '../../slack/listeners/epoch';
import * as events from '../../slack/listeners/events';
import * as membershipEvents from '../../slack/listeners/events/membership';
import * as options from '../../slack/listeners/options';
import * as shortcuts from '../../slack/listeners/shortcuts';
import * as views from '../../slack/listeners/views';
import { FeatureService } from '../../usecases/feature-service';
import type { LearningService } from '../../usecases/learning-service';
import type { Core } from '../core';
import type { Capability } from '../types';

/**
 * Proposals and expectations: propose (command, form, "Proposal:" message), expect, check, show,
 * list, drop, owner, metrics; the card's buttons, the forms, the metric picker; who is in which
 * channel (membership events) and the install's epoch on buttons.
 */
export function proposals(core: Core, learning?: LearningService) {
  const { store, telemetry, log, now, hooks } = core;
  const service = new FeatureService({
    store,
    telemetry,
    poster: core.slack,
    log,
    now,
    zone: core.config.timezone,
    onExpectationChanged: async (previous, feature) => hooks.expectationChanged?.(previous, feature),
    settle: async (feature) => (hooks.settle ? hooks.settle(feature) : null),
    expectationNote: async (feature) => (hooks.expectationNote ? hooks.expectationNote(feature) : null),
    history: (team, id) => core.audit.list(team, id),
  });
  const stop = async (feature: import('../../domain/model').Feature) => hooks.dropped?.(feature);
  const capability = {
    subcommands: {
      ...proposalHandlers({ service, now, stop, guard: core.guard, ...(learning ? { learning } : {}) }),
      owner: ownerHandler({ service }),
      metrics: metricsHandler(telemetry),
    },
    listen(bolt, shared) {
      membershipEvents.register(bolt, { access: core.access });
      epochCheck.register(bolt, { epoch: core.epoch });
      actions.register(bolt, shared, shared.run);
      for (const listeners of [views, events, shortcuts, options]) listeners.register(bolt, shared);
    },
  } satisfies Capability<'propose' | 'expect' | 'check' | 'show' | 'list' | 'drop' | 'owner' | 'metrics'>;
  return { service, ...capability };
}
