/**
 * `idp-federation` as its own process on PostgreSQL + Redis: providers are
 * managed and IdP tokens exchanged for tkn_ credentials there, and an edge
 * process started beside it accepts them.
 */
import { randomBytes } from 'node:crypto';

import { SignJWT } from 'jose';

import { createTestDatabase, redisUrl, TestDatabase, uniquePrefix } from '@signet/testing';

import { TokenApi } from '../support/api';
import { brokerUrl, connect } from '../support/mqtt';
import { testEnv } from '../support/signet';
import { SpawnedApp } from '../support/spawn';

describe('idp-federation as a separate process', () => {
  let db: TestDatabase;
  const apps: SpawnedApp[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('signet_idp_service');
  });
  afterAll(async () => {
    for (const a of apps) await a.stop();
    await db?.drop();
  });

  it('exchanges an IdP token for credentials an edge accepts', async () => {
    const shared = {
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl(),
      SIGNET_REDIS_PREFIX: uniquePrefix('idp-service'),
      SIGNET_MASTER_KEY: randomBytes(32).toString('base64'),
      SIGNET_LOG_LEVEL: 'warn',
    };
    const idp = SpawnedApp.start('idp-federation', testEnv(shared));
    apps.push(idp);
    await idp.ready();
    const key = /^(sk_\S+)$/m.exec(idp.stdout)?.[1];
    expect(key).toBeDefined();
    const api = new TokenApi(`http://127.0.0.1:${idp.port('HTTP API')}`, key);

    const secret = randomBytes(32).toString('hex');
    const created = await api.call('POST', '/v1/idp-providers', {
      kind: 'jwt',
      issuer: 'https://issuer.example',
      audience: 'mqtt',
      algorithms: ['HS256'],
      shared_secret: secret,
    });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain(secret);

    const now = Math.floor(Date.now() / 1000);
    const idToken = await new SignJWT({ iss: 'https://issuer.example', aud: 'mqtt', sub: 'device-7', iat: now, exp: now + 600 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(secret));
    const exchanged = await new TokenApi(api.baseUrl, idToken).call('POST', '/v1/federation/exchange', { provider_id: created.body['id'] });
    expect(exchanged.status).toBe(201);
    const creds = exchanged.body['mqtt_credentials'] as { username: string; password: string };
    expect(creds.password).toMatch(/^tkn_/);

    // A token service shares the signing keys (PostgreSQL) and serves them to edges over gRPC.
    const tokens = SpawnedApp.start('token-service', testEnv(shared));
    apps.push(tokens);
    await tokens.ready();
    const edge = SpawnedApp.start('mqtt-edge', testEnv({ ...shared, SIGNET_TOKEN_SERVICE_GRPC: `127.0.0.1:${tokens.port('gRPC')}` }));
    apps.push(edge);
    await edge.ready();
    const client = await connect(brokerUrl({ mqttPort: edge.port('MQTT'), wsPort: edge.port('WebSocket') }, 'tcp'), {
      ...creds,
      protocolVersion: 5,
    });
    expect(client.connected).toBe(true);
    client.end(true);
  });
});
