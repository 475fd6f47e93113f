/**
 * Refresh without reconnecting: 5.0 re-authentication with AUTH (method
 * `signet-token`) and the `$signet/auth/refresh` topic for every version and
 * transport. See handlers/auth.ts.
 */
import type { MqttClient } from 'mqtt';
import type { Packet } from 'mqtt-packet';
import {
  collect,
  connect,
  encodePacket,
  nextServerDisconnect,
  ORG_A,
  refusalCode,
  sleep,
  unique,
  useEdge,
  type TestEdge,
  type Transport,
  type Version,
} from './testing/helpers';

let t: TestEdge;

useEdge((edge) => (t = edge));

function subscribe(client: MqttClient, filter: string, qos: 0 | 1 = 1): Promise<number> {
  return new Promise((resolve) => {
    client.subscribe(filter, { qos }, (err, granted) => {
      const packet = (err as { packet?: { granted?: number[] } } | null)?.packet;
      resolve(packet?.granted?.[0] ?? granted?.[0]?.qos ?? -1);
    });
  });
}

function sendAuth(client: MqttClient, method: string, token: string, reasonCode = 0x19): void {
  client.stream.write(
    encodePacket({ cmd: 'auth', reasonCode, properties: { authenticationMethod: method, authenticationData: Buffer.from(token) } }, 5),
  );
}

function nextAuth(client: MqttClient): Promise<Packet> {
  return new Promise((resolve) => {
    const on = (p: Packet): void => {
      if (p.cmd !== 'auth') return;
      client.off('packetreceive', on);
      resolve(p);
    };
    client.on('packetreceive', on);
  });
}

/** Admin publishes to each topic; resolves with the topics `received` got. */
async function deliveredTopics(received: { topic: string }[], topics: string[]): Promise<string[]> {
  const admin = await connect(t.url('tcp'), 5, { username: `admin@${ORG_A}`, password: 'good' });
  received.length = 0;
  for (const topic of topics) await admin.publishAsync(topic, 'x', { qos: 1 });
  await sleep(150);
  admin.end(true);
  return received.map((m) => m.topic).sort();
}

describe('MQTT 5.0 re-authentication with AUTH, method signet-token [MQTT-4.12.1-1]', () => {
  const tokenConnect = (cred: string, clientId = unique('ra-')): Promise<MqttClient> =>
    connect(t.url('tcp'), 5, {
      clientId,
      username: `alice@${ORG_A}`,
      properties: { authenticationMethod: 'signet-token', authenticationData: Buffer.from(cred) },
    });

  it('accepts CONNECT with the token as Authentication Data, and names the method in CONNACK (§3.2.2.3.17)', async () => {
    let connackMethod: string | undefined;
    const client = await connect(
      t.url('tcp'),
      5,
      { username: `alice@${ORG_A}`, properties: { authenticationMethod: 'signet-token', authenticationData: Buffer.from('good') } },
      (c) => c.on('packetreceive', (p) => p.cmd === 'connack' && (connackMethod = p.properties?.authenticationMethod)),
    );
    expect(connackMethod).toBe('signet-token');
    client.end(true);
  });

  it('refuses another Authentication Method with CONNACK 0x8C', async () => {
    expect(
      await refusalCode(t.url('tcp'), 5, {
        username: `alice@${ORG_A}`,
        password: 'good',
        properties: { authenticationMethod: 'SCRAM-SHA-1', authenticationData: Buffer.from('x') },
      }),
    ).toBe(0x8c);
  });

  it('AUTH 0x19 with a new token: AUTH 0x00, subscriptions kept, those the new grants do not cover removed, new credential revocable', async () => {
    const cred1 = unique('c1-');
    const cred2 = unique('c2-');
    const client = await tokenConnect(`good:${cred1}`);
    const received = collect(client);
    expect(await subscribe(client, 'users/alice/a/#')).toBe(1);
    expect(await subscribe(client, 'users/alice/b')).toBe(1);
    expect(await deliveredTopics(received, ['users/alice/a/1', 'users/alice/b'])).toEqual(['users/alice/a/1', 'users/alice/b']);

    const ack = nextAuth(client);
    sendAuth(client, 'signet-token', `grants:${cred2}:users/alice/a/#`);
    expect(await ack).toMatchObject({ cmd: 'auth', reasonCode: 0, properties: { authenticationMethod: 'signet-token' } });
    // Only the subscription outside the new grants is gone.
    expect(await deliveredTopics(received, ['users/alice/a/1', 'users/alice/b'])).toEqual(['users/alice/a/1']);
    // The new grants apply to PUBLISH too.
    await expect(client.publishAsync('users/alice/b', 'x', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });

    // Revocation follows the credential: the old one no longer names this session, the new one does.
    expect(t.edge.revoke([cred1])).toBe(0);
    expect(client.connected).toBe(true);
    const closed = nextServerDisconnect(client);
    expect(t.edge.revoke([cred2])).toBe(1);
    expect(await closed).toBe(0x98);
  });

  it('takes the new expiry: a session whose first token expires stays connected', async () => {
    const client = await tokenConnect('expires:400');
    const ack = nextAuth(client);
    sendAuth(client, 'signet-token', `good:${unique('long-')}`);
    await ack;
    await sleep(700);
    expect(client.connected).toBe(true);
    client.end(true);
  });

  it('an invalid token fails: DISCONNECT 0x87 and the connection closes [MQTT-4.12.1-2]', async () => {
    const client = await tokenConnect('good');
    const closed = nextServerDisconnect(client);
    sendAuth(client, 'signet-token', 'bad');
    expect(await closed).toBe(0x87);
  });

  it("another user's valid token fails: DISCONNECT 0x87 [MQTT-4.12.1-2]", async () => {
    const client = await tokenConnect('good');
    const closed = nextServerDisconnect(client);
    sendAuth(client, 'signet-token', 'user:bob');
    expect(await closed).toBe(0x87);
  });

  it('AUTH naming another method than CONNECT: DISCONNECT 0x82 [MQTT-4.12.1-1]', async () => {
    const client = await tokenConnect('good');
    const closed = nextServerDisconnect(client);
    sendAuth(client, 'SCRAM-SHA-1', 'good');
    expect(await closed).toBe(0x82);
  });

  it('Authentication Data beyond maxPasswordLength fails before the authenticator runs: DISCONNECT 0x87', async () => {
    const client = await tokenConnect('good');
    const closed = nextServerDisconnect(client);
    const calls = t.auth.calls;
    sendAuth(client, 'signet-token', `good:${'x'.repeat(8192)}`);
    expect(await closed).toBe(0x87);
    expect(t.auth.calls).toBe(calls);
  });

  it('AUTH from a client that did not use an Authentication Method at CONNECT is a protocol error (0x82)', async () => {
    const client = await connect(t.url('tcp'), 5, { username: `alice@${ORG_A}`, password: 'good' });
    const closed = nextServerDisconnect(client);
    sendAuth(client, 'signet-token', 'good');
    expect(await closed).toBe(0x82);
  });
});

interface RefreshResult {
  ok: boolean;
  credential_id?: string;
  error?: string;
}

describe.each([
  ['tcp', 4],
  ['tcp', 5],
  ['ws', 4],
  ['ws', 5],
] as [Transport, Version][])('refresh by PUBLISH to $signet/auth/refresh (%s, version %i)', (transport, version) => {
  async function refresh(client: MqttClient, token: string): Promise<RefreshResult> {
    const result = new Promise<RefreshResult>((resolve) => {
      const on = (topic: string, payload: Buffer): void => {
        if (topic !== '$signet/auth/result') return;
        client.off('message', on);
        resolve(JSON.parse(payload.toString()) as RefreshResult);
      };
      client.on('message', on);
    });
    await client.publishAsync('$signet/auth/refresh', token, { qos: 1 });
    return result;
  }

  it('$signet/auth/result is always allowed to subscribe; a new token keeps allowed subscriptions and removes the rest', async () => {
    const cred1 = unique('p1-');
    const cred2 = unique('p2-');
    const client = await connect(t.url(transport), version, { username: `alice@${ORG_A}`, password: `good:${cred1}` });
    const received = collect(client);
    expect(await subscribe(client, '$signet/auth/result')).toBe(1);
    expect(await subscribe(client, 'users/alice/a/#')).toBe(1);
    expect(await subscribe(client, 'users/alice/b')).toBe(1);

    expect(await refresh(client, `grants:${cred2}:users/alice/a/#`)).toEqual(
      expect.objectContaining({ ok: true, credential_id: cred2 }),
    );
    expect(await deliveredTopics(received, ['users/alice/a/1', 'users/alice/b'])).toEqual(['users/alice/a/1']);
    // The result topic survived the permission change, and the old credential no longer names the session.
    expect(t.edge.revoke([cred1])).toBe(0);
    expect(await refresh(client, 'bad')).toEqual(expect.objectContaining({ ok: false }));
    // A failed refresh leaves the connection on its current credential.
    expect(client.connected).toBe(true);
    expect(await deliveredTopics(received, ['users/alice/a/2'])).toEqual(['users/alice/a/2']);
    client.end(true);
  });

  it('a token beyond maxPasswordLength is refused before the authenticator runs; the connection stays', async () => {
    const client = await connect(t.url(transport), version, { username: `alice@${ORG_A}`, password: 'good' });
    expect(await subscribe(client, '$signet/auth/result')).toBe(1);
    const calls = t.auth.calls;
    expect(await refresh(client, `good:${'x'.repeat(8192)}`)).toEqual({ ok: false, error: 'credential too long' });
    expect(t.auth.calls).toBe(calls);
    expect(client.connected).toBe(true);
    client.end(true);
  });

  it('the refresh PUBLISH is not routed, and results go to the refreshing session only', async () => {
    const admin = await connect(t.url(transport), version, { username: `admin@${ORG_A}`, password: 'good' });
    const adminGot = collect(admin);
    await subscribe(admin, '#');
    await subscribe(admin, '$signet/auth/result');
    const client = await connect(t.url(transport), version, { username: `alice@${ORG_A}`, password: 'good' });
    await subscribe(client, '$signet/auth/result');
    expect((await refresh(client, `good:${unique('p3-')}`)).ok).toBe(true);
    await sleep(100);
    expect(adminGot).toEqual([]);
    // Nobody can publish into the result topic of others (5.0: PUBACK 0x87).
    const spoof = admin.publishAsync('$signet/auth/result', '{"ok":true}', { qos: 1 });
    if (version === 5) await expect(spoof).rejects.toMatchObject({ code: 0x87 });
    else await spoof;
    await sleep(100);
    expect(adminGot).toEqual([]);
    client.end(true);
    admin.end(true);
  });
});
