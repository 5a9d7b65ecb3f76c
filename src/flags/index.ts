import type { FlagsConfig } from '../config';
import type { FlagProvider } from './flag-provider';
import { GrowthBookClient } from './growthbook-client';
import { LaunchDarklyClient } from './launchdarkly-client';
import { UnleashClient } from './unleash-client';

/** The configured flag tool (FLAGS_PROVIDER), or undefined: Pause then records the decision only. */
export function createFlagProvider(
  config: FlagsConfig | undefined,
  fetchImpl?: typeof fetch,
): FlagProvider | undefined {
  if (!config) return undefined;
  const opts = { ...config, ...(fetchImpl ? { fetch: fetchImpl } : {}) };
  switch (config.provider) {
    case 'launchdarkly':
      return new LaunchDarklyClient(opts);
    case 'unleash':
      return new UnleashClient(opts);
    case 'growthbook':
      return new GrowthBookClient(opts);
  }
}
