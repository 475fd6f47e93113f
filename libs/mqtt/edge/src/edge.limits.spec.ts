/**
 * Edge limits (issue 5): lengths, topic depth, UTF-8 validity and the connect
 * rate per address are checked before any authentication work; sockets per
 * remote address are capped; keepalive is kept within bounds; the connect rate
 * per identity is checked once it is authenticated; slow consumers are
 * disconnected before they hold unbounded memory.
 */
import type { IConnackPacket, IDisconnectPacket, Packet } from 'mqtt-packet';
import { MqttEdge } from './edge';
import { DEFAULT_LIMITS, type EdgeLimits } from './core/limits';
import {
  closesWithin,
  connect,
  connectBytes,
  decodeAll,
  encodePacket,
  endAllClients,
  endClient,
  nextServerDisconnect,
  openRaw,
  ORG_A,
  refusalCode,
  sleep,
  startEdge,
  TestAuthenticator,
  useEdge,
  varInt,
  waitFor,
  type RawConnection,
  type TestEdge,
  type Transport,
  type Version,
} from './testing/helpers';
import type { DisconnectReason } from './core/types';

const LIMITS = { maxClientIdLength: 32, maxUsernameLength: 40, maxPasswordLength: 64, maxTopicLength: 64, maxTopicLevels: 6 };
const user = `lim@${ORG_A}`;
const deep = 'users/lim/a/b/c/d/e'; // 7 levels
const long = `users/lim/${'x'.repeat(60)}`;

let t: TestEdge;

useEdge((edge) => (t = edge), LIMITS);

describe.each([4, 5] as Version[])('limits, MQTT version %i', (version) => {
  const v5 = version === 5;
  const url = (): string => t.url('tcp');

  /** The refusal code, and that the authenticator was never asked. */
  async function refusedBeforeAuth(options: Parameters<typeof refusalCode>[2]): Promise<number> {
    const calls = t.auth.calls;
    const code = await refusalCode(url(), version, options);
    expect(t.auth.calls).toBe(calls);
    return code;
  }

  it('a client id beyond maxClientIdLength is refused before authentication (3.1.1: 2, 5.0: 0x85)', async () => {
    const code = await refusedBeforeAuth({ clientId: 'c'.repeat(33), username: user, password: 'good' });
    expect(code).toBe(v5 ? 0x85 : 2);
  });

  it('a username beyond maxUsernameLength is refused before authentication (3.1.1: 4, 5.0: 0x86)', async () => {
    const code = await refusedBeforeAuth({ username: `${'u'.repeat(40)}@${ORG_A}`, password: 'good' });
    expect(code).toBe(v5 ? 0x86 : 4);
  });

  it('a password beyond maxPasswordLength is refused before authentication (3.1.1: 4, 5.0: 0x86)', async () => {
    const code = await refusedBeforeAuth({ username: user, password: `good${' '.repeat(61)}` });
    expect(code).toBe(v5 ? 0x86 : 4);
  });

  it('names at the limits are accepted', async () => {
    const c = await connect(url(), version, { clientId: 'c'.repeat(32), username: user, password: 'good' });
    expect(c.connected).toBe(true);
    await endClient(c);
  });

  it.each([
    ['too long', long],
    ['too deep', deep],
  ])('a will topic %s refuses the CONNECT before authentication (5.0: CONNACK 0x90, 3.1.1: closed)', async (_what, topic) => {
    const calls = t.auth.calls;
    const err = await connect(url(), version, { username: user, password: 'good', will: { topic, payload: Buffer.from('x'), qos: 0, retain: false } }).then(
      () => null,
      (e: { code?: number; message: string }) => e,
    );
    expect(err).not.toBeNull();
    if (v5) expect(err!.code).toBe(0x90);
    expect(t.auth.calls).toBe(calls);
  });

  it.each([
    ['too long', long],
    ['too deep', deep],
  ])('a PUBLISH topic %s closes the connection (5.0: DISCONNECT 0x90)', async (_what, topic) => {
    const c = await connect(url(), version, { username: user, password: 'good' });
    const code = nextServerDisconnect(c);
    c.publish(topic, 'x', { qos: 1 });
    expect(await code).toBe(v5 ? 0x90 : -1);
  });

  it('a topic at the limits is published and delivered', async () => {
    const atLimit = 'users/lim/a/b/c/d'; // 6 levels
    const c = await connect(url(), version, { username: user, password: 'good' });
    const got: string[] = [];
    c.on('message', (topic) => got.push(topic));
    await c.subscribeAsync(atLimit);
    await c.publishAsync(atLimit, 'x', { qos: 1 });
    await waitFor(() => got.length === 1);
    await endClient(c);
  });

  it('SUBSCRIBE filters beyond the limits get SUBACK 0x8F (3.1.1: 0x80), the others are granted', async () => {
    const c = await connect(url(), version, { username: user, password: 'good' });
    const granted = await new Promise<number[]>((resolve) => {
      c.subscribe({ [`${long}/#`]: { qos: 1 }, 'users/lim/a/b/c/d/#': { qos: 1 }, 'users/lim/ok': { qos: 1 } }, (err, list) => {
        const packet = (err as { packet?: { granted?: number[] } } | null)?.packet;
        resolve(packet?.granted ?? (list ?? []).map((g) => g.qos));
      });
    });
    expect(granted).toEqual([v5 ? 0x8f : 0x80, v5 ? 0x8f : 0x80, 1]);
    expect(c.connected).toBe(true);
    await endClient(c);
  });
});

describe('connections per remote address', () => {
  it.each([4, 5] as Version[])('beyond maxConnectionsPerIp a CONNECT is refused before authentication (3.1.1: 3, 5.0: 0x97), version %i', async (version) => {
    const edge = await startEdge({ maxConnectionsPerIp: 2 });
    try {
      const url = edge.url(version === 5 ? 'tcp' : 'ws');
      const a = await connect(url, version, { username: user, password: 'good' });
      const b = await connect(url, version, { username: user, password: 'good' });
      const calls = edge.auth.calls;
      expect(await refusalCode(url, version, { username: user, password: 'good' })).toBe(version === 5 ? 0x97 : 3);
      expect(edge.auth.calls).toBe(calls);
      await endClient(a);
      await waitFor(() => edge.edge.stats().connections === 1);
      const c = await connect(url, version, { username: user, password: 'good' });
      expect(c.connected).toBe(true);
      await endClient(b);
      await endClient(c);
    } finally {
      await edge.close();
    }
  });
});

describe('keepalive bounds', () => {
  let edge: TestEdge;
  beforeAll(async () => {
    edge = await startEdge({ minKeepAliveSeconds: 30, maxKeepAliveSeconds: 600 });
  });
  afterAll(() => edge.close());

  /** What the edge answers a raw CONNECT asking for `keepalive` seconds. */
  async function answer(version: Version, keepalive: number): Promise<IConnackPacket | null> {
    const conn = await openRaw(edge, 'tcp');
    conn.send(connectBytes(version, `ka-${version}-${keepalive}`, user, 'good', keepalive));
    await waitFor(() => conn.received().length > 0 || conn.isClosed(), 3000, 'an answer');
    conn.destroy();
    return (decodeAll(conn.received(), version)[0] as IConnackPacket | undefined) ?? null;
  }

  it.each([0, 1, 29])('5.0: a keepalive of %i is raised to Server Keep Alive = the minimum [MQTT-3.2.2-21]', async (keepalive) => {
    const connack = await answer(5, keepalive);
    expect(connack).toMatchObject({ reasonCode: 0, properties: { serverKeepAlive: 30 } });
  });

  it.each([30, 600])('5.0: a keepalive of %i within the bounds is taken as asked (no Server Keep Alive)', async (keepalive) => {
    const connack = await answer(5, keepalive);
    expect(connack?.reasonCode).toBe(0);
    expect(connack?.properties?.serverKeepAlive).toBeUndefined();
  });

  it('5.0: a keepalive above the maximum is lowered to it', async () => {
    expect((await answer(5, 601))?.properties?.serverKeepAlive).toBe(600);
  });

  it.each([0, 29, 601])('3.1.1: a keepalive of %i outside the bounds is refused with CONNACK 2', async (keepalive) => {
    expect((await answer(4, keepalive))?.returnCode).toBe(2);
  });

  it('3.1.1: a keepalive within the bounds is accepted', async () => {
    expect((await answer(4, 30))?.returnCode).toBe(0);
  });

  it('5.0: a client asking for no keepalive is held to the minimum: silent past 1.5 × it, DISCONNECT 0x8D', async () => {
    const strict = await startEdge({ minKeepAliveSeconds: 1 });
    try {
      const conn = await openRaw(strict, 'tcp');
      conn.send(connectBytes(5, 'ka-silent', user, 'good', 0));
      expect(await closesWithin(conn, 5000)).toBe(true);
      const packets = decodeAll(conn.received(), 5);
      expect((packets[0] as IConnackPacket).properties?.serverKeepAlive).toBe(1);
      expect((packets[1] as IDisconnectPacket).reasonCode).toBe(0x8d);
    } finally {
      await strict.close();
    }
  });
});

describe('keepalive with the default limits: bounded, never unbounded', () => {
  let edge: TestEdge;
  beforeAll(async () => {
    edge = await startEdge();
  });
  afterAll(() => edge.close());

  async function connack(version: Version, keepalive: number): Promise<IConnackPacket | undefined> {
    const conn = await openRaw(edge, 'tcp');
    conn.send(connectBytes(version, `kad-${version}-${keepalive}`, user, 'good', keepalive));
    await waitFor(() => conn.received().length > 0 || conn.isClosed(), 3000, 'an answer');
    conn.destroy();
    return decodeAll(conn.received(), version)[0] as IConnackPacket | undefined;
  }

  it.each([0, 3600, 65535])('5.0: a keepalive of %i gets Server Keep Alive = the default maximum, 1200 s', async (keepalive) => {
    expect(DEFAULT_LIMITS.maxKeepAliveSeconds).toBe(1200);
    expect(await connack(5, keepalive)).toMatchObject({ reasonCode: 0, properties: { serverKeepAlive: 1200 } });
  });

  it('5.0: a keepalive within the default maximum is taken as asked', async () => {
    expect((await connack(5, 60))?.properties?.serverKeepAlive).toBeUndefined();
  });

  it('3.1.1: a keepalive of 0 is accepted; above the maximum it is refused (CONNACK 2)', async () => {
    expect((await connack(4, 0))?.returnCode).toBe(0);
    expect((await connack(4, 1201))?.returnCode).toBe(2);
  });

  it('3.1.1: a silent keepalive-0 connection is closed after 1.5 × the maximum', async () => {
    const short = await startEdge({ maxKeepAliveSeconds: 1 });
    try {
      const conn = await openRaw(short, 'tcp');
      conn.send(connectBytes(4, 'ka0-silent', user, 'good', 0));
      expect(await closesWithin(conn, 5000)).toBe(true);
      expect((decodeAll(conn.received(), 4)[0] as IConnackPacket).returnCode).toBe(0);
    } finally {
      await short.close();
    }
  });
});

describe('connect rate', () => {
  let clock = 0;
  let edge: MqttEdge;
  let auth: TestAuthenticator;
  let port = 0;

  /** An edge on a clock that only the test moves: buckets refill exactly when told. */
  async function start(limits: Partial<EdgeLimits>): Promise<void> {
    clock = Date.now();
    auth = new TestAuthenticator(() => clock);
    edge = new MqttEdge({ authenticator: auth, now: () => clock, limits: { connectRatePerIp: 0, connectRatePerIdentity: 0, ...limits } });
    port = (await edge.listenTcp(0, '127.0.0.1')).port;
  }
  afterEach(async () => {
    await endAllClients();
    await edge.close();
  });

  const url = (): string => `mqtt://127.0.0.1:${port}`;

  /** CONNACK code of a CONNECT (0: accepted, then closed again). */
  async function attempt(version: Version, username: string, password = 'good'): Promise<number> {
    try {
      await endClient(await connect(url(), version, { username, password }));
      return 0;
    } catch (err) {
      return (err as { code?: number }).code ?? -1;
    }
  }

  it.each([4, 5] as Version[])(
    'per address: beyond the burst a CONNECT is refused before authentication (3.1.1: 3, 5.0: 0x9F), and refilled at the rate, version %i',
    async (version) => {
      await start({ connectRatePerIp: 1, connectBurstPerIp: 3 });
      const refused = version === 5 ? 0x9f : 3;
      expect([await attempt(version, user), await attempt(version, `other@${ORG_A}`), await attempt(version, user)]).toEqual([0, 0, 0]);
      const calls = auth.calls;
      // Any user, bad credentials included: the address has used its CONNECTs.
      expect(await attempt(version, `other@${ORG_A}`)).toBe(refused);
      expect(await attempt(version, user, 'bad')).toBe(refused);
      expect(auth.calls).toBe(calls);
      expect(edge.stats().connectsRefused).toBe(2);
      clock += 1000;
      expect(await attempt(version, user)).toBe(0);
      expect(await attempt(version, user)).toBe(refused);
    },
  );

  it.each([4, 5] as Version[])(
    'per identity: beyond the burst an authenticated CONNECT is refused (3.1.1: 3, 5.0: 0x9F); other users are not, version %i',
    async (version) => {
      await start({ connectRatePerIdentity: 1, connectBurstPerIdentity: 2 });
      const refused = version === 5 ? 0x9f : 3;
      expect([await attempt(version, user), await attempt(version, user)]).toEqual([0, 0]);
      const calls = auth.calls;
      expect(await attempt(version, user)).toBe(refused);
      // Checked after authentication: the credential was verified.
      expect(auth.calls).toBe(calls + 1);
      expect(await attempt(version, `other@${ORG_A}`)).toBe(0);
      // The same subject in another org is another identity.
      expect(await attempt(version, 'lim@org_cccccccccccc')).toBe(0);
      clock += 1000;
      expect(await attempt(version, user)).toBe(0);
    },
  );

  it("per identity: failed attempts with someone's username do not use up their CONNECTs", async () => {
    await start({ connectRatePerIdentity: 1, connectBurstPerIdentity: 2 });
    for (let i = 0; i < 5; i++) expect(await attempt(5, user, 'bad')).toBe(0x86);
    expect([await attempt(5, user), await attempt(5, user)]).toEqual([0, 0]);
    expect(await attempt(5, user)).toBe(0x9f);
  });

  it('buckets of quiet addresses and identities are dropped by the sweep', async () => {
    await start({ connectRatePerIp: 10, connectBurstPerIp: 5, connectRatePerIdentity: 10, connectBurstPerIdentity: 5 });
    expect(await attempt(5, user)).toBe(0);
    expect(edge.stats().connectRateBuckets).toBe(2);
    clock += 1000;
    edge.sweep();
    expect(edge.stats().connectRateBuckets).toBe(0);
    expect(await attempt(5, user)).toBe(0);
  });
});

describe('[MQTT-1.5.3-1] [MQTT-1.5.3-2] ill-formed UTF-8 and U+0000 (5.0 [MQTT-1.5.4-1] [MQTT-1.5.4-2])', () => {
  const ILL_FORMED = Buffer.from([0xc3, 0x28]);
  const NUL = Buffer.from([0x00]);
  const REAL_FFFD = Buffer.from('\uFFFD');
  let n = 0;

  const str = (b: Buffer): Buffer => {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(b.length);
    return Buffer.concat([len, b]);
  };
  const packet = (first: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([first]), varInt(body.length), body]);

  /** A CONNECT whose client id, username or will topic bytes can be anything. */
  function connectWith(version: Version, field: 'clientId' | 'username' | 'willTopic', bytes: Buffer): Buffer {
    const clientId = field === 'clientId' ? Buffer.concat([Buffer.from('u8-'), bytes]) : Buffer.from(`u8-${version}-${++n}`);
    const username = field === 'username' ? Buffer.concat([Buffer.from('lim'), bytes, Buffer.from(`@${ORG_A}`)]) : Buffer.from(user);
    const props = version === 5 ? Buffer.from([0]) : Buffer.alloc(0);
    const will = field === 'willTopic' ? [props, str(Buffer.concat([Buffer.from('users/lim/'), bytes])), str(Buffer.from('bye'))] : [];
    const flags = 0x80 | 0x40 | 0x02 | (will.length > 0 ? 0x04 : 0); // username, password, clean, will
    const variable = Buffer.concat([str(Buffer.from('MQTT')), Buffer.from([version, flags, 0, 60]), props]);
    return packet(0x10, Buffer.concat([variable, str(clientId), ...will, str(username), str(Buffer.from('good'))]));
  }

  /** A SUBSCRIBE (options byte after the filter) or UNSUBSCRIBE of one filter given as bytes. */
  function filterPacket(version: Version, subscribe: boolean, filter: Buffer): Buffer {
    const props = version === 5 ? Buffer.from([0]) : Buffer.alloc(0);
    const body = Buffer.concat([Buffer.from([0, 9]), props, str(filter), subscribe ? Buffer.from([1]) : Buffer.alloc(0)]);
    return packet(subscribe ? 0x82 : 0xa2, body);
  }

  describe.each([4, 5] as Version[])('MQTT version %i', (version) => {
    const v5 = version === 5;

    async function sendConnect(bytes: Buffer): Promise<{ closed: boolean; packets: Packet[] }> {
      const conn = await openRaw(t, 'tcp');
      conn.send(bytes);
      const closed = await closesWithin(conn, 1000);
      conn.destroy();
      return { closed, packets: decodeAll(conn.received(), version) };
    }

    it.each([
      ['client id', 'ill-formed UTF-8', 'clientId', ILL_FORMED],
      ['client id', 'U+0000', 'clientId', NUL],
      ['username', 'ill-formed UTF-8', 'username', ILL_FORMED],
      ['username', 'U+0000', 'username', NUL],
      ['will topic', 'ill-formed UTF-8', 'willTopic', ILL_FORMED],
      ['will topic', 'U+0000', 'willTopic', NUL],
    ] as const)('a CONNECT %s with %s is malformed: 5.0 CONNACK 0x81, 3.1.1 closed without CONNACK; no authentication', async (_n, _k, field, bytes) => {
      const calls = t.auth.calls;
      const { closed, packets } = await sendConnect(connectWith(version, field, bytes));
      expect(closed).toBe(true);
      if (v5) expect(packets).toEqual([expect.objectContaining({ cmd: 'connack', reasonCode: 0x81 })]);
      else expect(packets).toEqual([]);
      expect(t.auth.calls).toBe(calls);
    });

    it.each(['clientId', 'username', 'willTopic'] as const)('a CONNECT %s holding a real U+FFFD is well-formed and accepted', async (field) => {
      const conn = await openRaw(t, 'tcp');
      conn.send(connectWith(version, field, REAL_FFFD));
      await waitFor(() => conn.received().length > 0, 3000, 'CONNACK');
      const connack = decodeAll(conn.received(), version)[0] as IConnackPacket;
      expect(v5 ? connack.reasonCode : connack.returnCode).toBe(0);
      conn.destroy();
    });

    /** Sends `bytes` after a CONNECT; waits for the close, or for an answer when `answered`. */
    async function afterConnect(bytes: Buffer, answered = false): Promise<{ closed: boolean; packets: Packet[]; destroy(): void }> {
      const conn = await openRaw(t, 'tcp');
      conn.send(connectBytes(version, `u8f-${version}-${++n}`, user, 'good'));
      await waitFor(() => conn.received().length > 0, 3000, 'CONNACK');
      conn.send(bytes);
      const closed = answered
        ? await waitFor(() => decodeAll(conn.received(), version).length > 1, 3000, 'an answer').then(() => conn.isClosed())
        : await closesWithin(conn, 1000);
      return { closed, packets: decodeAll(conn.received(), version).slice(1), destroy: () => conn.destroy() };
    }

    it.each([
      ['SUBSCRIBE', 'ill-formed UTF-8', true, ILL_FORMED],
      ['SUBSCRIBE', 'U+0000', true, NUL],
      ['UNSUBSCRIBE', 'ill-formed UTF-8', false, ILL_FORMED],
      ['UNSUBSCRIBE', 'U+0000', false, NUL],
    ] as const)('a %s filter with %s closes the connection (5.0: DISCONNECT 0x81), no acknowledgement', async (_p, _k, subscribe, bytes) => {
      const { closed, packets } = await afterConnect(filterPacket(version, subscribe, Buffer.concat([Buffer.from('users/lim/'), bytes])));
      expect(closed).toBe(true);
      expect(packets).toEqual(v5 ? [expect.objectContaining({ cmd: 'disconnect', reasonCode: 0x81 })] : []);
    });

    it.each([
      ['SUBSCRIBE', true, 'suback'],
      ['UNSUBSCRIBE', false, 'unsuback'],
    ] as const)('a %s filter holding a real U+FFFD is well-formed and acknowledged', async (_p, subscribe, ack) => {
      const { closed, packets, destroy } = await afterConnect(filterPacket(version, subscribe, Buffer.concat([Buffer.from('users/lim/'), REAL_FFFD])), true);
      expect(closed).toBe(false);
      expect(packets[0]).toMatchObject({ cmd: ack, messageId: 9 });
      if (subscribe) expect(packets[0]).toMatchObject({ granted: [1] });
      destroy();
    });
  });
});

describe('slow consumers', () => {
  const KIB = 1024;
  let edge: TestEdge;
  let reasons: { clientId: string; reason: DisconnectReason }[];

  async function start(limits: Partial<EdgeLimits>): Promise<void> {
    reasons = [];
    // closeGraceMs: the paused subscriber must still be there to read its DISCONNECT once it resumes.
    edge = await startEdge({ closeGraceMs: 30_000, ...limits }, { disconnected: ({ clientId, reason }) => reasons.push({ clientId, reason }) });
  }
  afterEach(async () => {
    await endAllClients();
    await edge.close();
  });

  /** A raw 5.0 subscriber to users/slow/# that can stop reading its socket. */
  async function subscriber(transport: Transport, clientId: string, qos: 0 | 1): Promise<RawConnection> {
    const sub = await openRaw(edge, transport);
    sub.send(connectBytes(5, clientId, `slow@${ORG_A}`, 'good'));
    await waitFor(() => sub.received().length > 0, 3000, 'CONNACK');
    sub.send(encodePacket({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'users/slow/#', qos }] }, 5));
    await waitFor(() => decodeAll(sub.received(), 5).some((p) => p.cmd === 'suback'), 3000, 'SUBACK');
    return sub;
  }

  /** Publishes `payloadBytes` messages at `qos` until `done()` (or throws after 20 s). */
  async function flood(qos: 0 | 1, payloadBytes: number, done: () => boolean): Promise<void> {
    const pub = await connect(edge.url('tcp'), 5, { username: `slow@${ORG_A}`, password: 'good' });
    const payload = Buffer.alloc(payloadBytes, 0x61);
    const started = Date.now();
    while (!done()) {
      if (Date.now() - started > 20_000) throw new Error('flood: condition not reached');
      if (qos === 1) await pub.publishAsync('users/slow/x', payload, { qos: 1 });
      else {
        for (let i = 0; i < 32; i++) pub.publish('users/slow/x', payload, { qos: 0 });
        await sleep(5);
      }
    }
    expect(pub.connected).toBe(true);
  }

  /** Resumes reading: everything queued arrives, the last packet is the DISCONNECT, then the socket closes. */
  async function lastPacketAfterResume(sub: RawConnection): Promise<Packet | undefined> {
    sub.resume();
    await sub.closed;
    return decodeAll(sub.received(), 5).pop();
  }

  it.each(['tcp', 'ws'] as Transport[])(
    'a subscriber above maxWriteBufferBytes for slowConsumerGraceMs is disconnected: DISCONNECT 0x97, counted, the publisher unaffected (%s)',
    async (transport) => {
      await start({ maxWriteBufferBytes: 64 * KIB, slowConsumerGraceMs: 300, slowConsumerMaxBytes: 512 * 1024 * KIB });
      const sub = await subscriber(transport, 'slow-grace', 0);
      sub.pause();
      await flood(0, 16 * KIB, () => reasons.length > 0);
      expect(reasons).toEqual([{ clientId: 'slow-grace', reason: 'slow_consumer' }]);
      expect(edge.edge.stats().slowConsumers).toBe(1);
      expect(edge.edge.stats().messagesDropped).toBeGreaterThan(0);
      expect(await lastPacketAfterResume(sub)).toMatchObject({ cmd: 'disconnect', reasonCode: 0x97 });
    },
  );

  it.each(['tcp', 'ws'] as Transport[])(
    'a subscriber beyond slowConsumerMaxBytes is disconnected without waiting for the grace period (QoS 1 in flight, %s)',
    async (transport) => {
      await start({ maxWriteBufferBytes: 64 * KIB, slowConsumerGraceMs: 3_600_000, slowConsumerMaxBytes: 1024 * KIB });
      const sub = await subscriber(transport, 'slow-cap', 1);
      sub.pause();
      await flood(1, 256 * KIB, () => reasons.length > 0);
      expect(reasons).toEqual([{ clientId: 'slow-cap', reason: 'slow_consumer' }]);
      expect(edge.edge.stats().slowConsumers).toBe(1);
      expect(await lastPacketAfterResume(sub)).toMatchObject({ cmd: 'disconnect', reasonCode: 0x97 });
    },
  );

  it('a disconnected slow consumer that reads again only after several seconds still gets its DISCONNECT (ws)', async () => {
    // uWS drops an ended socket's backlog at its next timeout tick (0-4 s); closeGraceMs is the bound.
    await start({ maxWriteBufferBytes: 64 * KIB, slowConsumerGraceMs: 3_600_000, slowConsumerMaxBytes: 1024 * KIB });
    const sub = await subscriber('ws', 'slow-late', 1);
    sub.pause();
    await flood(1, 256 * KIB, () => reasons.length > 0);
    await sleep(4500);
    expect(await lastPacketAfterResume(sub)).toMatchObject({ cmd: 'disconnect', reasonCode: 0x97 });
  });

  it('a subscriber that falls behind and catches up within the grace period stays connected', async () => {
    await start({ maxWriteBufferBytes: 64 * KIB, slowConsumerGraceMs: 2000, slowConsumerMaxBytes: 512 * 1024 * KIB });
    const sub = await subscriber('tcp', 'slow-brief', 0);
    sub.pause();
    // Behind: QoS 0 to it is being dropped.
    await flood(0, 16 * KIB, () => edge.edge.stats().messagesDropped > 0);
    sub.resume();
    await sleep(3000);
    expect(reasons).toEqual([]);
    expect(edge.edge.stats().slowConsumers).toBe(0);
    expect(sub.isClosed()).toBe(false);
    sub.destroy();
  });
});

describe('memory before authentication', () => {
  const CONNECT_MAX = 16 * 1024;
  const PER_IP = 64 * 1024;
  let edge: TestEdge;
  beforeAll(async () => {
    edge = await startEdge({ maxConnectPacketSize: CONNECT_MAX, maxUnauthenticatedBytesPerIp: PER_IP, maxUnauthenticatedBytes: 4 * PER_IP });
  });
  afterAll(() => edge.close());

  /** The fixed header of a CONNECT declaring `remaining` bytes, and the first `body` of them: it never completes. */
  const partialConnect = (remaining: number, body: number) => Buffer.concat([Buffer.from([0x10]), varInt(remaining), Buffer.alloc(body)]);

  it('closes a CONNECT declared above maxConnectPacketSize at its header, far below maxPacketSize', async () => {
    const conn = await openRaw(edge, 'tcp');
    conn.send(partialConnect(CONNECT_MAX + 1, 8));
    expect(await closesWithin(conn, 3000)).toBe(true);
    expect(edge.edge.stats().unauthenticatedBytes).toBe(0);
  });

  it('many slow big CONNECTs from one address: those past the address budget are closed, the counter returns to 0', async () => {
    const N = 20;
    const conns: RawConnection[] = [];
    for (let i = 0; i < N; i++) conns.push(await openRaw(edge, 'tcp'));
    // Each declares a CONNECT just under the limit and sends it slowly: 3 pieces of 4 KiB, never the rest.
    conns.forEach((c) => c.send(partialConnect(CONNECT_MAX - 8, 4096)));
    for (let piece = 0; piece < 2; piece++) {
      await sleep(30);
      for (const c of conns) if (!c.isClosed()) c.send(Buffer.alloc(4096));
    }
    await waitFor(() => conns.filter((c) => c.isClosed()).length >= N - PER_IP / (3 * 4096), 3000, 'the connections past the budget to close');
    const stats = edge.edge.stats();
    expect(stats.unauthenticatedBytes).toBeLessThanOrEqual(PER_IP);
    expect(stats.unauthenticatedBytes).toBeGreaterThan(0);

    // Bytes held by others do not lock a client out: a whole CONNECT in one read is never held.
    const ok = await openRaw(edge, 'tcp');
    ok.send(connectBytes(5, 'mem-ok', user, 'good'));
    await waitFor(() => ok.received().length > 0, 3000, 'a CONNACK');
    expect((decodeAll(ok.received(), 5)[0] as IConnackPacket).reasonCode).toBe(0);

    for (const c of conns) c.destroy();
    ok.destroy();
    await waitFor(() => edge.edge.stats().unauthenticatedBytes === 0, 3000, 'the budget to be given back');
  });
});
