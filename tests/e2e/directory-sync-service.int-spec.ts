/**
 * `directory-sync` as its own process on PostgreSQL + Redis, beside a token
 * service and an edge: the token service applies the directory to POST
 * /v1/tokens, and a SCIM deactivation at directory-sync closes the session on
 * the edge (revocation over the Redis bus).
 */
import { randomBytes } from 'node:crypto';

import { createTestDatabase, redisUrl, TestDatabase, uniquePrefix } from '@signet/testing';

import { scimBody } from '../../libs/directory/src/testing/scim-corpus';
import { TokenApi } from '../support/api';
import { brokerUrl, connect, serverClosed } from '../support/mqtt';
import { testEnv } from '../support/signet';
import { SpawnedApp } from '../support/spawn';

describe('directory-sync as a separate process', () => {
  let db: TestDatabase;
  const apps: SpawnedApp[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('signet_directory_service');
  });
  afterAll(async () => {
    for (const a of apps) await a.stop();
    await db?.drop();
  });

  it('provisions over SCIM, tokens from the token service follow the directory, a deactivation closes the session on the edge', async () => {
    const shared = {
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl(),
      SIGNET_REDIS_PREFIX: uniquePrefix('directory-service'),
      SIGNET_MASTER_KEY: randomBytes(32).toString('base64'),
      SIGNET_LOG_LEVEL: 'warn',
    };
    const directory = SpawnedApp.start('directory-sync', testEnv(shared));
    apps.push(directory);
    await directory.ready();
    const key = /^(sk_\S+)$/m.exec(directory.stdout)?.[1];
    expect(key).toBeDefined();
    const admin = new TokenApi(`http://127.0.0.1:${directory.port('HTTP API')}`, key);
    const scimToken = (await admin.call('POST', '/v1/directory/scim-token')).body.token as string;
    const scim = new TokenApi(admin.baseUrl, scimToken);
    const headers = { 'content-type': 'application/scim+json' };
    const userId = (await scim.call('POST', '/scim/v2/Users', scimBody('okta', 'create-user'), { headers })).body.id as string;
    const groupId = (await scim.call('POST', '/scim/v2/Groups', scimBody('okta', 'create-group'), { headers })).body.id as string;
    await scim.call('PATCH', `/scim/v2/Groups/${groupId}`, scimBody('okta', 'add-member', { userId }), { headers });
    expect((await admin.call('PUT', `/v1/directory/groups/${groupId}/permissions`, { publish: [], subscribe: ['fleet/#'] })).status).toBe(200);

    const tokens = SpawnedApp.start('token-service', testEnv(shared));
    apps.push(tokens);
    await tokens.ready();
    const tokenApi = new TokenApi(`http://127.0.0.1:${tokens.port('HTTP API')}`, key);
    expect((await tokenApi.call('POST', '/v1/tokens', { user_id: 'nobody' })).body.code).toBe('directory_user_unknown');
    const creds = await tokenApi.issue({ user_id: 'alice@example.com' });

    const edge = SpawnedApp.start('mqtt-edge', testEnv({ ...shared, SIGNET_TOKEN_SERVICE_GRPC: `127.0.0.1:${tokens.port('gRPC')}` }));
    apps.push(edge);
    await edge.ready();
    const client = await connect(brokerUrl({ mqttPort: edge.port('MQTT'), wsPort: edge.port('WebSocket') }, 'tcp'), { ...creds.mqtt_credentials, protocolVersion: 5 });
    const closed = serverClosed(client);
    const deactivated = await scim.call('PATCH', `/scim/v2/Users/${userId}`, scimBody('okta', 'deactivate-user'), { headers });
    expect(deactivated.body.active).toBe(false);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('session not closed within 5 s')), 5000)));
    const { reasonCode } = await Promise.race([closed, timeout]).finally(() => clearTimeout(timer));
    expect(reasonCode).toBe(0x98);
    expect((await tokenApi.call('POST', '/v1/tokens', { user_id: 'alice@example.com' })).body.code).toBe('directory_user_disabled');
    client.end(true);
  });
});
