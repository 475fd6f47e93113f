import { hostname } from 'node:os';
import { resolve } from 'node:path';

import { ACCESS_TOKEN_ALGS, DEFAULT_ACCESS_TOKEN_ALG, DEFAULT_EDGE_LIMITS, type AccessTokenAlg, type EdgeLimits } from '@signet/contracts';

import {
  ConfigError,
  Env,
  readBool,
  readEnum,
  readInt,
  readOptionalString,
  readPort,
  readString,
  readUrl,
} from './env';
import { FederationConfig, loadFederationConfig } from './federation-config';
import { AuditConfig, loadAuditConfig } from './audit-config';
import { AuthChainConfig, AuthWebhooksConfig, loadAuthChainConfig, loadAuthWebhooksConfig } from './auth-webhooks';
import { parseTrustedProxies } from './trusted-proxies';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

/** Every setting of every Signet process, validated once at boot. */
export interface SignetConfig {
  host: string;
  ports: { http: number; mqtt: number; ws: number; mqtts: number; wss: number; grpc: number };
  wsPath: string;
  /** Which peers of the HTTP API may tell the client's address (X-Forwarded-For). */
  proxy: ProxyConfig;
  /**
   * PEM certificate chain and key files for the `mqtts` and `wss` listeners; absent → no TLS listeners.
   * Re-read when either file changes (polled every `watchIntervalMs`), without a restart.
   */
  tls?: { certFile: string; keyFile: string; watchIntervalMs: number };
  /** Embedded state (PGlite files, generated master key) lives here. */
  dataDir: string;
  /** PostgreSQL; absent → embedded PGlite under dataDir. */
  databaseUrl?: string;
  /** Redis; absent → in-process bus (one process only). */
  redisUrl?: string;
  redisKeyPrefix: string;
  /** base64 of 32 bytes; encrypts recoverable secrets at rest. Absent → generated under dataDir (embedded only). */
  masterKey?: string;
  /** Apply pending migrations at start. */
  migrateOnStart: boolean;
  /** How long the API waits on PostgreSQL and on itself before answering 503 (`SIGNET_DB_*_TIMEOUT_MS`, `SIGNET_REQUEST_TIMEOUT_MS`). */
  deadlines: DeadlineConfig;
  tokens: {
    defaultTtlSeconds: number;
    maxTtlSeconds: number;
    refreshTtlSeconds: number;
    signingAlg: AccessTokenAlg;
  };
  apiKeys: {
    /** How long a key verdict is trusted (key service and edges) before asking again. */
    verdictTtlMs: number;
    /** Failed key attempts per source address / per key id within the window before throttling. */
    throttleIpFailures: number;
    throttleKeyFailures: number;
    throttleWindowMs: number;
    /** Key checks (bcrypt) for uncached keys at once; more are shed with 503 / server unavailable (SIGNET_KEY_MAX_CONCURRENT_CHECKS). */
    maxConcurrentChecks: number;
    /** Usage counters are written to PostgreSQL (and reported by edges) this often. */
    usageFlushMs: number;
  };
  edge: {
    /** Where a standalone edge asks the token service for public keys (gRPC). */
    tokenServiceGrpc: string;
    /** Where a standalone edge asks the API key service to verify sk_/rk_ keys (gRPC). */
    apiKeyServiceGrpc: string;
    /** Refuse credentials when the revocation bus has been unreachable this long. */
    maxStalenessMs: number;
    /** This edge's id on the cluster bus (`SIGNET_EDGE_ID`; the pod name in Kubernetes), stable per pod. */
    id: string;
    /** How long the edge's cluster lease lasts without renewal; a dead edge's routes go after it. */
    leaseMs: number;
    /** The edge's protective limits (`SIGNET_MQTT_*`), handed to the edge as they are; see EdgeMqttLimits. */
    limits: EdgeMqttLimits;
  };
  /** Data lifecycle and abuse limits of the public token endpoints (see docs/tokens.md). */
  upkeep: UpkeepConfig;
  directory: DirectoryConfig;
  /** Outbound requests to identity providers and token checks of IdP federation (`SIGNET_IDP_*`). */
  federation: FederationConfig;
  /** Outbound calls to org auth webhooks (`SIGNET_WEBHOOK_*`). */
  authWebhooks: AuthWebhooksConfig;
  /** The edge's authenticator chain: failed-CONNECT throttling (`SIGNET_MQTT_AUTH_*`). */
  authChain: AuthChainConfig;
  /** The audit log of administrative actions and CONNECT decisions (`SIGNET_AUDIT_*`). */
  audit: AuditConfig;
  /** Sign-in for people (accounts, the OAuth authorization server at /oidc; docs/sign-in.md). */
  signIn: {
    /** SIGNET_PUBLIC_URL: the address people reach the HTTP API at (the issuer is `<it>/oidc`); absent: http://localhost:<http port>. */
    publicUrl?: string;
    /** SIGNET_SESSION_TTL_S: lifetime of a session's access token (at most one hour). */
    accessTokenTtlSeconds: number;
    /** SIGNET_SESSION_REFRESH_TTL_S: lifetime of its rotating refresh token. */
    refreshTokenTtlSeconds: number;
  };
  logLevel: LogLevel;
  /** SIGNET_LOG_FORMAT: JSON lines, human lines, or (auto) human on a terminal and JSON otherwise. */
  logFormat: (typeof LOG_FORMATS)[number];
}

/**
 * The MQTT edge limits an operator sets (`SIGNET_MQTT_*`): the edge's EdgeLimits (one definition, in
 * @signet/contracts; meaning and codes in libs/mqtt/edge/README.md) but for its internal timings. Counts
 * are per edge process.
 */
export type EdgeMqttLimits = Omit<EdgeLimits, 'maxPendingAuthBytes' | 'sweepIntervalMs' | 'revokeMemoryMs' | 'closeGraceMs'>;

const MAX_COUNT = 100_000_000;
const GIB = 1024 * 1024 * 1024;

function loadEdgeLimits(env: Env): EdgeMqttLimits {
  const D = DEFAULT_EDGE_LIMITS;
  const int = (name: string, fallback: number, min: number, max: number): number => readInt(env, `SIGNET_MQTT_${name}`, fallback, min, max);
  const maxKeepAliveSeconds = int('MAX_KEEPALIVE_SECONDS', D.maxKeepAliveSeconds, 1, 65535);
  const minKeepAliveSeconds = int('MIN_KEEPALIVE_SECONDS', D.minKeepAliveSeconds, 0, 65535);
  if (minKeepAliveSeconds > maxKeepAliveSeconds) {
    throw new ConfigError('SIGNET_MQTT_MIN_KEEPALIVE_SECONDS', `must not exceed SIGNET_MQTT_MAX_KEEPALIVE_SECONDS (${maxKeepAliveSeconds})`);
  }
  const maxWriteBufferBytes = int('MAX_WRITE_BUFFER_BYTES', D.maxWriteBufferBytes, 1024, GIB);
  const slowConsumerMaxBytes = int('SLOW_CONSUMER_MAX_BYTES', Math.max(D.slowConsumerMaxBytes, maxWriteBufferBytes), 1024, GIB);
  if (slowConsumerMaxBytes < maxWriteBufferBytes) {
    throw new ConfigError('SIGNET_MQTT_SLOW_CONSUMER_MAX_BYTES', `must be at least SIGNET_MQTT_MAX_WRITE_BUFFER_BYTES (${maxWriteBufferBytes})`);
  }
  return {
    maxPacketSize: int('MAX_PACKET_SIZE', D.maxPacketSize, 1024, 268435455),
    connectTimeoutMs: int('CONNECT_TIMEOUT_MS', D.connectTimeoutMs, 100, 600000),
    maxConnectionsPerIp: int('MAX_CONNECTIONS_PER_IP', D.maxConnectionsPerIp, 1, MAX_COUNT),
    maxKeepAliveSeconds,
    minKeepAliveSeconds,
    // Receive Maximum is a two byte integer (MQTT 5.0 §3.2.2.3.3).
    maxInflight: int('MAX_INFLIGHT', D.maxInflight, 1, 65535),
    maxQueuedMessages: int('MAX_QUEUED_MESSAGES', D.maxQueuedMessages, 0, MAX_COUNT),
    maxSessionExpirySeconds: int('MAX_SESSION_EXPIRY_SECONDS', D.maxSessionExpirySeconds, 0, 366 * 86400),
    // A server must accept client ids of 1 to 23 characters (MQTT 5.0 [MQTT-3.1.3-5]); strings are at most 65,535 bytes.
    maxClientIdLength: int('MAX_CLIENT_ID_LENGTH', D.maxClientIdLength, 23, 65535),
    maxUsernameLength: int('MAX_USERNAME_LENGTH', D.maxUsernameLength, 1, 65535),
    maxPasswordLength: int('MAX_PASSWORD_LENGTH', D.maxPasswordLength, 1, 65535),
    maxTopicLength: int('MAX_TOPIC_LENGTH', D.maxTopicLength, 1, 65535),
    maxTopicLevels: int('MAX_TOPIC_LEVELS', D.maxTopicLevels, 1, 65535),
    maxSubscriptionsPerSession: int('MAX_SUBSCRIPTIONS_PER_SESSION', D.maxSubscriptionsPerSession, 1, MAX_COUNT),
    maxTopicAliases: int('MAX_TOPIC_ALIASES', D.maxTopicAliases, 0, 65535),
    maxRetainedPerOrg: int('MAX_RETAINED_PER_ORG', D.maxRetainedPerOrg, 0, MAX_COUNT),
    maxWriteBufferBytes,
    slowConsumerGraceMs: int('SLOW_CONSUMER_GRACE_MS', D.slowConsumerGraceMs, 0, 3600000),
    slowConsumerMaxBytes,
    connectRatePerIp: int('CONNECT_RATE_PER_IP', D.connectRatePerIp, 0, MAX_COUNT),
    connectBurstPerIp: int('CONNECT_BURST_PER_IP', D.connectBurstPerIp, 1, MAX_COUNT),
    connectRatePerIdentity: int('CONNECT_RATE_PER_IDENTITY', D.connectRatePerIdentity, 0, MAX_COUNT),
    connectBurstPerIdentity: int('CONNECT_BURST_PER_IDENTITY', D.connectBurstPerIdentity, 1, MAX_COUNT),
    ...loadUnauthenticatedLimits(int),
  };
}

/** What a client may make the edge hold before it has authenticated (finding: memory before authentication). */
function loadUnauthenticatedLimits(int: (name: string, fallback: number, min: number, max: number) => number) {
  const D = DEFAULT_EDGE_LIMITS;
  const maxConnectPacketSize = int('MAX_CONNECT_PACKET_SIZE', D.maxConnectPacketSize, 1024, 268435455);
  const maxUnauthenticatedBytesPerIp = int('MAX_UNAUTHENTICATED_BYTES_PER_IP', D.maxUnauthenticatedBytesPerIp, 1024, GIB);
  const maxUnauthenticatedBytes = int('MAX_UNAUTHENTICATED_BYTES', D.maxUnauthenticatedBytes, 1024, 16 * GIB);
  if (maxUnauthenticatedBytesPerIp < maxConnectPacketSize) {
    throw new ConfigError('SIGNET_MQTT_MAX_UNAUTHENTICATED_BYTES_PER_IP', `must be at least SIGNET_MQTT_MAX_CONNECT_PACKET_SIZE (${maxConnectPacketSize})`);
  }
  if (maxUnauthenticatedBytes < maxUnauthenticatedBytesPerIp) {
    throw new ConfigError('SIGNET_MQTT_MAX_UNAUTHENTICATED_BYTES', `must be at least SIGNET_MQTT_MAX_UNAUTHENTICATED_BYTES_PER_IP (${maxUnauthenticatedBytesPerIp})`);
  }
  return { maxConnectPacketSize, maxUnauthenticatedBytesPerIp, maxUnauthenticatedBytes };
}

/** Kept in its own block (settings and reader) so unrelated config additions merge cleanly. */
export interface UpkeepConfig {
  retention: {
    /** How often the token service deletes rows past retention; 0 = never. */
    pruneIntervalMs: number;
    /** Rows are deleted this long after they ended (expired, revoked, no longer in force). */
    retentionDays: number;
  };
  /** Token buckets per client address on POST /v1/tokens/refresh and /v1/federation/exchange (IdP token). */
  publicRateLimit: {
    /** Sustained requests per second per address; 0 = no limit. */
    ratePerSecond: number;
    /** Bucket size: requests an address may make at once. */
    burst: number;
  };
}

export function loadUpkeepConfig(env: Env): UpkeepConfig {
  return {
    retention: {
      pruneIntervalMs: readInt(env, 'SIGNET_PRUNE_INTERVAL_MS', 600_000, 0, 86_400_000),
      retentionDays: readInt(env, 'SIGNET_RETENTION_DAYS', 7, 1, 3650),
    },
    publicRateLimit: {
      ratePerSecond: readInt(env, 'SIGNET_PUBLIC_RATE_PER_IP', 10, 0, 100_000_000),
      burst: readInt(env, 'SIGNET_PUBLIC_BURST_PER_IP', 100, 1, 100_000_000),
    },
  };
}

/** Directory sync (libs/directory); kept in its own block so unrelated config additions merge cleanly. */
export interface DirectoryConfig {
  /**
   * How often every org's LDAP connection is synced (SIGNET_LDAP_SYNC_INTERVAL_MS): incrementally
   * when the last full sync is recent enough, else fully; 0 = only on demand.
   */
  ldapSyncIntervalMs: number;
  /** A scheduled sync is a full one (the one that finds deletions) at least this often (SIGNET_LDAP_FULL_SYNC_INTERVAL_MS). */
  ldapFullSyncIntervalMs: number;
  /** SIGNET_LDAP_ALLOW_PLAIN: the operator lets orgs use ldap:// without StartTLS (bind passwords in the clear). */
  ldapAllowPlain: boolean;
  /** How long the edge trusts an LDAP bind that succeeded (SIGNET_LDAP_BIND_CACHE_SECONDS); a refusal is remembered briefly. */
  ldapBindCacheSeconds: number;
  /** Where a standalone edge asks the directory-sync service for LDAP binds (SIGNET_DIRECTORY_GRPC, gRPC). */
  serviceGrpc: string | undefined;
}

export function loadDirectoryConfig(env: Env): DirectoryConfig {
  return {
    ldapSyncIntervalMs: readInt(env, 'SIGNET_LDAP_SYNC_INTERVAL_MS', 900_000, 0, 86_400_000),
    ldapFullSyncIntervalMs: readInt(env, 'SIGNET_LDAP_FULL_SYNC_INTERVAL_MS', 86_400_000, 0, 7 * 86_400_000),
    ldapAllowPlain: readBool(env, 'SIGNET_LDAP_ALLOW_PLAIN', false),
    ldapBindCacheSeconds: readInt(env, 'SIGNET_LDAP_BIND_CACHE_SECONDS', 300, 0, 86_400),
    serviceGrpc: readOptionalString(env, 'SIGNET_DIRECTORY_GRPC'),
  };
}

/**
 * Kept in its own block so unrelated config additions merge cleanly.
 * `SIGNET_TRUSTED_PROXIES`: the HTTP API takes the client address from
 * X-Forwarded-For only when the TCP peer is one of these (the nearest address
 * in the header that is not one of them); empty = trust no one, the peer is
 * the client. Every reader of the address (API key allowlists and guess
 * throttling, the public rate limit) uses Fastify's `request.ip`.
 */
export interface ProxyConfig {
  /** IPv4/IPv6 addresses and CIDR blocks of the reverse proxies / load balancers in front of the HTTP API. */
  trustedProxies: string[];
}

export function loadProxyConfig(env: Env): ProxyConfig {
  return { trustedProxies: parseTrustedProxies(readOptionalString(env, 'SIGNET_TRUSTED_PROXIES'), 'SIGNET_TRUSTED_PROXIES') };
}

export const DEFAULT_PORTS = { http: 8080, mqtt: 1883, ws: 8083, mqtts: 8883, wss: 8084, grpc: 50051 } as const;

/** The variable behind each port, for "port taken" errors. */
export const PORT_VARIABLES = {
  http: 'SIGNET_HTTP_PORT',
  mqtt: 'SIGNET_MQTT_PORT',
  ws: 'SIGNET_WS_PORT',
  mqtts: 'SIGNET_MQTTS_PORT',
  wss: 'SIGNET_WSS_PORT',
  grpc: 'SIGNET_GRPC_PORT',
} as const;

type PortName = keyof typeof DEFAULT_PORTS;

/**
 * SIGNET_BASE_PORT moves every listener at once: HTTP = base, MQTT = base+1, WebSocket = base+2,
 * MQTT/TLS = base+3, WSS = base+4, gRPC = base+5 (0: every one on any free port). A port's own
 * variable still wins.
 */
export const BASE_PORT_VARIABLE = 'SIGNET_BASE_PORT';
export const BASE_PORT_OFFSETS: Readonly<Record<PortName, number>> = { http: 0, mqtt: 1, ws: 2, mqtts: 3, wss: 4, grpc: 5 };

function readPorts(env: Env): Record<PortName, number> {
  const lastOffset = Math.max(...Object.values(BASE_PORT_OFFSETS));
  const base =
    readOptionalString(env, BASE_PORT_VARIABLE) === undefined ? undefined : readInt(env, BASE_PORT_VARIABLE, 0, 0, 65535 - lastOffset);
  const port = (name: PortName): number => {
    const fallback = base === undefined ? DEFAULT_PORTS[name] : base === 0 ? 0 : base + BASE_PORT_OFFSETS[name];
    return readPort(env, PORT_VARIABLES[name], fallback);
  };
  return { http: port('http'), mqtt: port('mqtt'), ws: port('ws'), mqtts: port('mqtts'), wss: port('wss'), grpc: port('grpc') };
}

export function loadConfig(env: Env = process.env): SignetConfig {
  const tokens = {
    defaultTtlSeconds: readInt(env, 'SIGNET_TOKEN_DEFAULT_TTL', 3600, 1, 31 * 86400),
    maxTtlSeconds: readInt(env, 'SIGNET_TOKEN_MAX_TTL', 86400, 1, 366 * 86400),
    refreshTtlSeconds: readInt(env, 'SIGNET_REFRESH_TTL', 30 * 86400, 60, 366 * 86400),
    signingAlg: readEnum(env, 'SIGNET_TOKEN_SIGNING_ALG', ACCESS_TOKEN_ALGS, DEFAULT_ACCESS_TOKEN_ALG),
  };
  if (tokens.defaultTtlSeconds > tokens.maxTtlSeconds) {
    throw new ConfigError('SIGNET_TOKEN_DEFAULT_TTL', `must not exceed SIGNET_TOKEN_MAX_TTL (${tokens.maxTtlSeconds})`);
  }
  const masterKey = readOptionalString(env, 'SIGNET_MASTER_KEY');
  if (masterKey !== undefined && Buffer.from(masterKey, 'base64').length !== 32) {
    throw new ConfigError('SIGNET_MASTER_KEY', 'expected base64 of exactly 32 bytes (openssl rand -base64 32)');
  }
  const ports = readPorts(env);
  const grpcPort = ports.grpc;
  const certFile = readOptionalString(env, 'SIGNET_TLS_CERT');
  const keyFile = readOptionalString(env, 'SIGNET_TLS_KEY');
  // One without the other is a mistake worth stopping for, not a silent "no TLS".
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const missing = certFile === undefined ? 'SIGNET_TLS_CERT' : 'SIGNET_TLS_KEY';
    throw new ConfigError(missing, 'SIGNET_TLS_CERT and SIGNET_TLS_KEY are set together (PEM file paths)');
  }
  return {
    host: readString(env, 'SIGNET_HOST', '0.0.0.0'),
    ports,
    wsPath: '/mqtt',
    proxy: loadProxyConfig(env),
    tls:
      certFile !== undefined && keyFile !== undefined
        ? {
            certFile: resolve(certFile),
            keyFile: resolve(keyFile),
            watchIntervalMs: readInt(env, 'SIGNET_TLS_WATCH_MS', 2000, 50, 3600000),
          }
        : undefined,
    dataDir: resolve(readString(env, 'SIGNET_DATA_DIR', './.signet')),
    databaseUrl: readUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: readUrl(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisKeyPrefix: readString(env, 'SIGNET_REDIS_PREFIX', 'signet:'),
    masterKey,
    migrateOnStart: readBool(env, 'SIGNET_MIGRATE_ON_START', true),
    deadlines: loadDeadlineConfig(env),
    tokens,
    apiKeys: {
      verdictTtlMs: readInt(env, 'SIGNET_KEY_CACHE_MS', 60000, 100, 600000),
      throttleIpFailures: readInt(env, 'SIGNET_KEY_THROTTLE_IP_FAILURES', 30, 1, 1000000),
      throttleKeyFailures: readInt(env, 'SIGNET_KEY_THROTTLE_KEY_FAILURES', 10, 1, 1000000),
      throttleWindowMs: readInt(env, 'SIGNET_KEY_THROTTLE_WINDOW_MS', 60000, 1000, 86400000),
      maxConcurrentChecks: readInt(env, 'SIGNET_KEY_MAX_CONCURRENT_CHECKS', 8, 1, 10000),
      usageFlushMs: readInt(env, 'SIGNET_USAGE_FLUSH_MS', 10000, 100, 3600000),
    },
    edge: {
      tokenServiceGrpc: readString(env, 'SIGNET_TOKEN_SERVICE_GRPC', `127.0.0.1:${grpcPort}`),
      apiKeyServiceGrpc: readString(env, 'SIGNET_APIKEY_SERVICE_GRPC', `127.0.0.1:${grpcPort}`),
      maxStalenessMs: readInt(env, 'SIGNET_EDGE_MAX_STALENESS_MS', 30000, 1000, 3600000),
      id: readString(env, 'SIGNET_EDGE_ID', `${hostname()}-${process.pid}`),
      leaseMs: readInt(env, 'SIGNET_EDGE_LEASE_MS', 10000, 1000, 600000),
      limits: loadEdgeLimits(env),
    },
    upkeep: loadUpkeepConfig(env),
    directory: loadDirectoryConfig(env),
    federation: loadFederationConfig(env),
    authWebhooks: loadAuthWebhooksConfig(env),
    authChain: loadAuthChainConfig(env),
    audit: loadAuditConfig(env),
    signIn: {
      publicUrl: readUrl(env, 'SIGNET_PUBLIC_URL', ['http:', 'https:']),
      accessTokenTtlSeconds: readInt(env, 'SIGNET_SESSION_TTL_S', 3600, 60, 3600),
      refreshTokenTtlSeconds: readInt(env, 'SIGNET_SESSION_REFRESH_TTL_S', 30 * 86400, 3600, 365 * 86400),
    },
    logLevel: readEnum(env, 'SIGNET_LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: readEnum(env, 'SIGNET_LOG_FORMAT', LOG_FORMATS, 'auto'),
  };
}

/**
 * At the end of the file, away from the lines other config additions touch. A
 * PostgreSQL that stops answering must not hold a request (or a CONNECT that
 * needs a key lookup) for ever: each wait has a bound, past which the caller
 * gets 503 `database_unavailable` / CONNACK 0x88 and nothing commits.
 */
export interface DeadlineConfig {
  /** Longest one SQL statement runs (PostgreSQL `statement_timeout`; the client gives up shortly after). */
  dbStatementTimeoutMs: number;
  /** Longest a caller waits for a pooled connection, connecting a new one included. */
  dbAcquireTimeoutMs: number;
  /** Longest the HTTP API works on one request before answering 503; a transaction still open then rolls back. */
  requestTimeoutMs: number;
}

export function loadDeadlineConfig(env: Env): DeadlineConfig {
  return {
    dbStatementTimeoutMs: readInt(env, 'SIGNET_DB_STATEMENT_TIMEOUT_MS', 5000, 100, 3_600_000),
    dbAcquireTimeoutMs: readInt(env, 'SIGNET_DB_ACQUIRE_TIMEOUT_MS', 3000, 100, 3_600_000),
    requestTimeoutMs: readInt(env, 'SIGNET_REQUEST_TIMEOUT_MS', 10000, 100, 3_600_000),
  };
}
