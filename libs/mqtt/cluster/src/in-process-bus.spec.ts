import { InProcessClusterHub } from './in-process-bus';
import { clusterBusConformance } from './testing/conformance';

clusterBusConformance('InProcessClusterBus', async () => {
  const hub = new InProcessClusterHub({ leaseMs: 300 });
  return { bus: (edgeId) => hub.bus(edgeId), leaseMs: hub.leaseMs, sessions: hub.sessions, close: async () => undefined };
});
