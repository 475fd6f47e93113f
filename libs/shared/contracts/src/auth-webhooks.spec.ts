import { authWebhooksRegistration, createAuthWebhooksClient, type WebhookConnectRequest, type WebhookVerdict } from './auth-webhooks';
import type { TrustSnapshot } from './certificates';
import { startGrpcServer, type GrpcServerHandle } from './grpc';

const REQUEST: WebhookConnectRequest = {
  orgId: 'org_aaaaaaaaaaaa',
  clientId: 'dev-1',
  username: 'dev-1@org_aaaaaaaaaaaa',
  password: 'pw',
  protocolVersion: 4,
  peerAddress: '203.0.113.7',
  listener: 'mqtts',
  edgeId: 'edge-1',
  requestId: 'r1',
  certificate: { subject: 'CN=dev-1', sans: ['DNS:dev-1'], serial: '01', fingerprint: 'ab' },
};

describe('AuthWebhooks gRPC contract', () => {
  let server: GrpcServerHandle;
  let client: ReturnType<typeof createAuthWebhooksClient>;
  let answer: WebhookVerdict;
  let chain: string[] | null;
  let trust: TrustSnapshot;
  const seen: WebhookConnectRequest[] = [];

  beforeAll(async () => {
    server = await startGrpcServer({
      port: 0,
      host: '127.0.0.1',
      services: [authWebhooksRegistration({ authorizeConnect: async (r) => (seen.push(r), answer), chainFor: async () => chain, trustStore: async () => trust })],
    });
    client = createAuthWebhooksClient(`127.0.0.1:${server.port}`, { timeoutMs: 2000 });
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it.each<WebhookVerdict>([
    { result: 'allow', permissions: { publish: ['a/#'], subscribe: ['b/+'] }, expiresAt: 1796100000000, cacheSeconds: 30 },
    { result: 'allow', permissions: { publish: [], subscribe: [] }, expiresAt: null, cacheSeconds: 0 },
    { result: 'deny', cacheSeconds: 5 },
    { result: 'ignore' },
    { result: 'unavailable', failMode: 'ignore', detail: 'auth webhook gave no answer: timeout' },
    { result: 'unavailable', failMode: 'deny', detail: 'auth webhook gave no answer: status' },
  ])('carries %j', async (verdict) => {
    answer = verdict;
    await expect(client.authorizeConnect(REQUEST)).resolves.toEqual(verdict);
    expect(seen.at(-1)).toEqual(REQUEST);
  });

  it('an absent password stays absent (not an empty string)', async () => {
    answer = { result: 'ignore' };
    const { password: _omit, ...noPassword } = REQUEST;
    await client.authorizeConnect(noPassword);
    expect(seen.at(-1)).not.toHaveProperty('password');
  });

  it('the chain, or null for the default', async () => {
    chain = ['webhook', 'token'];
    await expect(client.chainFor('org_aaaaaaaaaaaa')).resolves.toEqual(['webhook', 'token']);
    chain = null;
    await expect(client.chainFor('org_aaaaaaaaaaaa')).resolves.toBeNull();
  });

  it('the trust store, as the service gave it', async () => {
    trust = {
      version: 'v1',
      authorities: [
        { id: 'ca_aaaaaaaaaaaa', orgId: 'org_aaaaaaaaaaaa', pem: '-----BEGIN CERTIFICATE-----…', allowAny: false, registered: ['ab'], revokedSerials: ['1A'], revokedFingerprints: ['cd'] },
      ],
      rules: [{ orgId: 'org_aaaaaaaaaaaa', identity: 'san_uri', publish: ['devices/{cert_cn}/#'], subscribe: [], requirePassword: true }],
    };
    await expect(client.trustStore()).resolves.toEqual(trust);
    trust = { version: 'empty', authorities: [], rules: [] };
    await expect(client.trustStore()).resolves.toEqual(trust);
  });
});
