import type * as grpc from '@grpc/grpc-js';

import { apiKeysRegistration, createApiKeysClient, type ApiKeyVerification, type VerifiedApiKey } from './api-keys';
import { startGrpcServer, type GrpcServerHandle } from './grpc';

const KEY: VerifiedApiKey = {
  keyId: 'abcdefghijkl',
  orgId: 'org_willpolicy01',
  name: 'device-1',
  type: 'restricted',
  scopes: ['mqtt:publish:status/{user_id}'],
  ipAllowlist: [],
  expiresAt: null,
};

describe('ApiKeys gRPC contract: the org will policy in the verdict', () => {
  const servers: GrpcServerHandle[] = [];
  const cleanups: (() => void)[] = [];
  afterEach(async () => {
    cleanups.splice(0).forEach((c) => c());
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function serve(registration: ReturnType<typeof apiKeysRegistration>): Promise<ReturnType<typeof createApiKeysClient>> {
    const server = await startGrpcServer({ port: 0, host: '127.0.0.1', services: [registration] });
    servers.push(server);
    const client = createApiKeysClient(`127.0.0.1:${server.port}`);
    cleanups.push(() => client.close());
    return client;
  }

  const handlersAnswering = (answer: ApiKeyVerification) =>
    apiKeysRegistration({ verifyApiKey: async () => answer, reportUsage: async () => undefined });

  it.each(['publish', 'suppress'] as const)('carries will_on_revoke=%s from the key service to the edge', async (policy) => {
    const client = await serve(handlersAnswering({ status: 'valid', cacheTtlMs: 1000, key: { ...KEY, willOnRevoke: policy } }));
    const verdict = await client.verifyApiKey('rk_whatever', '127.0.0.1');
    expect(verdict).toEqual({ status: 'valid', cacheTtlMs: 1000, key: { ...KEY, willOnRevoke: policy } });
  });

  /** A key service answering VALID with exactly these wire fields (as an older or odd implementation would). */
  const answeringRaw = (fields: Record<string, unknown>) => {
    const base = handlersAnswering({ status: 'invalid', cacheTtlMs: 0 });
    return {
      service: base.service,
      implementation: {
        ...base.implementation,
        VerifyApiKey: (_call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) =>
          callback(null, {
            status: 'VERIFY_STATUS_VALID',
            key_id: KEY.keyId,
            org_id: KEY.orgId,
            name: KEY.name,
            type: KEY.type,
            scopes: KEY.scopes,
            ip_allowlist: [],
            expires_at_ms: '0',
            cache_ttl_ms: '1000',
            ...fields,
          }),
      },
    };
  };

  it('reads a verdict without the field (a key service from before it) as suppress', async () => {
    // An older key service: it answers VALID and knows nothing of field 11.
    const client = await serve(answeringRaw({}));
    const verdict = await client.verifyApiKey('rk_whatever', '127.0.0.1');
    expect(verdict).toEqual({ status: 'valid', cacheTtlMs: 1000, key: { ...KEY, willOnRevoke: 'suppress' } });
  });

  it('suppresses for any value other than publish', async () => {
    const client = await serve(answeringRaw({ will_on_revoke: 'PUBLISH' }));
    const verdict = await client.verifyApiKey('rk_whatever', '127.0.0.1');
    expect(verdict.status === 'valid' && verdict.key.willOnRevoke).toBe('suppress');
  });

  it('tells a shed check (overloaded) from a throttled one', async () => {
    const shed = await serve(handlersAnswering({ status: 'throttled', retryAfterMs: 1000, overloaded: true }));
    expect(await shed.verifyApiKey('sk_whatever', '127.0.0.1')).toEqual({ status: 'throttled', retryAfterMs: 1000, overloaded: true });
    const throttled = await serve(handlersAnswering({ status: 'throttled', retryAfterMs: 5000 }));
    expect(await throttled.verifyApiKey('sk_whatever', '127.0.0.1')).toEqual({ status: 'throttled', retryAfterMs: 5000 });
  });
});
