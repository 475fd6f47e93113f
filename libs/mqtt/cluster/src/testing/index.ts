export { clusterBusConformance, type ClusterHarness } from './conformance';
export { redisClusterHarness } from './redis-harness';
