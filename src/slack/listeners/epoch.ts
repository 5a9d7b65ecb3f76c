import type { App } from '@slack/bolt';
import { readButtonValue } from '../outgoing';

/**
 * Buttons carry the install's epoch next to the feature id (`F-3|a1b2c3d4`, stamped on the way out by
 * src/slack/outgoing.ts). A click on a card made before the store was reset (another epoch) is refused:
 * F-3 may now be another feature. Listeners see the bare id. Cards from before epochs existed carry none.
 */
export function register(app: App, deps: { epoch: () => Promise<string> }): void {
  app.use(async (args) => {
    const body = args.body as { type?: string; actions?: { value?: string }[] };
    if (body.type !== 'block_actions' || !body.actions) return args.next();
    const current = await deps.epoch();
    for (const action of body.actions) {
      const read = action.value ? readButtonValue(action.value) : null;
      if (!read) continue;
      if (read.epoch && read.epoch !== current) {
        const { ack, respond } = args as unknown as {
          ack?: () => Promise<void>;
          respond?: (m: Record<string, unknown>) => Promise<unknown>;
        };
        await ack?.();
        await respond?.({
          response_type: 'ephemeral',
          replace_original: false,
          text: `This card is older than donedone's store, which was reset since: ${read.id} may now be another feature, so the button did nothing. \`/donedone show ${read.id}\` shows what ${read.id} is now.`,
        });
        return;
      }
      action.value = read.id;
    }
    return args.next();
  });
}
