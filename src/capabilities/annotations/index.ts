import { annotatorFrom } from '../../annotations';
import { annotateWatch } from '../../annotations/annotate-watch';
import type { WatchService } from '../../usecases/watch-service';
import type { Core } from '../core';
import type { Capability } from '../types';

/** Launches and verdicts as annotations in Grafana and PostHog, each once. */
export function annotations(core: Core, watch: WatchService) {
  const { redis, prefix, config, log } = core;
  annotateWatch(watch, annotatorFrom(config, log), async (key) =>
    Boolean(await redis.set(`${prefix}annotated:${key}`, '1', 'EX', 90 * 86_400, 'NX')),
  );
  return { subcommands: {} } satisfies Capability;
}
