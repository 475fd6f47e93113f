/**
 * The behaviour suite, run per transport (edge.tcp.spec.ts, edge.ws.spec.ts run
 * in parallel jest workers) and, inside, per protocol version with describe.each.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import {
  collect,
  connect,
  endAllClients,
  endClient,
  nextServerDisconnect,
  ORG_A,
  ORG_B,
  refusalCode,
  sleep,
  startEdge,
  unique,
  waitFor,
  whenClosed,
  type Received,
  type TestEdge,
  type Transport,
  type Version,
} from './helpers';


/** SUBACK codes of one SUBACK (mqtt.js reports failure codes as an error carrying the packet). */
function subscribe(client: MqttClient, filter: string, qos: 0 | 1 | 2 = 0, extra: object = {}): Promise<number[]> {
  return new Promise((resolve) => {
    client.subscribe(filter, { qos, ...extra }, (err, granted) => {
      const packet = (err as { packet?: { granted?: number[] } } | null)?.packet;
      resolve(packet?.granted ?? (granted ?? []).map((g) => g.qos));
    });
  });
}

function publish(
  client: MqttClient,
  topic: string,
  payload: string,
  options: { qos?: 0 | 1 | 2; retain?: boolean } = {},
): Promise<{ code?: number } | undefined> {
  return new Promise((resolve) => {
    client.publish(topic, payload, { qos: options.qos ?? 0, retain: options.retain ?? false }, (err) =>
      resolve(err ? (err as { code?: number }) : undefined),
    );
  });
}

export function defineEdgeSuite(transport: Transport): void {
  let t: TestEdge;
  const events = { refused: [] as string[], publishDenied: [] as string[], subscribeDenied: [] as string[], accepted: 0 };

  beforeAll(async () => {
    t = await startEdge(
      {},
      {
        connectAccepted: () => void events.accepted++,
        connectRefused: (e) => void events.refused.push(e.reason),
        publishDenied: (e) => void events.publishDenied.push(e.topic),
        subscribeDenied: (e) => void events.subscribeDenied.push(`${e.filter}:${e.reason}`),
      },
    );
  });

  afterAll(async () => {
    await endAllClients();
    await t.close();
  });

  describe.each([4, 5] as Version[])(`${transport} MQTT protocol version %i`, (version) => {
    const v5 = version === 5;
    const url = (): string => t.url(transport);
    const as = (
      subject: string,
      org = ORG_A,
      options: IClientOptions = {},
      setup?: (client: MqttClient) => void,
    ): Promise<MqttClient> => connect(url(), version, { username: `${subject}@${org}`, password: 'good', ...options }, setup);

    it('accepts good credentials and refuses others with the exact CONNACK code', async () => {
      const c = await as(unique('u'));
      expect(c.connected).toBe(true);
      const code = (password: string, username = `u1@${ORG_A}`) => refusalCode(url(), version, { username, password });
      expect(await code('bad')).toBe(v5 ? 0x86 : 4);
      expect(await code('forbidden')).toBe(v5 ? 0x87 : 5);
      expect(await code('unavailable')).toBe(v5 ? 0x88 : 3);
      // Load shed (key verification overloaded): Server busy, not Server unavailable.
      expect(await code('busy')).toBe(v5 ? 0x89 : 3);
      expect(events.refused.slice(-4)).toEqual(['bad_credentials', 'not_authorized', 'server_unavailable', 'server_busy']);
      // No anonymous access.
      expect(await refusalCode(url(), version, {})).toBe(v5 ? 0x86 : 4);
    });

    it('authenticates asynchronously, handling packets sent meanwhile in order', async () => {
      const user = unique('u');
      const sub = await as(user);
      const got = collect(sub);
      await subscribe(sub, `users/${user}/#`, 1);
      const pub = await connect(url(), version, { username: `${user}@${ORG_A}`, password: 'slow:150' });
      await Promise.all([1, 2, 3].map((i) => publish(pub, `users/${user}/n`, String(i), { qos: 1 })));
      await waitFor(() => got.length === 3);
      expect(got.map((m) => m.payload)).toEqual(['1', '2', '3']);
    });

    it('assigns a client id to an empty one (5.0: Assigned Client Identifier)', async () => {
      let assigned: unknown;
      const c = await as(unique('u'), ORG_A, { clientId: '', clean: true }, (client) =>
        client.once('connect', (connack) => (assigned = connack.properties?.assignedClientIdentifier)),
      );
      expect(c.connected).toBe(true);
      if (v5) expect(assigned).toMatch(/^auto-/);
      else expect(assigned).toBeUndefined();
    });

    it.each([0, 1, 2] as const)('round-trips QoS %i publish/subscribe', async (qos) => {
      const user = unique('u');
      const sub = await as(user);
      const got = collect(sub);
      expect(await subscribe(sub, `users/${user}/#`, 2)).toEqual([2]);
      const pub = await as(user);
      expect(await publish(pub, `users/${user}/q`, `qos${qos}`, { qos })).toBeUndefined();
      await waitFor(() => got.length === 1);
      expect(got[0]).toMatchObject({ topic: `users/${user}/q`, payload: `qos${qos}`, qos, retain: false });
    });

    it('downgrades to the subscription QoS', async () => {
      const user = unique('u');
      const sub = await as(user);
      const got = collect(sub);
      await subscribe(sub, `users/${user}/+`, 1);
      const pub = await as(user);
      await publish(pub, `users/${user}/d`, 'x', { qos: 2 });
      await waitFor(() => got.length === 1);
      expect(got[0].qos).toBe(1);
    });

    it('drops a denied publish (5.0: PUBACK/PUBREC 0x87) and does not deliver it', async () => {
      const user = unique('u');
      const admin = await as('admin');
      const got = collect(admin);
      await subscribe(admin, 'users/#', 1);
      const c = await as(user);
      const deniedBefore = events.publishDenied.length;
      const denied1 = await publish(c, 'users/someone-else/x', 'nope', { qos: 1 });
      const denied2 = await publish(c, 'users/someone-else/x', 'nope', { qos: 2 });
      const denied0 = await publish(c, 'users/someone-else/x', 'nope', { qos: 0 });
      expect(denied0).toBeUndefined();
      if (v5) {
        expect(denied1?.code).toBe(0x87);
        expect(denied2?.code).toBe(0x87);
      } else {
        // 3.1.1 has no negative acknowledgement: acknowledged and dropped.
        expect(denied1).toBeUndefined();
        expect(denied2).toBeUndefined();
      }
      await waitFor(() => events.publishDenied.length === deniedBefore + 3);
      expect(events.publishDenied.slice(-3)).toEqual(Array(3).fill('users/someone-else/x'));
      await publish(c, `users/${user}/ok`, 'yes', { qos: 1 });
      await waitFor(() => got.length === 1);
      await sleep(50);
      expect(got.map((m) => m.payload)).toEqual(['yes']);
      expect(c.connected).toBe(true);
    });

    it('refuses a subscription outside the grants with the SUBACK failure code', async () => {
      const user = unique('u');
      const c = await as(user);
      expect(await subscribe(c, 'users/someone-else/#', 1)).toEqual([v5 ? 0x87 : 0x80]);
      expect(await subscribe(c, '#', 0)).toEqual([v5 ? 0x87 : 0x80]);
      expect(await subscribe(c, `users/${user}/#`, 1)).toEqual([1]);
      expect(events.subscribeDenied.slice(-2)).toEqual(['users/someone-else/#:not_authorized', '#:not_authorized']);
    });

    it('isolates orgs: a # subscriber sees nothing of another org (messages, retained, wills)', async () => {
      const adminA = await as('admin', ORG_A);
      const gotA = collect(adminA);
      await subscribe(adminA, '#', 1);
      const adminB = await as('admin', ORG_B);
      const gotB = collect(adminB);
      await subscribe(adminB, '#', 1);
      const topic = `users/${unique('x')}/iso`;
      await publish(adminB, topic, 'b-live', { qos: 1 });
      await publish(adminB, topic, 'b-retained', { qos: 1, retain: true });
      const willClient = await connect(url(), version, {
        username: `admin@${ORG_B}`,
        password: 'good',
        will: { topic, payload: Buffer.from('b-will'), qos: 1, retain: false },
      });
      willClient.stream.destroy();
      await waitFor(() => gotB.filter((m) => m.topic === topic).length === 3, 3000, 'org B messages');
      // A new # subscriber in org A gets no retained message of org B.
      const lateA = await as('admin', ORG_A);
      const gotLateA = collect(lateA);
      await subscribe(lateA, '#', 1);
      await sleep(100);
      expect(gotA.filter((m) => m.topic === topic)).toEqual([]);
      expect(gotLateA.filter((m) => m.topic === topic)).toEqual([]);
      await publish(adminB, topic, '', { qos: 1, retain: true });
    });

    it('stores, delivers and clears retained messages', async () => {
      const user = unique('u');
      const pub = await as(user);
      const topic = `users/${user}/state`;
      await publish(pub, topic, 'on', { qos: 1, retain: true });
      const sub = await as(user);
      const got = collect(sub);
      await subscribe(sub, `users/${user}/#`, 1);
      await waitFor(() => got.length === 1);
      expect(got[0]).toMatchObject({ topic, payload: 'on', retain: true, qos: 1 });
      // Live delivery to an existing subscription: RETAIN 0 (3.1.1) / as published only with rap (5.0).
      await publish(pub, topic, 'off', { qos: 1, retain: true });
      await waitFor(() => got.length === 2);
      expect(got[1]).toMatchObject({ payload: 'off', retain: false });
      // Empty payload clears it.
      await publish(pub, topic, '', { qos: 1, retain: true });
      await waitFor(() => got.length === 3);
      const sub2 = await as(user);
      const got2 = collect(sub2);
      await subscribe(sub2, `users/${user}/#`, 1);
      await sleep(100);
      expect(got2).toEqual([]);
    });

    if (v5) {
      it('honours Retain As Published and Retain Handling (5.0)', async () => {
        const user = unique('u');
        const pub = await as(user);
        const topic = `users/${user}/rap`;
        await publish(pub, topic, 'r1', { qos: 1, retain: true });
        const sub = await as(user);
        const got = collect(sub);
        await subscribe(sub, topic, 1, { rap: true, rh: 2 });
        await sleep(100);
        expect(got).toEqual([]); // rh 2: no retained on subscribe
        await publish(pub, topic, 'r2', { qos: 1, retain: true });
        await waitFor(() => got.length === 1);
        expect(got[0]).toMatchObject({ payload: 'r2', retain: true });
        await publish(pub, topic, '', { qos: 1, retain: true });
      });
    }

    it('publishes the will on abrupt close, not on DISCONNECT', async () => {
      const user = unique('u');
      const sub = await as(user);
      const got = collect(sub);
      await subscribe(sub, `users/${user}/will/#`, 1);
      const will = (name: string) => ({ topic: `users/${user}/will/${name}`, payload: Buffer.from(name), qos: 1 as const, retain: false });
      const polite = await as(user, ORG_A, { will: will('polite') });
      await endClient(polite);
      const abrupt = await as(user, ORG_A, { will: will('abrupt') });
      abrupt.stream.destroy();
      await waitFor(() => got.length === 1);
      await sleep(100);
      expect(got.map((m) => m.payload)).toEqual(['abrupt']);
    });

    it('refuses a will outside the publish grants with not authorized', async () => {
      const code = await refusalCode(url(), version, {
        username: `${unique('u')}@${ORG_A}`,
        password: 'good',
        will: { topic: 'users/someone-else/will', payload: Buffer.from('x'), qos: 0, retain: false },
      });
      expect(code).toBe(v5 ? 0x87 : 5);
    });

    it('closes a connection silent for 1.5 × keepalive (5.0: DISCONNECT 0x8D)', async () => {
      const c = await as(unique('u'), ORG_A, { keepalive: 1 });
      // Stop the client's own PINGREQs so it goes silent.
      (c as unknown as { _destroyKeepaliveManager(): void })._destroyKeepaliveManager();
      const started = Date.now();
      const code = await nextServerDisconnect(c);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(1300);
      expect(elapsed).toBeLessThan(3000);
      if (v5) expect(code).toBe(0x8d);
    });

    it('answers PINGREQ and keeps a pinging client connected', async () => {
      const c = await as(unique('u'), ORG_A, { keepalive: 1 });
      let pongs = 0;
      c.on('packetreceive', (p) => {
        if (p.cmd === 'pingresp') pongs++;
      });
      await sleep(2200);
      expect(c.connected).toBe(true);
      expect(pongs).toBeGreaterThanOrEqual(1);
    });

    it('resumes a persistent session: sessionPresent and queued QoS 1 message', async () => {
      const user = unique('u');
      const clientId = unique('persist');
      const inbox = `users/${user}/inbox`;
      const persistent: IClientOptions = v5
        ? { clientId, clean: false, properties: { sessionExpiryInterval: 60 } }
        : { clientId, clean: false };
      const a = await as(user, ORG_A, persistent);
      await subscribe(a, inbox, 1);
      await endClient(a);
      const pub = await as(user);
      await publish(pub, inbox, 'queued', { qos: 1 });
      await publish(pub, inbox, 'qos0-not-queued', { qos: 0 });
      let sessionPresent: boolean | undefined;
      let got: Received[] = [];
      const b = await as(user, ORG_A, persistent, (client) => {
        // Listeners before CONNACK: the queued message follows it immediately.
        got = collect(client);
        client.once('connect', (connack) => (sessionPresent = connack.sessionPresent));
      });
      await waitFor(() => got.length === 1);
      expect(sessionPresent).toBe(true);
      expect(got[0]).toMatchObject({ topic: inbox, payload: 'queued', qos: 1 });
      await sleep(50);
      expect(got.length).toBe(1);
      await endClient(b);
      // A clean start discards the session.
      let present: boolean | undefined;
      await as(user, ORG_A, { clientId, clean: true }, (client) =>
        client.once('connect', (connack) => (present = connack.sessionPresent)),
      );
      expect(present).toBe(false);
    });

    it('redelivers an unacknowledged QoS 1 message with DUP on session resume [MQTT-4.4.0-1]', async () => {
      const user = unique('u');
      const clientId = unique('dup');
      const inbox = `users/${user}/dup`;
      const persistent: IClientOptions = v5
        ? { clientId, clean: false, properties: { sessionExpiryInterval: 60 } }
        : { clientId, clean: false };
      const seen: { dup: boolean; payload: string }[] = [];
      const a = await as(user, ORG_A, persistent);
      // Never acknowledge (mqtt.js has no switch for that on 3.1.1): the message stays in flight on the edge.
      const internals = a as unknown as { _sendPacket(packet: { cmd: string }, cb?: () => void, ...rest: unknown[]): void };
      const send = internals._sendPacket.bind(a);
      internals._sendPacket = (packet, cb, ...rest) => (packet.cmd === 'puback' ? cb?.() : send(packet, cb, ...rest));
      a.on('packetreceive', (p) => {
        if (p.cmd === 'publish') seen.push({ dup: p.dup, payload: p.payload.toString() });
      });
      await subscribe(a, inbox, 1);
      const pub = await as(user);
      await publish(pub, inbox, 'once', { qos: 1 });
      await waitFor(() => seen.length === 1);
      expect(seen[0].dup).toBe(false);
      a.stream.destroy();
      await whenClosed(a);
      let got: Received[] = [];
      await as(user, ORG_A, persistent, (client) => (got = collect(client)));
      await waitFor(() => got.length === 1);
      expect(got[0]).toMatchObject({ payload: 'once', qos: 1, dup: true });
    });

    if (v5) {
      it('delays the will by the Will Delay Interval and cancels it on resume (5.0)', async () => {
        const user = unique('u');
        const sub = await as(user);
        const got = collect(sub);
        await subscribe(sub, `users/${user}/lwt/#`, 1);
        const options = (name: string): IClientOptions => ({
          clientId: `${user}-${name}`,
          clean: false,
          properties: { sessionExpiryInterval: 30 },
          will: { topic: `users/${user}/lwt/${name}`, payload: Buffer.from(name), qos: 1, retain: false, properties: { willDelayInterval: 1 } },
        });
        const late = await as(user, ORG_A, options('late'));
        const resumed = await as(user, ORG_A, options('resumed'));
        const started = Date.now();
        late.stream.destroy();
        resumed.stream.destroy();
        await whenClosed(resumed);
        await as(user, ORG_A, { clientId: `${user}-resumed`, clean: false, properties: { sessionExpiryInterval: 30 } });
        await waitFor(() => got.length === 1, 3000, 'delayed will');
        expect(Date.now() - started).toBeGreaterThanOrEqual(900);
        await sleep(300);
        expect(got.map((m) => m.payload)).toEqual(['late']);
      });
    }

    it('takes over a session on the same client id (5.0: DISCONNECT 0x8E)', async () => {
      const user = unique('u');
      const clientId = unique('take');
      const first = await as(user, ORG_A, { clientId });
      const firstClosed = nextServerDisconnect(first);
      const second = await as(user, ORG_A, { clientId });
      const code = await firstClosed;
      if (v5) expect(code).toBe(0x8e);
      expect(second.connected).toBe(true);
      // The same client id in another org is another client.
      const other = await as(user, ORG_B, { clientId });
      await sleep(50);
      expect(second.connected).toBe(true);
      expect(other.connected).toBe(true);
    });

    it('does not match $ topics with first-level wildcards', async () => {
      const admin = await as('admin');
      const wild = collect(admin);
      await subscribe(admin, '#', 0);
      await subscribe(admin, '+/status', 0);
      const sys = await as('admin');
      const gotSys = collect(sys);
      await subscribe(sys, '$SYS/#', 0);
      await publish(admin, '$SYS/status', 'sys', { qos: 1 });
      await waitFor(() => gotSys.length === 1);
      await sleep(50);
      expect(wild.filter((m) => m.topic.startsWith('$'))).toEqual([]);
    });

    it('unsubscribes', async () => {
      const user = unique('u');
      const c = await as(user);
      const got = collect(c);
      await subscribe(c, `users/${user}/u`, 1);
      await new Promise<void>((resolve, reject) => c.unsubscribe(`users/${user}/u`, (err) => (err ? reject(err) : resolve())));
      const pub = await as(user);
      await publish(pub, `users/${user}/u`, 'x', { qos: 1 });
      await sleep(100);
      expect(got).toEqual([]);
    });

    it('revoke closes every session of the credential (5.0: DISCONNECT 0x98) and drops its state', async () => {
      const user = unique('u');
      const cred = unique('tok_');
      const opts = { username: `${user}@${ORG_A}`, password: `good:${cred}` };
      const a = await connect(url(), version, opts);
      const b = await connect(url(), version, {
        ...opts,
        clean: false,
        ...(v5 ? { properties: { sessionExpiryInterval: 300 } } : {}),
      });
      const other = await as(user);
      const closed = [nextServerDisconnect(a), nextServerDisconnect(b)];
      const before = t.edge.stats().sessions;
      expect(t.edge.revoke([cred])).toBe(2);
      const codes = await Promise.all(closed);
      if (v5) expect(codes).toEqual([0x98, 0x98]);
      expect(t.edge.stats().sessions).toBe(before - 2);
      expect(other.connected).toBe(true);
      // A CONNECT still authenticating when the revocation landed is refused.
      const slowCred = unique('tok_');
      const pending = refusalCode(url(), version, { username: `${user}@${ORG_A}`, password: `slow:200:${slowCred}` });
      await sleep(50);
      t.edge.revoke([slowCred]);
      expect(await pending).toBe(v5 ? 0x86 : 4);
    });

    it('closes a session when its credential expires (5.0: DISCONNECT 0xA0)', async () => {
      const c = await connect(url(), version, { username: `${unique('u')}@${ORG_A}`, password: 'expires:400' });
      const started = Date.now();
      const code = await nextServerDisconnect(c);
      expect(Date.now() - started).toBeLessThan(2000);
      if (v5) expect(code).toBe(0xa0);
      await whenClosed(c);
    });
  });
}
