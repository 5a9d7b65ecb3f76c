// The e2e file run again with every bot on a local 3-master Redis Cluster (the cluster project's setup).
import '../e2e/digests.test';
