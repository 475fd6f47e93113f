import * as grpc from '@grpc/grpc-js';

import { GrpcServiceRegistration, loadService, unaryCall } from './grpc';
import { API_KEYS_PROTO, API_KEYS_SERVICE } from './proto';

/** A verified `sk_`/`rk_` key, as the key service describes it to an edge. */
export interface VerifiedApiKey {
  keyId: string;
  orgId: string;
  /** The key's name: the `<name>` of its MQTT username `<name>@<org_id>`. */
  name: string;
  type: 'secret' | 'restricted';
  scopes: string[];
  /** IPs / CIDR blocks; empty = any address. */
  ipAllowlist: string[];
  /** ms epoch; null = never. */
  expiresAt: number | null;
  /**
   * The org's `will_on_revoke` when the key was verified: whether a session's
   * will goes out when the key is revoked or expires. Absent = `suppress`.
   */
  willOnRevoke?: 'suppress' | 'publish';
}

/** The key service's answer to "is this key string good?". */
export type ApiKeyVerification =
  | { status: 'valid'; key: VerifiedApiKey; cacheTtlMs: number }
  | { status: 'invalid'; cacheTtlMs: number }
  /** `overloaded`: verification is shedding load (not this key or address): CONNACK 0x89 rather than 0x88. */
  | { status: 'throttled'; retryAfterMs: number; overloaded?: boolean };

/** Counters of one key during one UTC hour. */
export interface UsageDelta {
  keyId: string;
  /** ms epoch of the start of the UTC hour. */
  bucketStart: number;
  apiCalls: number;
  mqttConnects: number;
  messagesPublished: number;
  bytesPublished: number;
  denials: number;
}

export const USAGE_COUNTERS = ['apiCalls', 'mqttConnects', 'messagesPublished', 'bytesPublished', 'denials'] as const;
export type UsageCounter = (typeof USAGE_COUNTERS)[number];

/** What the key service does for edges; implemented in-process by the all-in-one, over gRPC otherwise. */
export interface ApiKeyVerifier {
  verifyApiKey(key: string, remoteAddress: string): Promise<ApiKeyVerification>;
}
export interface UsageSink {
  reportUsage(deltas: UsageDelta[]): Promise<void>;
}
export type ApiKeysHandlers = ApiKeyVerifier & UsageSink;

/** The ApiKeys service and its methods, parsed once per process. */
function apiKeysService() {
  const loaded = loadService(API_KEYS_PROTO, API_KEYS_SERVICE);
  return { service: loaded.service, verify: loaded.method('VerifyApiKey'), report: loaded.method('ReportUsage') };
}

interface VerifyResponseMessage {
  status: string;
  key_id: string;
  org_id: string;
  name: string;
  type: string;
  scopes: string[];
  ip_allowlist: string[];
  expires_at_ms: string;
  cache_ttl_ms: string;
  retry_after_ms: string;
  will_on_revoke: string;
  overloaded: boolean;
}

interface UsageDeltaMessage {
  key_id: string;
  bucket_start_ms: string;
  api_calls: string;
  mqtt_connects: string;
  messages_published: string;
  bytes_published: string;
  denials: string;
}

const EMPTY_VERIFY: VerifyResponseMessage = {
  status: 'VERIFY_STATUS_INVALID',
  key_id: '',
  org_id: '',
  name: '',
  type: '',
  scopes: [],
  ip_allowlist: [],
  expires_at_ms: '0',
  cache_ttl_ms: '0',
  retry_after_ms: '0',
  will_on_revoke: '',
  overloaded: false,
};

function toVerifyMessage(v: ApiKeyVerification): VerifyResponseMessage {
  switch (v.status) {
    case 'valid':
      return {
        ...EMPTY_VERIFY,
        status: 'VERIFY_STATUS_VALID',
        key_id: v.key.keyId,
        org_id: v.key.orgId,
        name: v.key.name,
        type: v.key.type,
        scopes: v.key.scopes,
        ip_allowlist: v.key.ipAllowlist,
        expires_at_ms: String(v.key.expiresAt ?? 0),
        cache_ttl_ms: String(v.cacheTtlMs),
        will_on_revoke: v.key.willOnRevoke === 'publish' ? 'publish' : 'suppress',
      };
    case 'invalid':
      return { ...EMPTY_VERIFY, cache_ttl_ms: String(v.cacheTtlMs) };
    case 'throttled':
      return { ...EMPTY_VERIFY, status: 'VERIFY_STATUS_THROTTLED', retry_after_ms: String(v.retryAfterMs), overloaded: v.overloaded === true };
  }
}

const num = (value: unknown): number => {
  const n = typeof value === 'string' || typeof value === 'number' ? Number(value) : 0;
  return Number.isFinite(n) && n >= 0 ? n : 0;
};
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Decodes defensively: anything not clearly VALID is treated as invalid (fail closed). */
export function fromVerifyMessage(raw: object | undefined): ApiKeyVerification {
  const m = (raw ?? {}) as Partial<Record<keyof VerifyResponseMessage, unknown>>;
  if (m.status === 'VERIFY_STATUS_THROTTLED') {
    return { status: 'throttled', retryAfterMs: num(m.retry_after_ms), ...(m.overloaded === true ? { overloaded: true } : {}) };
  }
  const type = str(m.type);
  if (m.status !== 'VERIFY_STATUS_VALID' || (type !== 'secret' && type !== 'restricted') || !str(m.key_id) || !str(m.org_id)) {
    return { status: 'invalid', cacheTtlMs: num(m.cache_ttl_ms) };
  }
  const expires = num(m.expires_at_ms);
  return {
    status: 'valid',
    cacheTtlMs: num(m.cache_ttl_ms),
    key: {
      keyId: str(m.key_id),
      orgId: str(m.org_id),
      name: str(m.name),
      type,
      scopes: strings(m.scopes),
      ipAllowlist: strings(m.ip_allowlist),
      expiresAt: expires === 0 ? null : expires,
      // Only an explicit "publish" publishes: absent (older key service) or anything else suppresses.
      willOnRevoke: m.will_on_revoke === 'publish' ? 'publish' : 'suppress',
    },
  };
}

function toDeltaMessage(d: UsageDelta): UsageDeltaMessage {
  return {
    key_id: d.keyId,
    bucket_start_ms: String(d.bucketStart),
    api_calls: String(d.apiCalls),
    mqtt_connects: String(d.mqttConnects),
    messages_published: String(d.messagesPublished),
    bytes_published: String(d.bytesPublished),
    denials: String(d.denials),
  };
}

function fromDeltaMessage(raw: unknown): UsageDelta | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const m = raw as Partial<Record<keyof UsageDeltaMessage, unknown>>;
  const keyId = str(m.key_id);
  if (!keyId) return null;
  return {
    keyId,
    bucketStart: num(m.bucket_start_ms),
    apiCalls: num(m.api_calls),
    mqttConnects: num(m.mqtt_connects),
    messagesPublished: num(m.messages_published),
    bytesPublished: num(m.bytes_published),
    denials: num(m.denials),
  };
}

const internal = (what: string, err: unknown): grpc.ServiceError =>
  Object.assign(new Error(what), {
    code: grpc.status.INTERNAL,
    // Never echo a key back; the message of our own errors is safe.
    details: `${what}: ${err instanceof Error ? err.message : String(err)}`,
    metadata: new grpc.Metadata(),
  });

/** The ApiKeys implementation for {@link startGrpcServer} (key service side). */
export function apiKeysRegistration(handlers: ApiKeysHandlers): GrpcServiceRegistration {
  const { service } = apiKeysService();
  return {
    service,
    implementation: {
      VerifyApiKey: (call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<VerifyResponseMessage>) => {
        const req = call.request as { key?: unknown; remote_address?: unknown };
        handlers.verifyApiKey(str(req.key), str(req.remote_address)).then(
          (v) => callback(null, toVerifyMessage(v)),
          (err: unknown) => callback(internal('verifying the key failed', err)),
        );
      },
      ReportUsage: (call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => {
        const req = call.request as { deltas?: unknown };
        const deltas = (Array.isArray(req.deltas) ? req.deltas : []).map(fromDeltaMessage).filter((d): d is UsageDelta => d !== null);
        handlers.reportUsage(deltas).then(
          () => callback(null, {}),
          (err: unknown) => callback(internal('recording usage failed', err)),
        );
      },
    },
  };
}

export interface ApiKeysClient extends ApiKeysHandlers {
  close(): void;
}

/** Client for `signet.keys.v1.ApiKeys` (edge side). Calls reject with the grpc-js ServiceError. */
export function createApiKeysClient(
  address: string,
  options: { credentials?: grpc.ChannelCredentials; timeoutMs?: number } = {},
): ApiKeysClient {
  const { verify, report } = apiKeysService();
  const client = new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure());
  const timeoutMs = options.timeoutMs ?? 5000;
  return {
    verifyApiKey: async (key, remoteAddress) =>
      fromVerifyMessage(await unaryCall(client, verify, { key, remote_address: remoteAddress }, timeoutMs)),
    reportUsage: async (deltas) => {
      await unaryCall(client, report, { deltas: deltas.map(toDeltaMessage) }, timeoutMs);
    },
    close: () => client.close(),
  };
}
