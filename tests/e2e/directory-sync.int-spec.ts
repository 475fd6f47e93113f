/**
 * Directory sync in the all-in-one process over the machine's PostgreSQL and
 * Redis: an IdP provisions users and groups over SCIM with bodies shaped like
 * Okta's and Entra ID's, tokens carry the groups' permissions, and a SCIM
 * deactivation (or removal from the group) closes the user's live MQTT session.
 */
import type { MqttClient } from 'mqtt';

import { scimBody } from '../../libs/directory/src/testing/scim-corpus';
import type { SignetProcess } from '@signet/runtime';

import { TokenApi } from '../support/api';
import { within } from '../support/directory';
import { brokerUrl, connect, credentialsRefusal, Endpoints, serverClosed, subscribeCodes } from '../support/mqtt';
import { Backend, reach, realBackend, startSignet } from '../support/signet';

const SCIM_TYPE = 'application/scim+json';

describe('directory sync (SCIM) on postgres+redis', () => {
  let backend: Backend;
  let signet: SignetProcess;
  let api: TokenApi;
  let scim: TokenApi;
  let endpoints: Endpoints;
  let baseUrl: string;
  const clients: MqttClient[] = [];

  const scimCall = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    scim.call(method, `/scim/v2${path}`, body, { headers: { 'content-type': SCIM_TYPE, ...headers } });

  const login = async (userId: string) => {
    const creds = await api.issue({ user_id: userId });
    const client = await connect(brokerUrl(endpoints, 'tcp'), { ...creds.mqtt_credentials, protocolVersion: 5 });
    clients.push(client);
    return { creds, client };
  };

  beforeAll(async () => {
    backend = await realBackend('directory');
    signet = await startSignet(backend);
    const anonymous = reach(signet).anonymous;
    endpoints = reach(signet).endpoints;
    baseUrl = anonymous.baseUrl;
    api = anonymous.withKey(signet.service!.bootstrap!.apiKey);
    const rotated = await api.call('POST', '/v1/directory/scim-token');
    expect(rotated.status).toBe(201);
    expect(rotated.body.token).toMatch(/^scim_/);
    expect(rotated.body.scim_base_url).toBe(`${baseUrl}/scim/v2`);
    scim = anonymous.withKey(rotated.body.token as string);
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.end(true);
  });

  afterAll(async () => {
    await signet?.close();
    await backend?.cleanup();
  });

  describe('SCIM wire behaviour', () => {
    it('serves discovery as application/scim+json, and refuses a missing or wrong token with a SCIM error', async () => {
      const config = await scimCall('GET', '/ServiceProviderConfig');
      expect(config.status).toBe(200);
      expect(config.contentType).toContain(SCIM_TYPE);
      expect(config.body).toMatchObject({ patch: { supported: true }, filter: { supported: true }, etag: { supported: true } });
      const types = await scimCall('GET', '/ResourceTypes');
      expect((types.body.Resources as Array<{ id: string }>).map((r) => r.id)).toEqual(['User', 'Group']);
      const schemas = await scimCall('GET', '/Schemas');
      expect(schemas.body.totalResults).toBe(2);

      const anonymous = new TokenApi(baseUrl);
      for (const auth of [undefined, 'Bearer scim_wrong', `Bearer ${signet.service!.bootstrap!.apiKey}`]) {
        const res = await anonymous.call('GET', '/scim/v2/Users', undefined, { headers: auth ? { authorization: auth } : {} });
        expect(res.status).toBe(401);
        expect(res.contentType).toContain(SCIM_TYPE);
        expect(res.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
      }
    });

    it('creates, finds, replaces and deletes an Okta-shaped user, with ETags, filters and 409 on a duplicate userName', async () => {
      const created = await scimCall('POST', '/Users', { ...scimBody('okta', 'create-user'), userName: 'carol@example.com', externalId: 'okta-carol' });
      expect(created.status).toBe(201);
      expect(created.contentType).toContain(SCIM_TYPE);
      const id = created.body.id as string;
      expect(created.body).toMatchObject({ userName: 'carol@example.com', active: true, name: { givenName: 'Alice' }, meta: { resourceType: 'User', version: 'W/"1"' } });
      expect(created.body).not.toHaveProperty('password');

      const dup = await scimCall('POST', '/Users', { ...scimBody('okta', 'create-user'), userName: 'CAROL@example.com' });
      expect(dup.status).toBe(409);
      expect(dup.body).toMatchObject({ status: '409', scimType: 'uniqueness' });

      for (const filter of ['userName eq "carol@EXAMPLE.com"', 'externalId eq "okta-carol"', 'emails.value eq "alice@example.com" and userName eq "carol@example.com"']) {
        const found = await scimCall('GET', `/Users?filter=${encodeURIComponent(filter)}`);
        expect(found.status).toBe(200);
        expect(found.body).toMatchObject({ totalResults: 1, startIndex: 1, Resources: [{ id }] });
      }
      const none = await scimCall('GET', `/Users?filter=${encodeURIComponent('userName eq "nobody"')}`);
      expect(none.body).toMatchObject({ totalResults: 0, Resources: [] });
      const bad = await scimCall('GET', `/Users?filter=${encodeURIComponent('userName co "car"')}`);
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ scimType: 'invalidFilter' });
      const garbage = await scimCall('GET', `/Users?filter=${encodeURIComponent('userName eq')}`);
      expect(garbage.body).toMatchObject({ scimType: 'invalidFilter' });

      const got = await scimCall('GET', `/Users/${id}`);
      expect(got.status).toBe(200);
      const replaced = await scimCall('PUT', `/Users/${id}`, { ...got.body, displayName: 'Carol' }, { 'if-match': 'W/"1"' });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({ displayName: 'Carol', meta: { version: 'W/"2"' } });
      const stale = await scimCall('PUT', `/Users/${id}`, { ...got.body, displayName: 'Stale' }, { 'if-match': 'W/"1"' });
      expect(stale.status).toBe(412);
      expect((await scimCall('GET', `/Users/${id}`)).body.displayName).toBe('Carol');

      expect((await scimCall('DELETE', `/Users/${id}`)).status).toBe(204);
      expect((await scimCall('GET', `/Users/${id}`)).body).toMatchObject({ status: '404' });
      expect((await scimCall('GET', '/Users/not-a-uuid')).status).toBe(404);
    });

    it('applies Entra-shaped PATCH bodies: "Replace"/"Add", "False" strings, filtered email paths, path-less dotted keys', async () => {
      const created = await scimCall('POST', '/Users', scimBody('entra', 'create-user'));
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const updated = await scimCall('PATCH', `/Users/${id}`, scimBody('entra', 'update-attributes'));
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({
        displayName: 'Bob J.',
        name: { givenName: 'Robert', familyName: 'Jones' },
        emails: [{ type: 'work', value: 'bob.jones@contoso.com', primary: true }],
        active: true,
      });
      const home = await scimCall('PATCH', `/Users/${id}`, scimBody('entra', 'add-home-email'));
      expect(home.body.emails).toEqual([expect.objectContaining({ type: 'work' }), { type: 'home', value: 'bob@home.example' }]);
      const disabled = await scimCall('PATCH', `/Users/${id}`, scimBody('entra', 'disable-user'));
      expect(disabled.body.active).toBe(false);
      const badOp = await scimCall('PATCH', `/Users/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'move' }] });
      expect(badOp.status).toBe(400);
      expect(badOp.body).toMatchObject({ scimType: 'invalidSyntax' });
      const notJson = await scim.call('POST', '/scim/v2/Users', undefined, { rawBody: '{"userName":', headers: { 'content-type': SCIM_TYPE } });
      expect(notJson.status).toBe(400);
    });
  });

  describe('tokens and deprovisioning', () => {
    let aliceId: string;
    let groupId: string;

    beforeAll(async () => {
      aliceId = (await scimCall('POST', '/Users', scimBody('okta', 'create-user'))).body.id as string;
      groupId = (await scimCall('POST', '/Groups', scimBody('okta', 'create-group'))).body.id as string;
      const mapped = await api.call('PUT', `/v1/directory/groups/${groupId}/permissions`, {
        publish: ['devices/{user_id}/#'],
        subscribe: ['devices/{user_id}/#', 'fleet/status'],
      });
      expect(mapped.status).toBe(200);
      expect(mapped.body).toMatchObject({ id: groupId, member_count: 0 });
      const listed = await api.call('GET', '/v1/directory/groups?limit=1');
      expect(listed.body).toMatchObject({ groups: [{ id: groupId, display_name: 'Field engineers', permissions: { subscribe: ['devices/{user_id}/#', 'fleet/status'] } }] });
      expect((await api.call('GET', '/v1/directory/groups?cursor=bogus')).body.code).toBe('invalid_cursor');
      expect((await api.call('GET', '/v1/directory/groups?limit=0')).body.code).toBe('validation_failed');
    });

    it('refuses a member of no group, unknown users per the org policy, and bad group permissions', async () => {
      const noGroup = await api.call('POST', '/v1/tokens', { user_id: 'alice@example.com' });
      expect(noGroup.status).toBe(403);
      expect(noGroup.body.code).toBe('directory_user_without_access');
      const unknown = await api.call('POST', '/v1/tokens', { user_id: 'mallory' });
      expect(unknown.body.code).toBe('directory_user_unknown');
      expect((await api.call('PATCH', '/v1/directory/settings', { unknown_users: 'allow' })).body).toEqual({ unknown_users: 'allow', scim_enabled: true });
      expect((await api.call('POST', '/v1/tokens', { user_id: 'mallory' })).status).toBe(201);
      await api.call('PATCH', '/v1/directory/settings', { unknown_users: 'refuse' });
      expect((await api.call('POST', '/v1/tokens', { user_id: 'mallory' })).status).toBe(403);
      // Exact name only: a token under another spelling would escape revocation by user id.
      expect((await api.call('POST', '/v1/tokens', { user_id: 'ALICE@example.com' })).body.code).toBe('directory_user_unknown');

      const bad = await api.call('PUT', `/v1/directory/groups/${groupId}/permissions`, { publish: ['a/#/b'], subscribe: [] });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('invalid_group_permission');
      const missing = await api.call('PUT', '/v1/directory/groups/00000000-0000-4000-8000-000000000000/permissions', { publish: [], subscribe: [] });
      expect(missing.body.code).toBe('directory_group_not_found');
    });

    it("issues the group's permissions (narrowing allowed, widening refused), and closes the session on an Okta deactivation", async () => {
      const added = await scimCall('PATCH', `/Groups/${groupId}`, scimBody('okta', 'add-member', { userId: aliceId }));
      expect(added.status).toBe(200);
      expect(added.body.members).toEqual([expect.objectContaining({ value: aliceId, display: 'alice@example.com' })]);
      expect((await scimCall('GET', `/Users/${aliceId}`)).body.groups).toEqual([expect.objectContaining({ value: groupId, display: 'Field engineers' })]);

      const wider = await api.call('POST', '/v1/tokens', { user_id: 'alice@example.com', permissions: { publish: ['#'] } });
      expect(wider.status).toBe(403);
      expect(wider.body.code).toBe('directory_permission_exceeded');
      const narrower = await api.call('POST', '/v1/tokens', { user_id: 'alice@example.com', permissions: { subscribe: ['fleet/status'] } });
      expect(narrower.status).toBe(201);

      const { creds, client } = await login('alice@example.com');
      // The group's filters, not the default users/{user_id}/#.
      expect(await subscribeCodes(client, 'fleet/status')).toEqual([0]);
      expect((await subscribeCodes(client, 'users/alice@example.com/x'))[0]).toBeGreaterThanOrEqual(0x80);

      const closed = serverClosed(client);
      const deactivated = await scimCall('PATCH', `/Users/${aliceId}`, scimBody('okta', 'deactivate-user'));
      expect(deactivated.status).toBe(200);
      expect(deactivated.body.active).toBe(false);
      await within(closed, 5000, 'the session closing after the SCIM deactivation');
      expect(await credentialsRefusal(brokerUrl(endpoints, 'tcp'), creds, 5)).toBeDefined();
      const refused = await api.call('POST', '/v1/tokens', { user_id: 'alice@example.com' });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('directory_user_disabled');

      const reactivated = await scimCall('PATCH', `/Users/${aliceId}`, scimBody('okta', 'reactivate-user'));
      expect(reactivated.body.active).toBe(true);
      const again = await login('alice@example.com');
      expect(await subscribeCodes(again.client, 'fleet/status')).toEqual([0]);
    });

    it('closes the session of a member removed from the granting group (Okta and Entra shapes)', async () => {
      for (const idp of ['okta', 'entra'] as const) {
        await scimCall('PATCH', `/Groups/${groupId}`, scimBody(idp, 'add-member', { userId: aliceId }));
        const { client } = await login('alice@example.com');
        const closed = serverClosed(client);
        const removed = await scimCall('PATCH', `/Groups/${groupId}`, scimBody(idp, 'remove-member', { userId: aliceId }));
        expect(removed.status).toBe(200);
        expect(removed.body.members).toEqual([]);
        await within(closed, 5000, `the session closing after the ${idp} member removal`);
        expect((await api.call('POST', '/v1/tokens', { user_id: 'alice@example.com' })).body.code).toBe('directory_user_without_access');
      }
      // Entra finds a group by name before writing it, asking to leave the members out (ignored: they are returned).
      const name = (await scimCall('GET', `/Groups/${groupId}`)).body.displayName as string;
      const lookup = await scimCall('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${name}"`)}&excludedAttributes=members`);
      expect(lookup.status).toBe(200);
      expect(lookup.body).toMatchObject({ totalResults: 1, Resources: [expect.objectContaining({ id: groupId, members: [] })] });
    });

    it('closes the session of a user deleted over SCIM', async () => {
      await scimCall('PATCH', `/Groups/${groupId}`, scimBody('okta', 'add-member', { userId: aliceId }));
      const renamed = await scimCall('PATCH', `/Groups/${groupId}`, scimBody('okta', 'rename-group', { groupId }));
      expect(renamed.body).toMatchObject({ displayName: 'Field engineers EU', members: [expect.objectContaining({ value: aliceId })] });
      const { client } = await login('alice@example.com');
      const closed = serverClosed(client);
      expect((await scimCall('DELETE', `/Users/${aliceId}`)).status).toBe(204);
      await within(closed, 5000, 'the session closing after the SCIM delete');
      expect((await api.call('POST', '/v1/tokens', { user_id: 'alice@example.com' })).body.code).toBe('directory_user_unknown');
    });
  });
});
