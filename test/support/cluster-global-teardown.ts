import globalTeardown from './global-teardown';
import type { LocalCluster } from './redis-cluster';

export default async function clusterGlobalTeardown(): Promise<void> {
  const g = globalThis as { __cluster?: LocalCluster; __clusterOwnsPrometheus?: boolean };
  await g.__cluster?.stop();
  if (g.__clusterOwnsPrometheus) await globalTeardown();
}
