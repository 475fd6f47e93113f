/**
 * LDAP directory sync against a real OpenLDAP slapd (Debian's package) and the
 * all-in-one over PostgreSQL and Redis: a full sync with paged searches (the
 * server caps every search at 10 entries), entryUUID as external id, group
 * permissions, a user disabled in LDAP has their live MQTT session closed after
 * the sync, and a suspicious or failing sync changes nothing.
 */
import { Attribute, Change, Client, SizeLimitExceededError } from 'ldapts';
import type { MqttClient } from 'mqtt';

import { Slapd, SLAPD_SIZE_LIMIT, SLAPD_SUFFIX, SLAPD_SYNC } from '../../libs/directory/src/testing/slapd';
import { TokenApi } from '../support/api';
import { LdapBench, slapdConnection, startLdapBench, syncLdap, within } from '../support/directory';
import { brokerUrl, connect, serverClosed, subscribeCodes } from '../support/mqtt';
import { reach } from '../support/signet';

const PEOPLE = `ou=people,${SLAPD_SUFFIX}`;
const USERS = 25;
const dnOf = (uid: string) => `uid=${uid},${PEOPLE}`;


describe('directory sync (LDAP, OpenLDAP slapd) on postgres+redis', () => {
  let bench: LdapBench;
  let slapd: Slapd;
  let admin: Client;
  let api: TokenApi;
  let scim: TokenApi;
  const clients: MqttClient[] = [];

  const endpoints = () => bench.endpoints;
  const connection = (extra: Record<string, unknown> = {}) => slapdConnection(slapd, extra);
  const sync = (kind: 'full' | 'incremental' = 'full') => syncLdap(api, kind);
  const setEmployeeType = (uid: string, value: string) =>
    admin.modify(dnOf(uid), new Change({ operation: 'replace', modification: new Attribute({ type: 'employeeType', values: [value] }) }));
  const scimUser = async (userName: string) =>
    ((await scim.call('GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).body.Resources as Array<Record<string, unknown>>)[0];

  beforeAll(async () => {
    bench = await startLdapBench('directory_ldap', async (seeding) => {
      for (const uid of ['alice', ...Array.from({ length: USERS - 1 }, (_, i) => `user${i}`)]) {
        await seeding.add(dnOf(uid), { objectClass: ['inetOrgPerson'], uid, cn: uid, sn: uid, mail: `${uid}@example.org`, employeeType: 'staff' });
      }
      // A value that needs RFC 4514 escaping in the DN, and member values in another case and spacing.
      await seeding.add(`cn=mqtt\\, users,ou=groups,${SLAPD_SUFFIX}`, {
        objectClass: ['groupOfNames'],
        cn: 'mqtt, users',
        member: ['UID=alice, ou=people,dc=example,dc=org', dnOf('user0')],
      });
    });
    ({ slapd, admin, api } = bench);
    const token = (await api.call('POST', '/v1/directory/scim-token')).body.token as string;
    scim = reach(bench.signet).anonymous.withKey(token);
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.end(true);
  });

  afterAll(() => bench?.close());

  it('refuses an empty bind password before any server is asked', async () => {
    const empty = await api.call('PUT', '/v1/directory/ldap', connection({ bind_password: '' }));
    expect(empty.status).toBe(400);
    expect(empty.body.code).toBe('ldap_empty_password');
    expect((await api.call('POST', '/v1/directory/ldap/sync')).body.code).toBe('ldap_not_configured');
    expect((await api.call('GET', '/v1/directory/ldap/status')).body.code).toBe('ldap_not_configured');
  });

  it('syncs every user with paged searches, and closes the session of a user disabled in LDAP', async () => {
    const saved = await api.call('PUT', '/v1/directory/ldap', connection());
    expect(saved.status).toBe(200);
    expect(saved.body).not.toHaveProperty('bind_password');
    expect(JSON.stringify(saved.body)).not.toContain(SLAPD_SYNC.password);

    const first = await sync();
    expect(first).toMatchObject({ kind: 'full', status: 'ok', counts: { users: USERS, groups: 1, created: USERS, updated: 0, disabled: 0, deleted: 0 } });
    // Without paging, the same search as the same account is refused by the server's size limit.
    const unpaged = new Client({ url: slapd.url });
    await unpaged.bind(SLAPD_SYNC.dn, SLAPD_SYNC.password);
    await expect(unpaged.search(SLAPD_SUFFIX, { filter: '(objectClass=inetOrgPerson)' })).rejects.toBeInstanceOf(SizeLimitExceededError);
    await unpaged.unbind();
    expect(USERS).toBeGreaterThan(SLAPD_SIZE_LIMIT);
    const alice = await scimUser('alice');
    expect(alice).toMatchObject({ userName: 'alice', active: true, emails: [{ value: 'alice@example.org' }] });
    expect(alice.externalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(alice.groups).toEqual([expect.objectContaining({ display: 'mqtt, users' })]);

    const groupId = (alice.groups as Array<{ value: string }>)[0].value;
    await api.call('PUT', `/v1/directory/groups/${groupId}/permissions`, { publish: ['devices/{user_id}/#'], subscribe: ['fleet/#'] });
    expect((await api.call('POST', '/v1/tokens', { user_id: 'user5' })).body.code).toBe('directory_user_without_access');

    const creds = await api.issue({ user_id: 'alice' });
    const client = await connect(brokerUrl(endpoints(), 'tcp'), { ...creds.mqtt_credentials, protocolVersion: 5 });
    clients.push(client);
    expect(await subscribeCodes(client, 'fleet/eu')).toEqual([0]);
    const closed = serverClosed(client);

    await setEmployeeType('alice', 'disabled');
    expect(await sync()).toMatchObject({ status: 'ok', counts: { disabled: 1 } });
    await within(closed, 5000, 'the session closing after the LDAP sync');
    expect((await api.call('POST', '/v1/tokens', { user_id: 'alice' })).body.code).toBe('directory_user_disabled');

    await setEmployeeType('alice', 'staff');
    expect((await sync()).status).toBe('ok');
    expect((await api.call('POST', '/v1/tokens', { user_id: 'alice' })).status).toBe(201);
  });

  it('changes nothing when a sync would disable more than the allowed share, or when it fails', async () => {
    const many = Array.from({ length: 8 }, (_, i) => `user${i}`);
    for (const uid of many) await setEmployeeType(uid, 'disabled');
    const refused = await sync();
    expect(refused.status).toBe('refused');
    expect(refused.reason).toContain(`8 of ${USERS} active users`);
    expect((await scimUser('user0')).active).toBe(true);
    expect((await api.call('POST', '/v1/tokens', { user_id: 'user0' })).status).toBe(201);
    for (const uid of many) await setEmployeeType(uid, 'staff');

    // Deleting one user is within the share: it is found by the full sync.
    await admin.del(dnOf('user20'));
    expect(await sync()).toMatchObject({ status: 'ok', counts: { deleted: 1, users: USERS - 1 } });
    expect(await scimUser('user20')).toBeUndefined();

    await api.call('PUT', '/v1/directory/ldap', connection({ bind_password: 'wrong' }));
    await admin.del(dnOf('user21'));
    const failed = await sync();
    expect(failed.status).toBe('failed');
    expect(failed.reason).toMatch(/InvalidCredentials/);
    expect(failed.reason).not.toContain('wrong');
    expect(await scimUser('user21')).toBeDefined();
    const status = await api.call('PUT', '/v1/directory/ldap', connection());
    expect(status.body.last_sync).toMatchObject({ status: 'failed' });
  });

  it('an incremental sync applies only what changed (modifyTimestamp), closing a disabled user\'s session; deletions wait for a full sync', async () => {
    // The connection was just saved again: there is nothing to continue from.
    expect(await sync('incremental')).toMatchObject({ kind: 'full', status: 'ok', full_because: 'no earlier sync to continue from' });
    const status = await api.call('GET', '/v1/directory/ldap/status');
    expect(status.body).toMatchObject({ running: false, progress: null, last_sync: { kind: 'full', status: 'ok' } });
    expect(Date.parse(status.body.last_full_sync_at as string)).toBeGreaterThan(Date.now() - 60_000);
    const total = (await sync()).counts!.users;

    const creds = await api.issue({ user_id: 'user0' });
    const client = await connect(brokerUrl(endpoints(), 'tcp'), { ...creds.mqtt_credentials, protocolVersion: 5 });
    clients.push(client);
    const closed = serverClosed(client);
    await admin.modify(dnOf('user3'), new Change({ operation: 'replace', modification: new Attribute({ type: 'mail', values: ['user3.new@example.org'] }) }));
    await setEmployeeType('user0', 'disabled');
    await admin.del(dnOf('user22'));

    const incremental = await sync('incremental');
    expect(incremental).toMatchObject({ kind: 'incremental', status: 'ok', counts: { groups: 0, created: 0, updated: 2, disabled: 1, deleted: 0 } });
    // Only the changed entries (and any others stamped in the same second as the last one seen) are read.
    expect(incremental.counts!.users).toBeGreaterThanOrEqual(2);
    expect(incremental.counts!.users).toBeLessThan(total);
    await within(closed, 5000, 'the session closing after the incremental sync');
    expect((await api.call('POST', '/v1/tokens', { user_id: 'user0' })).body.code).toBe('directory_user_disabled');
    expect((await scimUser('user3')).emails).toEqual([expect.objectContaining({ value: 'user3.new@example.org' })]);
    expect(await scimUser('user22')).toBeDefined();

    // Nothing changed since: an incremental sync updates nothing.
    expect(await sync('incremental')).toMatchObject({ kind: 'incremental', counts: { updated: 0, disabled: 0 } });
    // A group change needs every group's members: the incremental sync runs a full one.
    await admin.modify(`cn=mqtt\\, users,ou=groups,${SLAPD_SUFFIX}`, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dnOf('user9')] }) }));
    const regrouped = await sync('incremental');
    expect(regrouped).toMatchObject({ kind: 'full', status: 'ok', full_because: 'a group changed', counts: { deleted: 1 } });
    expect(await scimUser('user22')).toBeUndefined();
    expect((await scimUser('user9')).groups).toEqual([expect.objectContaining({ display: 'mqtt, users' })]);
    await setEmployeeType('user0', 'staff');
  });
});

describe('scheduled LDAP sync (SIGNET_LDAP_SYNC_INTERVAL_MS)', () => {
  let bench: LdapBench;

  beforeAll(async () => {
    bench = await startLdapBench(
      'directory_ldap_schedule',
      async (admin) => {
        await admin.add(dnOf('dora'), { objectClass: ['inetOrgPerson'], uid: 'dora', cn: 'dora', sn: 'dora', employeeType: 'staff' });
        await admin.add(`cn=ops,ou=groups,${SLAPD_SUFFIX}`, { objectClass: ['groupOfNames'], cn: 'ops', member: [dnOf('dora')] });
      },
      { SIGNET_LDAP_SYNC_INTERVAL_MS: '300' },
    );
  });

  afterAll(() => bench?.close());

  it('closes the session of a user disabled in LDAP within the sync interval, without an on-demand sync', async () => {
    const { api, slapd, admin } = bench;
    // One user: disabling them is all of the directory.
    expect((await api.call('PUT', '/v1/directory/ldap', slapdConnection(slapd, { max_disable_share: 1 }))).status).toBe(200);
    let groupId: string | undefined;
    for (let i = 0; i < 50 && !groupId; i++) {
      const listed = await api.call('GET', '/v1/directory/groups');
      groupId = (listed.body.groups as Array<{ id: string; display_name: string }>).find((g) => g.display_name === 'ops')?.id;
      if (!groupId) await new Promise((r) => setTimeout(r, 100));
    }
    expect(groupId).toBeDefined();
    await api.call('PUT', `/v1/directory/groups/${groupId}/permissions`, { publish: [], subscribe: ['ops/#'] });
    const creds = await api.issue({ user_id: 'dora' });
    const client = await connect(brokerUrl(bench.endpoints, 'tcp'), { ...creds.mqtt_credentials, protocolVersion: 5 });
    const closed = serverClosed(client);
    await admin.modify(dnOf('dora'), new Change({ operation: 'replace', modification: new Attribute({ type: 'employeeType', values: ['disabled'] }) }));
    await within(closed, 5000, 'the session closing after the scheduled sync');
    client.end(true);
    expect((await api.call('POST', '/v1/tokens', { user_id: 'dora' })).body.code).toBe('directory_user_disabled');
    // The first pass was full; with the last full sync recent, the passes since are incremental.
    // Sessions close before the pass records its result: wait for a moment between passes.
    let status = await api.call('GET', '/v1/directory/ldap/status');
    for (let i = 0; i < 50 && status.body.running; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = await api.call('GET', '/v1/directory/ldap/status');
    }
    expect(status.body).toMatchObject({ running: false, last_sync: { kind: 'incremental', status: 'ok' } });
    expect(status.body.last_full_sync_at).not.toBeNull();
  });
});
