/**
 * Active Directory sync against a real Samba AD domain controller (Debian's
 * `samba`, provisioned once for this file, in a network namespace of its own)
 * and the all-in-one over PostgreSQL and Redis: objectGUID as the external id,
 * userAccountControl's disabled bit, member-based and nested groups, and the
 * incremental sync by uSNChanged of the same domain controller (a disabled
 * user's live MQTT session closed), a full one when its invocationId differs,
 * LDAPS / StartTLS with the DC's CA (made with openssl) pinned, and the edge's
 * `ldap` chain step binding a real MQTT client's AD password, and a sync of
 * more users than the DC returns to one search (MaxPageSize), by paged searches.
 */
import { AddressInfo, connect as netConnect, createServer } from 'node:net';

import { Attribute, Change, Client, PagedResultsControl } from 'ldapts';
import type { MqttClient } from 'mqtt';
import { Client as PgClient } from 'pg';

import type { SignetProcess } from '@signet/runtime';

import { SAMBA_ADMIN, SAMBA_BASE_DN, SambaAd, startSambaAd, UAC_DISABLED, UAC_ENABLED } from '../../libs/directory/src/testing/samba';
import { makeTestPki } from '../../libs/mqtt/edge/src/testing/certs';
import { TokenApi } from '../support/api';
import { LDAP_PAGE_SIZE } from '../../libs/directory/src/ldap/ldap-reader';
import { syncLdap, within } from '../support/directory';
import { brokerUrl, connect, Endpoints, refusalCode, serverClosed, subscribeCodes } from '../support/mqtt';
import { Backend, reach, realBackend, startSignet } from '../support/signet';

const USERS = `CN=Users,${SAMBA_BASE_DN}`;
const userDn = (cn: string) => `CN=${cn},${USERS}`;
const groupDn = (cn: string) => `CN=${cn},${USERS}`;
/** The paged-results control (RFC 2696), as its OID appears in each request for a page. */
const PAGED_RESULTS_OID = PagedResultsControl.type;

describe('directory sync (Active Directory, Samba AD DC) on postgres+redis', () => {
  let dc: SambaAd;
  let admin: Client;
  let backend: Backend;
  let signet: SignetProcess;
  let api: TokenApi;
  let scim: TokenApi;
  let endpoints: Endpoints;
  const clients: MqttClient[] = [];

  const sync = (kind: 'full' | 'incremental' = 'full') => syncLdap(api, kind);
  const scimUser = async (userName: string) =>
    ((await scim.call('GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).body.Resources as Array<Record<string, unknown>>)[0];
  const replace = (dn: string, type: string, value: string) => admin.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type, values: [value] }) }));
  /** PUT /v1/directory/ldap as the domain Administrator (a test DC has no other account). */
  const put = (extra: Record<string, unknown>) =>
    api.call('PUT', '/v1/directory/ldap', {
      flavor: 'active_directory',
      bind_dn: SAMBA_ADMIN.dn,
      bind_password: SAMBA_ADMIN.password,
      base_dn: SAMBA_BASE_DN,
      // People, not the DC's built-in accounts (Administrator, Guest, krbtgt).
      user_filter: '(&(objectCategory=person)(objectClass=user)(!(isCriticalSystemObject=TRUE)))',
      group_filter: '(&(objectClass=group)(!(isCriticalSystemObject=TRUE)))',
      max_disable_share: 0.5,
      ...extra,
    });
  const addUser = (name: string, uac = UAC_ENABLED) =>
    admin.add(userDn(name), { objectClass: ['top', 'person', 'organizationalPerson', 'user'], sAMAccountName: name, displayName: `${name} (AD)`, mail: `${name}@signet.test`, userAccountControl: uac });

  beforeAll(async () => {
    dc = await startSambaAd();
    admin = await dc.admin();
    for (const name of ['alice', 'bob', 'dave', 'erin']) await addUser(name);
    await addUser('carol', UAC_DISABLED);
    // Nested: bob is in Field Techs, which is a member of MQTT Operators.
    await admin.add(groupDn('Field Techs'), { objectClass: ['top', 'group'], sAMAccountName: 'field-techs', member: [userDn('bob')] });
    await admin.add(groupDn('MQTT Operators'), { objectClass: ['top', 'group'], sAMAccountName: 'mqtt-operators', member: [userDn('alice'), userDn('dave'), groupDn('Field Techs')] });
    backend = await realBackend('directory_ad');
    signet = await startSignet(backend, { SIGNET_LDAP_ALLOW_PLAIN: 'true' });
    ({ endpoints } = reach(signet));
    api = reach(signet).anonymous.withKey(signet.service!.bootstrap!.apiKey);
    scim = reach(signet).anonymous.withKey((await api.call('POST', '/v1/directory/scim-token')).body.token as string);
  }, 180_000);

  afterEach(() => {
    for (const c of clients.splice(0)) c.end(true);
  });

  afterAll(async () => {
    await admin?.unbind().catch(() => undefined);
    await signet?.close();
    await backend?.cleanup();
    await dc?.stop();
  });

  it('syncs AD users by objectGUID, disabled by userAccountControl, with nested group permissions', async () => {
    const saved = await put({ url: dc.url });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ flavor: 'active_directory', user_name_attribute: 'sAMAccountName' });

    expect(await sync()).toMatchObject({ kind: 'full', status: 'ok', counts: { users: 5, created: 5, disabled: 0 } });
    const alice = await scimUser('alice');
    // objectGUID as samba-tool prints it: the canonical string of the binary attribute.
    const shown = await dc.tool('user', 'show', 'alice', '--attributes=objectGUID');
    expect(shown).toContain(`objectGUID: ${alice.externalId as string}`);
    expect(alice).toMatchObject({ active: true, displayName: 'alice (AD)', emails: [expect.objectContaining({ value: 'alice@signet.test' })] });
    expect((await scimUser('carol')).active).toBe(false);
    const bob = await scimUser('bob');
    expect((bob.groups as Array<{ display: string }>).map((g) => g.display).sort()).toEqual(['Field Techs', 'MQTT Operators']);

    const operators = (alice.groups as Array<{ value: string; display: string }>).find((g) => g.display === 'MQTT Operators')!;
    expect((await api.call('PUT', `/v1/directory/groups/${operators.value}/permissions`, { publish: ['plant/{user_id}/#'], subscribe: ['plant/#'] })).status).toBe(200);
    // bob gets MQTT Operators' permissions through Field Techs.
    const creds = await api.issue({ user_id: 'bob' });
    const client = await connect(brokerUrl(endpoints, 'tcp'), { ...creds.mqtt_credentials, protocolVersion: 5 });
    clients.push(client);
    expect(await subscribeCodes(client, 'plant/eu')).toEqual([0]);
    expect((await api.call('POST', '/v1/tokens', { user_id: 'carol' })).body.code).toBe('directory_user_disabled');
    expect((await api.call('POST', '/v1/tokens', { user_id: 'erin' })).body.code).toBe('directory_user_without_access');
  });

  it('an incremental sync (uSNChanged) applies only the changed users and closes a disabled user\'s session', async () => {
    const creds = await api.issue({ user_id: 'alice' });
    const client = await connect(brokerUrl(endpoints, 'tcp'), { ...creds.mqtt_credentials, protocolVersion: 5 });
    clients.push(client);
    const closed = serverClosed(client);
    await replace(userDn('alice'), 'userAccountControl', UAC_DISABLED);
    await replace(userDn('dave'), 'displayName', 'Dave Renamed');

    const incremental = await sync('incremental');
    expect(incremental).toMatchObject({ kind: 'incremental', status: 'ok', counts: { users: 2, groups: 0, updated: 2, disabled: 1, created: 0, deleted: 0 } });
    await within(closed, 5000, 'the session closing after the incremental sync');
    expect((await api.call('POST', '/v1/tokens', { user_id: 'alice' })).body.code).toBe('directory_user_disabled');
    expect((await scimUser('dave')).displayName).toBe('Dave Renamed');
    expect((await api.call('GET', '/v1/directory/ldap/status')).body).toMatchObject({ running: false, last_sync: { kind: 'incremental', status: 'ok' } });

    // Nothing changed since: nothing is read.
    expect(await sync('incremental')).toMatchObject({ kind: 'incremental', counts: { users: 0, updated: 0 } });
    // A membership change is on the group: a full sync recomputes memberships.
    await admin.modify(groupDn('MQTT Operators'), new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [userDn('erin')] }) }));
    expect(await sync('incremental')).toMatchObject({ kind: 'full', status: 'ok', full_because: 'a group changed' });
    expect((await api.call('POST', '/v1/tokens', { user_id: 'erin' })).status).toBe(201);

    await replace(userDn('alice'), 'userAccountControl', UAC_ENABLED);
    expect(await sync('incremental')).toMatchObject({ kind: 'incremental', counts: { users: 1, updated: 1 } });
    expect((await api.call('POST', '/v1/tokens', { user_id: 'alice' })).status).toBe(201);
  });

  it('runs a full sync when the cursor is from another domain controller (invocationId)', async () => {
    // As if the last sync had talked to another DC (or this one before a restore): its USNs mean nothing here.
    const pg = new PgClient({ connectionString: backend.env.DATABASE_URL });
    await pg.connect();
    try {
      await pg.query(`UPDATE directory_ldap_connections SET sync_cursor = jsonb_set(sync_cursor, '{invocationId}', '"00000000-0000-0000-0000-000000000000"')`);
    } finally {
      await pg.end();
    }
    expect(await sync('incremental')).toMatchObject({ kind: 'full', status: 'ok', full_because: 'the domain controller changed (invocationId)', counts: { users: 5 } });
    expect(await sync('incremental')).toMatchObject({ kind: 'incremental', counts: { users: 0 } });
  });

  it('syncs over LDAPS and StartTLS with the CA pinned, and refuses the DC under another CA', async () => {
    for (const extra of [{ url: dc.ldapsUrl, tls_ca: dc.caPem }, { url: dc.url, starttls: true, tls_ca: dc.caPem }]) {
      expect((await put(extra)).status).toBe(200);
      expect(await sync()).toMatchObject({ kind: 'full', status: 'ok', counts: { users: 5 } });
    }
    const other = makeTestPki();
    try {
      expect((await put({ url: dc.ldapsUrl, tls_ca: other.ca.toString('utf8') })).status).toBe(200);
      const refused = await sync();
      expect(refused.status).toBe('failed');
      expect(refused.reason).toMatch(/certificate/i);
    } finally {
      other.cleanup();
    }
  });
  it("lets an AD user connect over MQTT with their AD password (the ldap chain step), not a disabled one", async () => {
    // AD takes a password only over an encrypted connection: unicodePwd, the quoted password in UTF-16LE.
    const secure = new Client({ url: dc.ldapsUrl, tlsOptions: { ca: [dc.caPem] } });
    await secure.bind(SAMBA_ADMIN.dn, SAMBA_ADMIN.password);
    try {
      for (const name of ['dave', 'carol']) {
        const unicodePwd = Buffer.from(`"${name}-Passw0rd!"`, 'utf16le');
        await secure.modify(userDn(name), new Change({ operation: 'replace', modification: new Attribute({ type: 'unicodePwd', values: [unicodePwd] }) }));
      }
    } finally {
      await secure.unbind();
    }
    expect((await put({ url: dc.ldapsUrl, tls_ca: dc.caPem })).status).toBe(200);
    expect(await sync()).toMatchObject({ status: 'ok' });
    expect((await api.call('PUT', '/v1/authenticator-chain', { steps: ['token', 'ldap'] })).status).toBe(200);
    const orgId = signet.service!.bootstrap!.orgId;
    const as = (name: string, password: string) => ({ username: `${name}@${orgId}`, password, protocolVersion: 5 as const, reconnectPeriod: 0 });

    // dave is in MQTT Operators (alice, disabled and re-enabled above, is in the deny list's grace for a minute).
    const client = await connect(brokerUrl(endpoints, 'tcp'), as('dave', 'dave-Passw0rd!'));
    clients.push(client);
    expect(await subscribeCodes(client, 'plant/eu')).toEqual([0]);
    expect(await refusalCode(brokerUrl(endpoints, 'tcp'), as('dave', 'wrong-Passw0rd!'))).toBe(0x86);
    // carol is disabled (userAccountControl): refused before the DC is asked.
    expect(await refusalCode(brokerUrl(endpoints, 'tcp'), as('carol', 'carol-Passw0rd!'))).toBe(0x86);
  });

  it('syncs more users than one search of the DC may return (MaxPageSize 1,000) by reading them in pages', async () => {
    const bulk = Array.from({ length: 1050 }, (_, i) => `bulk-${String(i).padStart(4, '0')}`);
    // One connection, many adds in flight: a samba-tool process per user would take a minute.
    for (let i = 0; i < bulk.length; i += 50) await Promise.all(bulk.slice(i, i + 50).map((name) => addUser(name)));

    // Samba answers an unpaged search in full where Windows stops at MaxPageSize: what Signet asks is counted on the
    // wire instead, through a relay that sees the plain LDAP requests (each page is a search carrying the control).
    const sent: Buffer[] = [];
    const relay = createServer((inbound) => {
      const outbound = netConnect(389, dc.address);
      inbound.on('data', (chunk: Buffer) => sent.push(chunk));
      inbound.pipe(outbound).pipe(inbound);
      const end = () => (inbound.destroy(), outbound.destroy());
      inbound.on('error', end).on('close', end);
      outbound.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      expect((await put({ url: `ldap://127.0.0.1:${(relay.address() as AddressInfo).port}` })).status).toBe(200);
      expect(await sync()).toMatchObject({ kind: 'full', status: 'ok', counts: { users: 5 + bulk.length, created: bulk.length, disabled: 0, deleted: 0 } });
    } finally {
      await new Promise((resolve) => relay.close(resolve));
    }
    const pagedSearches = Buffer.concat(sent).toString('latin1').split(PAGED_RESULTS_OID).length - 1;
    // The users alone take ceil(1,055 / page size) pages; then the groups.
    expect(pagedSearches).toBeGreaterThanOrEqual(Math.ceil((5 + bulk.length) / LDAP_PAGE_SIZE) + 1);
    expect((await scimUser('bulk-1049')).active).toBe(true);
  }, 120_000);
});
