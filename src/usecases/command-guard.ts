import type { Feature } from '../domain/model';
import type { Command } from '../domain/parse-command';
import type { FeatureStore } from '../store/feature-store';
import type { AccessService } from './access';
import { type Limits, waitWords } from './limits';

/** Subcommands that change a feature: for its owner, its proposer and admins. */
const CHANGES = new Set(['expect', 'launch', 'drop', 'flag', 'owner', 'guard']);

export type GuardVerdict = { kind: 'replay' } | { kind: 'refused'; text: string } | null;

/** Who asked, where, and which request it was. */
export interface Asker {
  team: string;
  channel: string;
  userId: string;
  triggerId: string;
}

/**
 * What every `/donedone` command (and card button, which runs as one) passes before it does anything:
 * a replayed request does nothing; a feature the asker may not see does not exist for them; a change
 * is for the owner, the proposer and admins; `check` and `digest` are limited per person and channel.
 */
export class CommandGuard {
  constructor(private readonly deps: { access: AccessService; limits: Limits; store: FeatureStore }) {}

  async check(cmd: Command, asker: Asker): Promise<GuardVerdict> {
    const id = 'id' in cmd && typeof cmd.id === 'string' ? cmd.id : undefined;
    // Read together (one write to Redis, one round trip): reading the feature changes nothing, so a
    // replay that read it is still a replay that did nothing.
    const [first, feature] = await Promise.all([
      this.deps.limits.firstTime(asker.team, asker.triggerId),
      id ? this.deps.store.get(asker.team, id) : Promise.resolve<Feature | null>(null),
    ]);
    if (!first) return { kind: 'replay' };
    if (id) {
      // A feature that does not exist is answered by the command itself, as before.
      if (feature && !(await this.deps.access.canSee(asker.team, asker.userId, feature))) {
        return { kind: 'refused', text: this.deps.access.notFound(id) };
      }
    }
    const changes =
      CHANGES.has(cmd.name) || (cmd.name === 'canary' && Boolean(cmd.id) && cmd.spec.trim() !== '');
    if (feature && changes && !(await this.deps.access.canChange(asker.team, asker.userId, feature))) {
      return { kind: 'refused', text: this.deps.access.whoCan(feature) };
    }
    if (cmd.name === 'check' && feature) {
      const slot = await this.deps.limits.take(asker.team, `check:${asker.userId}:${feature.id}`, 60);
      if (!slot.ok) {
        return {
          kind: 'refused',
          text: `You checked ${feature.id} less than a minute ago; its thread has the result. Ask again in ${waitWords(slot.retryIn)}.`,
        };
      }
    }
    if (cmd.name === 'digest' && cmd.action === 'now') {
      const slot = await this.deps.limits.take(asker.team, `digest:${asker.channel}`, 600);
      if (!slot.ok) {
        return {
          kind: 'refused',
          text: `The digest was posted in this channel less than 10 minutes ago. Ask again in ${waitWords(slot.retryIn)}.`,
        };
      }
    }
    return null;
  }

  /** False for a request (its trigger_id) seen in the last 10 minutes: a replay, to be ignored. */
  fresh(team: string, triggerId: string): Promise<boolean> {
    return this.deps.limits.firstTime(team, triggerId);
  }

  /** The features the asker may see (list, scorecard). */
  visible(team: string, userId: string, features: readonly Feature[]): Promise<Feature[]> {
    return this.deps.access.visibleTo(team, userId, features);
  }
}
