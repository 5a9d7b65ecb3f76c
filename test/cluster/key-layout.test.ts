// The e2e file run again with every bot on a local 3-master Redis Cluster (the cluster project's setup):
// there the earlier layout is moved by DUMP/RESTORE, its old and new names lying in different slots.
import '../e2e/key-layout.test';
