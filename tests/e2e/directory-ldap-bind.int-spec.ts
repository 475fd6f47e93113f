/**
 * The `ldap` step of the edge's authenticator chain, in the all-in-one over
 * PostgreSQL and Redis, against a real OpenLDAP slapd, with real MQTT clients:
 * a username and password checked by a bind as the user, permissions from the
 * user's synced groups, unknown/deactivated/group-less users refused, the
 * verdict cached (no bind per CONNECT), and a user disabled in LDAP cut off
 * by the next sync.
 */
import type { MqttClient } from 'mqtt';

import { connectPeople, LdapBench, replacePersonAttribute, seedPeople, startLdapBench, syncLdap } from '../support/directory';
import { brokerUrl, connect, refusalCode, serverClosed, subscribeCodes } from '../support/mqtt';

/** MQTT 5 CONNACK "bad user name or password" [MQTT-3.2.2.2], and 3.1.1's return code 4. */
const BAD_CREDENTIALS_V5 = 0x86;
const BAD_CREDENTIALS_V311 = 4;

describe('the ldap step of the authenticator chain (slapd)', () => {
  let bench: LdapBench;
  const clients: MqttClient[] = [];

  const url = () => brokerUrl(bench.endpoints, 'tcp');
  const as = (uid: string, password: string, protocolVersion: 4 | 5 = 5) => ({ username: `${uid}@${bench.orgId}`, password, protocolVersion, reconnectPeriod: 0 });
  const connectAs = async (uid: string, password: string) => {
    const client = await connect(url(), as(uid, password));
    clients.push(client);
    return client;
  };
  const replace = (uid: string, type: string, value: string) => replacePersonAttribute(bench.admin, uid, type, value);

  beforeAll(async () => {
    bench = await startLdapBench('directory_ldap_bind', seedPeople);
    const { api } = bench;
    await connectPeople(api, bench.slapd);
    expect((await api.call('PUT', '/v1/authenticator-chain', { steps: ['token', 'api_key', 'ldap'] })).status).toBe(200);
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.end(true);
  });

  afterAll(() => bench?.close());

  it("lets a directory user in with their LDAP password and their groups' permissions", async () => {
    const client = await connectAs('alice', 'alice-pw');
    expect(await subscribeCodes(client, 'ops/alerts')).toEqual([0]);
    expect(await subscribeCodes(client, 'finance/#')).toEqual([0x87]);
    // 3.1.1 clients too.
    const old = await connect(url(), as('dan', 'dan-pw', 4));
    clients.push(old);
    expect(old.connected).toBe(true);
  });

  it('refuses a wrong password, an unknown, a deactivated and a group-less user, and an empty password', async () => {
    expect(await refusalCode(url(), as('alice', 'wrong'))).toBe(BAD_CREDENTIALS_V5);
    expect(await refusalCode(url(), as('alice', 'wrong', 4))).toBe(BAD_CREDENTIALS_V311);
    expect(await refusalCode(url(), as('mallory', 'mallory-pw'))).toBe(BAD_CREDENTIALS_V5);
    expect(await refusalCode(url(), as('carol', 'carol-pw'))).toBe(BAD_CREDENTIALS_V5);
    expect(await refusalCode(url(), as('bob', 'bob-pw'))).toBe(BAD_CREDENTIALS_V5);
    // An LDAP filter in the user name finds nobody: it is escaped (RFC 4515).
    expect(await refusalCode(url(), as('*', 'alice-pw'))).toBe(BAD_CREDENTIALS_V5);
    // Where anonymous binds are allowed, an empty password would pass a naive bind.
    expect(await refusalCode(url(), as('alice', ''))).toBe(BAD_CREDENTIALS_V5);
    expect(await refusalCode(url(), { ...as('alice', ''), password: undefined })).toBe(BAD_CREDENTIALS_V5);
  });

  it('trusts a good bind for a while instead of asking the directory on every CONNECT', async () => {
    (await connectAs('dan', 'dan-pw')).end(true);
    // The directory now has another password: the cached verdict for the former one still answers.
    await replace('dan', 'userPassword', 'dan-new-pw');
    const cached = await connectAs('dan', 'dan-pw');
    expect(cached.connected).toBe(true);
    // A credential not seen before is checked by a bind.
    expect((await connectAs('dan', 'dan-new-pw')).connected).toBe(true);
  });

  it('closes the LDAP session of a user disabled in the directory at the next sync, and refuses them from then on', async () => {
    const client = await connectAs('alice', 'alice-pw');
    const closed = serverClosed(client);
    await replace('alice', 'employeeType', 'disabled');
    expect(await syncLdap(bench.api)).toMatchObject({ status: 'ok' });
    await closed;
    expect(await refusalCode(url(), as('alice', 'alice-pw'))).toBe(BAD_CREDENTIALS_V5);
  });
});
