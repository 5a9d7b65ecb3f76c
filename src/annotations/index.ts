import type { Logger } from 'pino';
import type { Config } from '../config';
import { Annotator } from './annotator';
import { GrafanaAnnotations } from './grafana-annotations';
import { PostHogAnnotations } from './posthog-annotations';
import type { AnnotationSink } from './types';

export { Annotator } from './annotator';

/** The annotation sinks the config asks for: Grafana with GRAFANA_URL/TOKEN, PostHog when configured. */
export function annotatorFrom(config: Config, log: Logger, fetchImpl?: typeof fetch): Annotator {
  const sinks: AnnotationSink[] = [];
  const f = fetchImpl ? { fetch: fetchImpl } : {};
  if (config.grafana) sinks.push(new GrafanaAnnotations({ ...config.grafana, ...f }));
  if (config.posthog)
    sinks.push(
      new PostHogAnnotations({
        url: config.posthog.url,
        apiKey: config.posthog.apiKey,
        projectId: config.posthog.projectId,
        ...f,
      }),
    );
  return new Annotator({ sinks, log });
}
