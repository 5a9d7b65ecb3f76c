import { type Annotation, AnnotationRejected, type AnnotationSink, joinUrl } from './types';

export interface GrafanaAnnotationsOptions {
  /** Grafana's base URL, e.g. `https://grafana.example.com` (a sub-path such as `/grafana` is kept). */
  url: string;
  /** A service account token (`glsa_…`) with the annotations:write permission. */
  token: string;
  fetch?: typeof fetch;
}

/**
 * Grafana's HTTP API `POST /api/annotations`: an organisation-wide annotation (no dashboard),
 * found by any dashboard whose annotation query filters on its tags (`donedone`, `F-3`).
 */
export class GrafanaAnnotations implements AnnotationSink {
  readonly name = 'grafana';
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: GrafanaAnnotationsOptions) {
    this.fetch = opts.fetch ?? fetch;
  }

  async post(annotation: Annotation, signal: AbortSignal): Promise<void> {
    const res = await this.fetch(joinUrl(this.opts.url, '/api/annotations'), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.opts.token}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify({ time: annotation.atMs, tags: annotation.tags, text: annotation.text }),
      signal,
    });
    // Read the body so the connection is released; its content is not needed.
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new AnnotationRejected(this.name, res.status);
  }
}
