export { DEFAULT_LEASE_MS, type ClaimResult, type ClusterBus, type ClusterMessage, type ClusterNode, type SharedRetained } from './types';
export { InProcessClusterBus, InProcessClusterHub, type InProcessClusterOptions } from './in-process-bus';
export { RedisClusterBus, type ClusterLogger, type RedisClusterBusOptions } from './redis-bus';
