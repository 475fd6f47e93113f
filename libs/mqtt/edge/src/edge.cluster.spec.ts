import { InProcessClusterHub } from '@signet/mqtt-cluster';
import { clusterSuite } from './testing/cluster-suite';

clusterSuite('in-process', async () => {
  const hub = new InProcessClusterHub({ leaseMs: 400 });
  return { bus: (edgeId) => hub.bus(edgeId), leaseMs: hub.leaseMs, close: async () => undefined };
});
