import type { RunningBot } from './bot';

/**
 * Says that the workspace's features were proposed on `day`: a launch dated before its proposal is
 * refused, and tests that launch on past dates propose "now" (the fixed clock) for brevity.
 */
export async function proposedOn(bot: RunningBot, day = '2026-09-01', team = 'T1'): Promise<void> {
  const at = `${day}T00:00:00.000Z`;
  for (const f of await bot.donedone.store.list(team)) {
    if (f.createdAt > at) await bot.donedone.store.update(team, f.id, (x) => ({ ...x, createdAt: at }));
  }
}
