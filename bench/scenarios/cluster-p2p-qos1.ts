import { clusterScenario } from './cluster';

/** Publisher → subscriber pairs, QoS 1, each pair's subscriber on the next edge: deliveries per CPU-second of the edges and Redis. */
export const scenario = clusterScenario('cluster_p2p_qos1', { qos: 1, topology: 'pairs' });
