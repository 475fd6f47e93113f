/**
 * The `ldap` chain step on a standalone edge: token-service, auth-webhooks
 * (the org's chain), directory-sync and mqtt-edge as separate built processes
 * over PostgreSQL and Redis, a real OpenLDAP slapd, real MQTT clients. The
 * edge asks directory-sync over gRPC (SIGNET_DIRECTORY_GRPC), which binds as
 * the user; the edge caches the verdict, so a known credential is let in even
 * while directory-sync is down, and a new one gets "server unavailable".
 */
import { randomBytes } from 'node:crypto';

import type { MqttClient } from 'mqtt';

import { createTestDatabase, redisUrl, TestDatabase, uniquePrefix } from '@signet/testing';

import { startSlapd, type Slapd } from '../../libs/directory/src/testing/slapd';
import { TokenApi } from '../support/api';
import { connectPeople, replacePersonAttribute, seedPeople, syncLdap, within } from '../support/directory';
import { brokerUrl, connect, refusalCode, serverClosed, subscribeCodes } from '../support/mqtt';
import { testEnv } from '../support/signet';
import { SpawnedApp, startSplitEdge } from '../support/spawn';

jest.setTimeout(90_000);

/** MQTT 5 CONNACK reason codes [MQTT-3.2.2.2]. */
const BAD_CREDENTIALS = 0x86;
const SERVER_UNAVAILABLE = 0x88;

describe('the ldap chain step on a standalone edge (directory-sync over gRPC)', () => {
  let slapd: Slapd;
  let db: TestDatabase;
  let tokens: SpawnedApp;
  let webhooks: SpawnedApp;
  let directory: SpawnedApp;
  let edge: SpawnedApp;
  let directoryApi: TokenApi;
  let orgId: string;
  const clients: MqttClient[] = [];

  const url = () => brokerUrl({ mqttPort: edge.port('MQTT'), wsPort: edge.port('WebSocket') }, 'tcp');
  const as = (uid: string, password: string) => ({ username: `${uid}@${orgId}`, password, protocolVersion: 5 as const, reconnectPeriod: 0 });
  const connectAs = async (uid: string, password: string) => {
    const client = await connect(url(), as(uid, password));
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    slapd = await startSlapd();
    const admin = await slapd.admin();
    try {
      await seedPeople(admin);
    } finally {
      await admin.unbind();
    }
    db = await createTestDatabase('signet_directory_ldap_grpc');
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl(),
      SIGNET_REDIS_PREFIX: uniquePrefix('directory-ldap-grpc'),
      SIGNET_MASTER_KEY: randomBytes(32).toString('base64'),
      SIGNET_LOG_LEVEL: 'warn',
      SIGNET_LDAP_ALLOW_PLAIN: 'true',
      SIGNET_LDAP_SYNC_INTERVAL_MS: '0',
    };
    // One after the other: the first migrates and bootstraps.
    tokens = await SpawnedApp.start('token-service', testEnv(env)).ready();
    webhooks = await SpawnedApp.start('auth-webhooks', testEnv(env)).ready();
    directory = await SpawnedApp.start('directory-sync', testEnv(env)).ready();
    const key = /^(sk_\S+)$/m.exec(tokens.stdout)?.[1] ?? '';
    orgId = /Bootstrap API key for (org_[0-9a-z]{12})/.exec(tokens.stdout)?.[1] ?? '';
    directoryApi = new TokenApi(`http://127.0.0.1:${directory.port('HTTP API')}`, key);
    await connectPeople(directoryApi, slapd);
    const chainApi = new TokenApi(`http://127.0.0.1:${webhooks.port('HTTP API')}`, key);
    expect((await chainApi.call('PUT', '/v1/authenticator-chain', { steps: ['token', 'ldap'] })).status).toBe(200);
    edge = await startSplitEdge(env, { tokens, webhooks, directory });
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.end(true);
  });

  afterAll(async () => {
    await edge?.stop();
    await directory?.stop();
    await webhooks?.stop();
    await tokens?.stop();
    await db?.drop();
    await slapd?.stop();
  });

  it("lets a directory user in with their LDAP password and their groups' permissions; refuses the rest", async () => {
    const client = await connectAs('alice', 'alice-pw');
    expect(await subscribeCodes(client, 'ops/alerts')).toEqual([0]);
    expect(await subscribeCodes(client, 'finance/#')).toEqual([0x87]);
    expect(await refusalCode(url(), as('alice', 'wrong'))).toBe(BAD_CREDENTIALS);
    // Disabled in the directory, in no group, unknown.
    for (const uid of ['carol', 'bob', 'mallory']) expect(await refusalCode(url(), as(uid, `${uid}-pw`))).toBe(BAD_CREDENTIALS);
  });

  it('closes the session of a user disabled in the directory at the next sync on directory-sync', async () => {
    const client = await connectAs('alice', 'alice-pw');
    const closed = serverClosed(client);
    const admin = await slapd.admin();
    try {
      await replacePersonAttribute(admin, 'alice', 'employeeType', 'disabled');
    } finally {
      await admin.unbind();
    }
    expect(await syncLdap(directoryApi)).toMatchObject({ status: 'ok', counts: { disabled: 1 } });
    await within(closed, 5000, "alice's session closing after the sync");
    expect(await refusalCode(url(), as('alice', 'alice-pw'))).toBe(BAD_CREDENTIALS);
  });

  it('keeps a good bind cached on the edge: let in while directory-sync is down, a new credential is not', async () => {
    (await connectAs('dan', 'dan-pw')).end(true);
    await directory.stop();
    expect((await connectAs('dan', 'dan-pw')).connected).toBe(true);
    // Not cached: the edge has to ask, and nobody answers (not "bad credentials": the directory did not say no).
    expect(await refusalCode(url(), as('dan', 'another-pw'))).toBe(SERVER_UNAVAILABLE);
  });
});
