import { type Annotation, AnnotationRejected, type AnnotationSink, joinUrl } from './types';

export interface PostHogAnnotationsOptions {
  /** PostHog's base URL, e.g. `https://us.posthog.com` (the same as for queries). */
  url: string;
  /** The personal API key (`phx_…`) already used for queries; needs the annotation:write scope. */
  apiKey: string;
  projectId: string;
  fetch?: typeof fetch;
}

/**
 * PostHog's `POST /api/projects/{project_id}/annotations/`: a project-wide annotation, shown on
 * every insight of the project. PostHog has no tags on annotations, so the feature id leads the text.
 */
export class PostHogAnnotations implements AnnotationSink {
  readonly name = 'posthog';
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: PostHogAnnotationsOptions) {
    this.fetch = opts.fetch ?? fetch;
  }

  async post(annotation: Annotation, signal: AbortSignal): Promise<void> {
    const path = `/api/projects/${encodeURIComponent(this.opts.projectId)}/annotations/`;
    const res = await this.fetch(joinUrl(this.opts.url, path), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.opts.apiKey}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify({
        content: annotation.text,
        date_marker: new Date(annotation.atMs).toISOString(),
        scope: 'project',
        creation_type: 'USR',
      }),
      signal,
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new AnnotationRejected(this.name, res.status);
  }
}
