/**
 * How guardrails are judged round after round (PRODUCT.md, "Guardrails and pausing a rollout").
 * Pure: the caller passes the round's time and what the telemetry said.
 */
import type { DateTime } from 'luxon';
import type { Feature, Guard } from './model';
import { compare, deadlineOf } from './verdict';

/** A breach is told after this many bad readings in a row, a recovery after as many good ones. */
export const BREACH_AFTER = 2;
export const RECOVER_AFTER = 2;

/** What one round saw for one guard. An outage and "no data" are not readings: nothing changes. */
export type Observation = { kind: 'value'; value: number } | { kind: 'no data' } | { kind: 'outage' };

export interface GuardState {
  /** The round (ms since the epoch) this state was last changed by; older rounds never apply. */
  round: number;
  status: 'ok' | 'breached';
  /** Consecutive readings that broke the condition (while ok) or kept it (while breached). */
  streak: number;
  /** Counts breaches: the n-th breach of this guard, for keys and buttons. */
  episode: number;
  lastValue: number | null;
  /** When the current breach began to be told (ISO). */
  breachedAt?: string;
  /** The event the last applied round produced, so a retry of that round can tell it again. */
  event?: 'breach' | 'recovered';
  /** The episode a person dismissed: that breach no longer fails the gate. */
  dismissed?: number;
}

export const INITIAL_STATE: GuardState = { round: 0, status: 'ok', streak: 0, episode: 0, lastValue: null };

/** Whether the value keeps the guard's condition (`error_ratio < 2%`: below 2%). */
export function holds(guard: Pick<Guard, 'op' | 'target'>, value: number): boolean {
  return compare(value, guard.op, guard.target);
}

/**
 * One round for one guard. Returns null when the round changes nothing worth storing (already
 * applied, an outage, no data), else the next state and the event to tell, if any.
 */
export function stepGuard(
  previous: GuardState | undefined,
  guard: Pick<Guard, 'op' | 'target'>,
  observation: Observation,
  round: number,
  at: string,
): { state: GuardState; event: 'breach' | 'recovered' | null } | null {
  const prev = previous ?? INITIAL_STATE;
  if (round <= prev.round) return null;
  if (observation.kind !== 'value') return null;
  const good = holds(guard, observation.value);
  const base: GuardState = { ...prev, round, lastValue: observation.value };
  delete base.event;
  if (prev.status === 'ok') {
    const streak = good ? 0 : prev.streak + 1;
    if (streak >= BREACH_AFTER) {
      return {
        state: {
          ...base,
          status: 'breached',
          streak: 0,
          episode: prev.episode + 1,
          breachedAt: at,
          event: 'breach',
        },
        event: 'breach',
      };
    }
    return { state: { ...base, streak }, event: null };
  }
  const streak = good ? prev.streak + 1 : 0;
  if (streak >= RECOVER_AFTER) {
    const state: GuardState = { ...base, status: 'ok', streak: 0, event: 'recovered' };
    delete state.breachedAt;
    return { state, event: 'recovered' };
  }
  return { state: { ...base, streak }, event: null };
}

/** Whether the guard fails the gate: breached, and that breach not dismissed. */
export function isBreached(state: GuardState | undefined): boolean {
  return !!state && state.status === 'breached' && state.dismissed !== state.episode;
}

/** Every guardrail of a feature: those written with the expectation, then those added later. */
export function guardsOf(feature: Feature): Guard[] {
  const out: Guard[] = [];
  for (const g of [...(feature.expectation?.guards ?? []), ...(feature.guards ?? [])]) {
    const i = out.findIndex((o) => o.text === g.text);
    if (i === -1) out.push(g);
    else if (g.autoPause) out[i] = g;
  }
  return out;
}

/** Guardrails are watched from launch to the deadline, while the feature is on the board. */
export function isGuarded(feature: Feature, now: DateTime, zone = 'UTC'): boolean {
  if (!feature.launchedAt || !feature.expectation) return false;
  if (feature.status === 'dropped' || feature.status === 'decided') return false;
  if (guardsOf(feature).length === 0) return false;
  const launched = now.toMillis() >= Date.parse(feature.launchedAt);
  return launched && now < deadlineOf(feature.expectation, feature.launchedAt, feature.zone ?? zone);
}

/** The round a time belongs to: rounds start every `intervalMs` (so every process agrees). */
export function roundOf(nowMs: number, intervalMs: number): number {
  return Math.floor(nowMs / intervalMs) * intervalMs;
}
