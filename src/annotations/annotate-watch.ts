import type { WatchService } from '../usecases/watch-service';
import type { Annotator } from './annotator';

/**
 * Hooks the Annotator to the watch without changing it: every launch that changed something is
 * annotated (whoever asked: the command, the card's button, the HTTP API), and every final
 * verdict. Neither waits for the vendors: a launch answers as fast with Grafana down.
 *
 * `claim` makes each annotation happen once (a retried final-check job calls its listeners again);
 * it resolves false when the key was already claimed.
 */
export function annotateWatch(
  watch: WatchService,
  annotator: Annotator,
  claim: (key: string) => Promise<boolean>,
): void {
  if (!annotator.enabled) return;
  const once = (key: string, send: () => Promise<void>) => {
    void claim(key)
      .then((first) => (first ? send() : undefined))
      .catch(() => undefined);
  };
  const launch = watch.launch.bind(watch);
  watch.launch = async (...args: Parameters<WatchService['launch']>) => {
    const result = await launch(...args);
    if (result.ok && result.value.changed) {
      const { feature } = result.value;
      once(`${feature.team}:${feature.id}:launch:${feature.launchedAt}`, () => annotator.launched(feature));
    }
    return result;
  };
  watch.onFinal(async (feature, check) => {
    once(`${feature.team}:${feature.id}:verdict:${check.at}`, () => annotator.judged(feature, check));
  });
}
