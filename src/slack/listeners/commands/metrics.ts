import type { Telemetry } from '../../../telemetry/telemetry';
import { metricsMessage } from '../../blocks/metrics-blocks';
import type { SubcommandHandler } from '../deps';

/** `/donedone metrics [search]`: the catalog, Prometheus metric names, PostHog events, Honeycomb events. */
export function metricsHandler(telemetry: Telemetry): SubcommandHandler {
  return async (cmd, ctx) => {
    if (cmd.name !== 'metrics') return;
    const listing = await telemetry.list(cmd.search);
    const message = metricsMessage(cmd.search, listing);
    await ctx.respond({ text: message.text, blocks: message.blocks });
  };
}
