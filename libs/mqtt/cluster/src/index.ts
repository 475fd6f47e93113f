export {
  DEFAULT_LEASE_MS,
  type ClaimOptions,
  type ClaimResult,
  type ClusterBus,
  type ClusterMessage,
  type ClusterNode,
  type SessionCredentialKind,
  type SessionDirectory,
  type SessionQuery,
  type SessionRecord,
  type SharedRetained,
} from './types';
export { InProcessClusterBus, InProcessClusterHub, type InProcessClusterOptions } from './in-process-bus';
export { RedisClusterBus, type ClusterLogger, type RedisClusterBusOptions } from './redis-bus';
export { RedisSessionDirectory, type RedisSessionDirectoryOptions } from './redis-sessions';
