import type { App } from '@slack/bolt';
import type { AccessService } from '../../../usecases/access';

/**
 * member_joined_channel / member_left_channel keep the cached members of private conversations current,
 * so someone who leaves a private channel stops seeing its features at once, not when the cache expires.
 */
export function register(app: App, deps: { access: AccessService }): void {
  app.event('member_joined_channel', async ({ event, body }) => {
    await deps.access.membershipChanged(body.team_id, event.channel, event.user, true);
  });
  app.event('member_left_channel', async ({ event, body }) => {
    await deps.access.membershipChanged(body.team_id, event.channel, event.user, false);
  });
}
