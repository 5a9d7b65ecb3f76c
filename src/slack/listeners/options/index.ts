import type { App } from '@slack/bolt';
import { parseMetric } from '../../../domain/parse-expectation';
import { metricOption } from '../../blocks/modal-blocks';
import type { ListenerDeps } from '../deps';

const MAX_OPTIONS = 100;

/** The metric field's suggestions: what you typed, then the catalog, then each source's names. */
export async function metricSuggestions(deps: Pick<ListenerDeps, 'telemetry'>, typed: string) {
  const query = typed.trim();
  const options: ReturnType<typeof metricOption>[] = [];
  const seen = new Set<string>();
  const add = (metric: string, label?: string) => {
    if (seen.has(metric) || options.length >= MAX_OPTIONS || metric.length > 150) return;
    seen.add(metric);
    options.push(metricOption(metric, label));
  };
  if (query) {
    const m = parseMetric(query, deps.telemetry.isCatalogName);
    if (m.ok && !m.value.rest.trim()) add(query, `Use ${query}`);
  }
  // Slack waits 3 s for options: a slow source is left out rather than failing the menu.
  const listing = await deps.telemetry.list(query || undefined, { timeoutMs: 2000 });
  for (const e of listing.catalog) add(e.name, `${e.name} (${e.description})`);
  for (const s of listing.bySource) {
    for (const name of s.names)
      add(s.source === 'prometheus' ? name : `${s.source}:"${name.replace(/"/g, '\\"')}"`);
  }
  return options;
}

export function register(app: App, deps: ListenerDeps): void {
  app.options<'block_suggestion'>({ block_id: 'metric', action_id: 'value' }, async ({ ack, options }) => {
    try {
      const suggestions = await metricSuggestions(deps, options.value ?? '');
      await ack({ options: suggestions });
    } catch (err) {
      deps.log.warn({ err }, 'metric suggestions failed');
      await ack({ options: [] });
    }
  });
}
