import globalSetup from './global-setup';
import { startLocalCluster } from './redis-cluster';

/**
 * The cluster project's setup: a local 3-master Redis Cluster for the whole run (its seed nodes in
 * TEST_LOCAL_CLUSTER_NODES, which only the cluster project's files turn into the bot's setting), and the
 * integration setup's Prometheus unless that project already started one.
 */
export default async function clusterGlobalSetup(): Promise<void> {
  if (!process.env.TEST_PROMETHEUS_URL) {
    await globalSetup();
    (globalThis as { __clusterOwnsPrometheus?: boolean }).__clusterOwnsPrometheus = true;
  }
  const cluster = await startLocalCluster();
  process.env.TEST_LOCAL_CLUSTER_NODES = cluster.nodes;
  (globalThis as { __cluster?: unknown }).__cluster = cluster;
}
