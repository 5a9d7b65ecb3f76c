import type { Logger } from 'pino';
import { formatNumber } from '../domain/format-number';
import type { Check, Feature } from '../domain/model';
import type { Annotation, AnnotationSink } from './types';

export interface AnnotatorDeps {
  sinks: AnnotationSink[];
  log: Pick<Logger, 'warn' | 'debug'>;
  /** The longest one vendor call may take before it is abandoned. Default 5000 ms. */
  timeoutMs?: number;
}

/** The longest annotation text sent; a title is the user's and may be long. */
const MAX_TEXT = 500;

/**
 * Marks launches and verdicts on the graphs a team already watches (Grafana, PostHog).
 * Fire-and-forget: a vendor's 401, 500 or silence is logged and never reaches the caller,
 * whose promise always resolves, within the time-out. A launch or a verdict never waits on it
 * unless the caller chooses to await.
 */
export class Annotator {
  private readonly timeoutMs: number;

  constructor(private readonly deps: AnnotatorDeps) {
    this.timeoutMs = deps.timeoutMs ?? 5000;
  }

  /** True when at least one vendor is configured. */
  get enabled(): boolean {
    return this.deps.sinks.length > 0;
  }

  /** A launch was recorded: annotate it at the launch instant (a past launch lands in the past). */
  launched(feature: Feature): Promise<void> {
    if (!feature.launchedAt) return Promise.resolve();
    const expected = feature.expectation ? ` (expects ${feature.expectation.text})` : '';
    return this.send(feature.id, {
      atMs: Date.parse(feature.launchedAt),
      text: clip(`${feature.id} launched: ${feature.title}${expected}`),
      tags: ['donedone', feature.id, 'launch'],
    });
  }

  /** A verdict was posted: annotate it at the moment measured. */
  judged(feature: Feature, check: Check): Promise<void> {
    const actual = check.value === null ? 'no value' : formatNumber(check.value);
    const expected = feature.expectation ? ` against ${feature.expectation.text}` : '';
    return this.send(feature.id, {
      atMs: Date.parse(check.at),
      text: clip(`${feature.id} ${check.verdict}: ${feature.title}, actual ${actual}${expected}`),
      tags: ['donedone', feature.id, 'verdict'],
    });
  }

  private async send(feature: string, annotation: Annotation): Promise<void> {
    await Promise.all(
      this.deps.sinks.map(async (sink) => {
        const signal = AbortSignal.timeout(this.timeoutMs);
        // The abort ends fetch's wait; the race also ends a sink that ignores its signal.
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${this.timeoutMs} ms`)), this.timeoutMs);
          timer.unref();
        });
        try {
          await Promise.race([sink.post(annotation, signal), timeout]);
          this.deps.log.debug({ sink: sink.name, feature, tags: annotation.tags }, 'annotation posted');
        } catch (err) {
          const reason = signal.aborted ? `no answer in ${this.timeoutMs} ms` : (err as Error).message;
          this.deps.log.warn(
            { sink: sink.name, feature, kind: annotation.tags[2], reason },
            'could not post the annotation; the launch and the verdict are not affected',
          );
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }
}

function clip(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}
