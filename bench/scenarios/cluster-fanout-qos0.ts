import { clusterScenario } from './cluster';

/** One publisher → the fan-out subscribers of one topic, QoS 0, on the other edges: deliveries per CPU-second of the edges and Redis. */
export const scenario = clusterScenario('cluster_fanout_qos0', { qos: 0, topology: 'fanout' });
