import * as grpc from '@grpc/grpc-js';

import { CERTIFICATE_IDENTITY_SOURCES, type CertificateIdentitySource, type TrustSnapshot, type TrustStoreSource } from './certificates';
import { GrpcServiceRegistration, loadService, unaryCall } from './grpc';
import { AUTH_WEBHOOKS_PROTO, AUTH_WEBHOOKS_SERVICE } from './proto';

/** What the edge tells the auth-webhook service about a CONNECT (the password only travels when the org opted in). */
export interface WebhookConnectRequest {
  orgId: string;
  clientId: string;
  username: string;
  password?: string;
  protocolVersion: 3 | 4 | 5;
  peerAddress: string;
  listener: string;
  edgeId: string;
  requestId: string;
  /** The verified client certificate, when the listener had one. */
  certificate?: { subject: string; sans: string[]; serial: string; fingerprint: string };
}

/**
 * The service's answer. `unavailable`: the endpoint gave no usable answer
 * (timeout, non-200, bad body, breaker open); `failMode` is the org's choice
 * of what the edge does then.
 */
export type WebhookVerdict =
  | {
      result: 'allow';
      permissions: { publish: string[]; subscribe: string[] };
      /** ms epoch; null: the session lives until it ends or is revoked. */
      expiresAt: number | null;
      cacheSeconds: number;
    }
  | { result: 'deny'; cacheSeconds: number }
  | { result: 'ignore' }
  | { result: 'unavailable'; failMode: WebhookFailMode; detail: string };

/** When the webhook cannot answer: refuse with CONNACK 0x88 (`deny`), or hand over to the next step (`ignore`). */
export type WebhookFailMode = 'deny' | 'ignore';

/** The auth-webhook service as an edge sees it: in-process in the all-in-one, gRPC otherwise. */
export interface WebhookAuthorizer {
  authorizeConnect(request: WebhookConnectRequest): Promise<WebhookVerdict>;
  /** The org's authenticator chain (step names in order); null: the default chain. */
  chainFor(orgId: string): Promise<string[] | null>;
}

interface AuthorizeResponseMessage {
  result: string;
  publish: string[];
  subscribe: string[];
  expires_at_ms: string;
  cache_seconds: string;
  fail_mode: string;
  detail: string;
}

const EMPTY_RESPONSE: AuthorizeResponseMessage = {
  result: 'RESULT_UNAVAILABLE',
  publish: [],
  subscribe: [],
  expires_at_ms: '0',
  cache_seconds: '0',
  fail_mode: 'deny',
  detail: '',
};

function toResponseMessage(v: WebhookVerdict): AuthorizeResponseMessage {
  switch (v.result) {
    case 'allow':
      return {
        ...EMPTY_RESPONSE,
        result: 'RESULT_ALLOW',
        publish: v.permissions.publish,
        subscribe: v.permissions.subscribe,
        expires_at_ms: String(v.expiresAt ?? 0),
        cache_seconds: String(v.cacheSeconds),
      };
    case 'deny':
      return { ...EMPTY_RESPONSE, result: 'RESULT_DENY', cache_seconds: String(v.cacheSeconds) };
    case 'ignore':
      return { ...EMPTY_RESPONSE, result: 'RESULT_IGNORE' };
    case 'unavailable':
      return { ...EMPTY_RESPONSE, fail_mode: v.failMode, detail: v.detail };
  }
}

const n = (value: unknown): number => {
  const x = typeof value === 'string' || typeof value === 'number' ? Number(value) : 0;
  return Number.isFinite(x) && x >= 0 ? x : 0;
};
const list = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Decodes defensively: anything not clearly ALLOW/DENY/IGNORE is "unavailable", fail mode deny (fail closed). */
export function fromAuthorizeMessage(raw: object | undefined): WebhookVerdict {
  const m = (raw ?? {}) as Partial<Record<keyof AuthorizeResponseMessage, unknown>>;
  switch (m.result) {
    case 'RESULT_ALLOW': {
      const exp = n(m.expires_at_ms);
      return { result: 'allow', permissions: { publish: list(m.publish), subscribe: list(m.subscribe) }, expiresAt: exp === 0 ? null : exp, cacheSeconds: n(m.cache_seconds) };
    }
    case 'RESULT_DENY':
      return { result: 'deny', cacheSeconds: n(m.cache_seconds) };
    case 'RESULT_IGNORE':
      return { result: 'ignore' };
    default:
      return { result: 'unavailable', failMode: m.fail_mode === 'ignore' ? 'ignore' : 'deny', detail: text(m.detail) || 'auth webhook service gave no answer' };
  }
}

function fromRequestMessage(raw: object): WebhookConnectRequest {
  const m = raw as Record<string, unknown>;
  const cert = m['certificate'] as Record<string, unknown> | null | undefined;
  const version = Number(m['protocol_version']);
  return {
    orgId: text(m['org_id']),
    clientId: text(m['client_id']),
    username: text(m['username']),
    ...(m['has_password'] === true ? { password: text(m['password']) } : {}),
    protocolVersion: version === 3 || version === 4 ? version : 5,
    peerAddress: text(m['peer_address']),
    listener: text(m['listener']),
    edgeId: text(m['edge_id']),
    requestId: text(m['request_id']),
    ...(cert ? { certificate: { subject: text(cert['subject']), sans: list(cert['sans']), serial: text(cert['serial']), fingerprint: text(cert['fingerprint']) } } : {}),
  };
}

function authWebhooksService() {
  const loaded = loadService(AUTH_WEBHOOKS_PROTO, AUTH_WEBHOOKS_SERVICE);
  return { service: loaded.service, authorize: loaded.method('AuthorizeConnect'), chain: loaded.method('GetChain'), trust: loaded.method('GetTrustStore') };
}

const object = (value: unknown): Record<string, unknown>[] =>
  Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null) : [];

/** Decodes defensively: an authority or rule that does not make sense is left out (it then authenticates no one). */
export function fromTrustStoreMessage(raw: object | undefined): TrustSnapshot {
  const m = (raw ?? {}) as Record<string, unknown>;
  const identities = CERTIFICATE_IDENTITY_SOURCES as readonly string[];
  return {
    version: text(m['version']),
    authorities: object(m['authorities'])
      .filter((a) => text(a['id']) && text(a['org_id']) && text(a['pem']))
      .map((a) => ({
        id: text(a['id']),
        orgId: text(a['org_id']),
        pem: text(a['pem']),
        allowAny: a['allow_any'] === true,
        registered: list(a['registered']),
        revokedSerials: list(a['revoked_serials']),
        revokedFingerprints: list(a['revoked_fingerprints']),
      })),
    rules: object(m['rules'])
      .filter((r) => text(r['org_id']) && identities.includes(text(r['identity'])))
      .map((r) => ({
        orgId: text(r['org_id']),
        identity: text(r['identity']) as CertificateIdentitySource,
        publish: list(r['publish']),
        subscribe: list(r['subscribe']),
        requirePassword: r['require_password'] === true,
      })),
  };
}

function toTrustStoreMessage(t: TrustSnapshot): object {
  return {
    version: t.version,
    authorities: t.authorities.map((a) => ({
      id: a.id,
      org_id: a.orgId,
      pem: a.pem,
      allow_any: a.allowAny,
      registered: a.registered,
      revoked_serials: a.revokedSerials,
      revoked_fingerprints: a.revokedFingerprints,
    })),
    rules: t.rules.map((r) => ({ org_id: r.orgId, identity: r.identity, publish: r.publish, subscribe: r.subscribe, require_password: r.requirePassword })),
  };
}

/** The AuthWebhooks implementation for {@link startGrpcServer} (auth-webhook service side). */
export function authWebhooksRegistration(handlers: WebhookAuthorizer & Partial<TrustStoreSource>): GrpcServiceRegistration {
  const { service } = authWebhooksService();
  const failed = (what: string) =>
    Object.assign(new Error(what), { code: grpc.status.INTERNAL, details: what, metadata: new grpc.Metadata() }) as grpc.ServiceError;
  return {
    service,
    implementation: {
      AuthorizeConnect: (call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<AuthorizeResponseMessage>) => {
        handlers.authorizeConnect(fromRequestMessage(call.request)).then(
          (v) => callback(null, toResponseMessage(v)),
          // Never echo the request (it may carry a password).
          () => callback(failed('authorizing the CONNECT failed')),
        );
      },
      GetChain: (call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => {
        handlers.chainFor(text((call.request as { org_id?: unknown }).org_id)).then(
          (steps) => callback(null, { is_default: steps === null, steps: steps ?? [] }),
          () => callback(failed('reading the chain failed')),
        );
      },
      GetTrustStore: (_call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => {
        if (!handlers.trustStore) return callback(null, { version: 'empty', authorities: [], rules: [] });
        handlers.trustStore().then(
          (t) => callback(null, toTrustStoreMessage(t)),
          () => callback(failed('reading the trust store failed')),
        );
      },
    },
  };
}

export interface AuthWebhooksClient extends WebhookAuthorizer, TrustStoreSource {
  close(): void;
}

/** Client for `signet.authwebhooks.v1.AuthWebhooks` (edge side). */
export function createAuthWebhooksClient(address: string, options: { credentials?: grpc.ChannelCredentials; timeoutMs: number }): AuthWebhooksClient {
  const { authorize, chain, trust } = authWebhooksService();
  const client = new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure());
  return {
    authorizeConnect: async (r) =>
      fromAuthorizeMessage(
        await unaryCall(
          client,
          authorize,
          {
            org_id: r.orgId,
            client_id: r.clientId,
            username: r.username,
            password: r.password ?? '',
            has_password: r.password !== undefined,
            protocol_version: r.protocolVersion,
            peer_address: r.peerAddress,
            listener: r.listener,
            edge_id: r.edgeId,
            request_id: r.requestId,
            ...(r.certificate ? { certificate: r.certificate } : {}),
          },
          options.timeoutMs,
        ),
      ),
    chainFor: async (orgId) => {
      const m = ((await unaryCall(client, chain, { org_id: orgId }, options.timeoutMs)) ?? {}) as { is_default?: unknown; steps?: unknown };
      return m.is_default === true ? null : list(m.steps);
    },
    trustStore: async () => fromTrustStoreMessage(await unaryCall(client, trust, {}, options.timeoutMs)),
    close: () => client.close(),
  };
}
