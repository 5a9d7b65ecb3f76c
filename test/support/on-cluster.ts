// Runs in each file of the cluster project, before it: the bots it starts use the local Redis Cluster
// (startBot reads TEST_REDIS_CLUSTER_NODES; test/support/target-redis.ts too).
if (!process.env.TEST_LOCAL_CLUSTER_NODES) throw new Error('the cluster project needs its global setup');
process.env.TEST_REDIS_CLUSTER_NODES = process.env.TEST_LOCAL_CLUSTER_NODES;
