export {
  DEFAULT_LEASE_MS,
  SESSION_STORE_EDGE,
  type ClaimOptions,
  type ClaimResult,
  type ClusterBus,
  type ClusterMessage,
  type ClusterNode,
  type PersistRequest,
  type ReleaseEnd,
  type SessionCredentialKind,
  type SessionDirectory,
  type SessionQuery,
  type SessionRecord,
  type SharedRetained,
  type SharedSessions,
  type StoredMessage,
  type StoredOptions,
  type StoredSession,
} from './types';
export { InProcessClusterBus, InProcessClusterHub, type InProcessClusterOptions } from './in-process-bus';
export { RedisClusterBus, type ClusterLogger, type RedisClusterBusOptions } from './redis-bus';
export { RedisSessionDirectory, type RedisSessionDirectoryOptions } from './redis-sessions';
