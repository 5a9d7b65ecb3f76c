// The e2e file run again with every bot on a local 3-master Redis Cluster (the cluster project's setup):
// installs, uninstalls and forgetting change keys of several workspaces together.
import '../e2e/workspaces.test';
