import { DateTime } from 'luxon';

/**
 * Why a launch instant cannot be recorded for a feature proposed at `createdAt` (ISO), or null when
 * it can: a feature cannot ship before it was proposed. Compared by day (UTC), as launch dates are days.
 */
export function launchBeforeProposal(at: DateTime, createdAt: string, id: string): string | null {
  const proposed = DateTime.fromISO(createdAt, { zone: 'utc' });
  if (!proposed.isValid || at.toUTC().startOf('day') >= proposed.startOf('day')) return null;
  const day = proposed.toISODate();
  return `${at.toUTC().toISODate()} is before ${id} was proposed (${day}): launch it on ${day} or later.\nExample: \`/donedone launch ${id} ${day}\``;
}
