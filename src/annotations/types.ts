/** One mark on a timeline: a launch or a verdict, tagged with the feature's id. */
export interface Annotation {
  /** When it happened, epoch milliseconds. */
  atMs: number;
  text: string;
  /** e.g. `["donedone", "F-3", "launch"]`. */
  tags: string[];
}

/** A vendor's annotations API. `post` rejects on any failure; the Annotator decides what that means. */
export interface AnnotationSink {
  /** Names the vendor in logs, e.g. `grafana`. */
  readonly name: string;
  post(annotation: Annotation, signal: AbortSignal): Promise<void>;
}

/** The vendor answered something other than 2xx. The message carries the status only, never the body. */
export class AnnotationRejected extends Error {
  constructor(
    readonly sink: string,
    readonly status: number,
  ) {
    super(`${sink} answered ${status}`);
    this.name = 'AnnotationRejected';
  }
}

/** `base` without a trailing slash, then `path`. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}
