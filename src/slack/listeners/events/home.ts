import type { App } from '@slack/bolt';
import { type DigestService, linkFor } from '../../../usecases/digest-service';
import { homeView } from '../../blocks/home-blocks';
import type { ListenerDeps } from '../deps';

/** Months-used lines are a nicety on the Home tab: never wait for them long. */
const HOME_USAGE_BUDGET_MS = 1_500;

/** What the Home tab remembers between the event and its buttons: the App's DM with the viewer. */
export interface HomeMetadata {
  channel?: string;
}

/**
 * The App Home tab: the viewer's own features and the team's board, in the digest's groups, published each time
 * the tab is opened. Publishing is idempotent, so Slack's retries of the event do no harm.
 */
export function register(app: App, deps: ListenerDeps, digests: DigestService): void {
  app.event('app_home_opened', async ({ event, body, client }) => {
    if (event.tab && event.tab !== 'home') return;
    const team = body.team_id;
    const now = deps.now();
    const access = deps.access;
    const { groups } = await digests.groups(
      team,
      now,
      access ? (features) => access.visibleTo(team, event.user, features) : undefined,
    );
    const usage = await digests.usageLines(groups, now, HOME_USAGE_BUDGET_MS);
    const metadata: HomeMetadata = event.channel ? { channel: event.channel } : {};
    const view = homeView({ userId: event.user, groups, now, linkFor, usage });
    await client.views.publish({
      user_id: event.user,
      view: { ...view, private_metadata: JSON.stringify(metadata) },
    });
  });
}
