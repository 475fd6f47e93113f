/**
 * The IdP exchange (POST /v1/federation/exchange) in an org with a directory,
 * in the all-in-one over PostgreSQL and Redis: a directory user exchanged for
 * MQTT credentials gets their groups' permissions (not the provider's role
 * mapping), a deactivated or unknown one is refused with the same problem
 * codes as POST /v1/tokens.
 */
import { randomBytes } from 'node:crypto';

import { SignJWT } from 'jose';
import type { MqttClient } from 'mqtt';

import type { SignetProcess } from '@signet/runtime';

import { TokenApi } from '../support/api';
import { brokerUrl, connect, subscribeCodes } from '../support/mqtt';
import { Backend, reach, realBackend, startSignet } from '../support/signet';

const SCIM_TYPE = 'application/scim+json';
const ISSUER = 'https://issuer.example';

describe('IdP exchange with a directory (postgres+redis)', () => {
  let backend: Backend;
  let signet: SignetProcess;
  let api: TokenApi;
  let scim: TokenApi;
  let providerId: string;
  const secret = randomBytes(32).toString('hex');
  const clients: MqttClient[] = [];

  const scimCall = (method: string, path: string, body?: unknown) => scim.call(method, `/scim/v2${path}`, body, { headers: { 'content-type': SCIM_TYPE } });
  const exchange = async (sub: string) => {
    const now = Math.floor(Date.now() / 1000);
    const idToken = await new SignJWT({ iss: ISSUER, aud: 'mqtt', sub, iat: now, exp: now + 600, roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(secret));
    return new TokenApi(api.baseUrl, idToken).call('POST', '/v1/federation/exchange', { provider_id: providerId });
  };
  const scimUser = async (userName: string, active = true) => {
    const created = await scimCall('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, externalId: `ext-${userName}`, active });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };

  beforeAll(async () => {
    backend = await realBackend('directory_federation');
    signet = await startSignet(backend);
    api = reach(signet).anonymous.withKey(signet.service!.bootstrap!.apiKey);
    scim = reach(signet).anonymous.withKey((await api.call('POST', '/v1/directory/scim-token')).body.token as string);
    // The provider's mapping would grant admin/# to everyone with the admin role.
    const created = await api.call('POST', '/v1/idp-providers', {
      kind: 'jwt',
      issuer: ISSUER,
      audience: 'mqtt',
      algorithms: ['HS256'],
      shared_secret: secret,
      role_claim: 'roles',
      role_permissions: { admin: { subscribe: ['admin/#'] } },
    });
    expect(created.status).toBe(201);
    providerId = created.body.id as string;

    const nina = await scimUser('nina');
    await scimUser('otto', false);
    const group = await scimCall('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Plant', members: [{ value: nina }] });
    expect(group.status).toBe(201);
    expect((await api.call('PUT', `/v1/directory/groups/${group.body.id as string}/permissions`, { publish: [], subscribe: ['plant/#'] })).status).toBe(200);
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await signet?.close();
    await backend?.cleanup();
  });

  it("gives a directory user their groups' permissions, not the provider's role mapping", async () => {
    const exchanged = await exchange('nina');
    expect(exchanged.status).toBe(201);
    const client = await connect(brokerUrl(reach(signet).endpoints, 'tcp'), { ...(exchanged.body.mqtt_credentials as object), protocolVersion: 5 });
    clients.push(client);
    expect(await subscribeCodes(client, 'plant/line-1')).toEqual([0]);
    expect(await subscribeCodes(client, 'admin/panel')).toEqual([0x87]);
  });

  it('refuses a deactivated or unknown directory user with the codes POST /v1/tokens uses', async () => {
    const disabled = await exchange('otto');
    expect(disabled.status).toBe(403);
    expect(disabled.body.code).toBe('directory_user_disabled');
    expect((await api.call('POST', '/v1/tokens', { user_id: 'otto' })).body.code).toBe('directory_user_disabled');

    const unknown = await exchange('stranger');
    expect(unknown.status).toBe(403);
    expect(unknown.body.code).toBe('directory_user_unknown');

    // The org may let unknown users through: they keep the provider's mapping.
    expect((await api.call('PATCH', '/v1/directory/settings', { unknown_users: 'allow' })).status).toBe(200);
    const allowed = await exchange('stranger');
    expect(allowed.status).toBe(201);
    const client = await connect(brokerUrl(reach(signet).endpoints, 'tcp'), { ...(allowed.body.mqtt_credentials as object), protocolVersion: 5 });
    clients.push(client);
    expect(await subscribeCodes(client, 'admin/panel')).toEqual([0]);
  });
});
