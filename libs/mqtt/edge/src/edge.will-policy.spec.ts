/**
 * The org's will policy on revoke and credential expiry (`Principal.willOnEnd`:
 * publish, or suppress by default), and what a revoke does to persistent
 * session state. Other closes (socket loss) keep publishing wills.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Packet } from 'mqtt-packet';
import {
  collect,
  connect,
  endClient,
  ORG_A,
  sleep,
  unique,
  useEdge,
  waitFor,
  whenClosed,
  type Received,
  type TestEdge,
  type Version,
} from './testing/helpers';

let t: TestEdge;

// One message in flight per session: a second QoS 1 message is queued while online.
useEdge((edge) => (t = edge), { maxInflight: 1 });

/** Long enough for a will routed during revoke() or the sweep to reach a local subscriber. */
const SETTLE_MS = 300;

/** A subscriber of another user (admin, `#`) on `topic`. */
async function watch(topic: string): Promise<Received[]> {
  const admin = await connect(t.url('tcp'), 5, { username: `admin@${ORG_A}`, password: 'good' });
  const received = collect(admin);
  await admin.subscribeAsync(topic, { qos: 1 });
  return received;
}

/** alice, with a will on `topic`; `password` as TestAuthenticator reads it (`+will`: the org publishes wills). */
function connectWithWill(version: Version, password: string, topic: string, options: IClientOptions = {}): Promise<MqttClient> {
  return connect(t.url('tcp'), version, {
    username: `alice@${ORG_A}`,
    password,
    will: { topic, payload: Buffer.from('gone'), qos: 1, retain: false },
    ...options,
  });
}

const willTopic = (): string => `users/alice/${unique('will-')}`;

describe.each([4, 5] as const)('will policy, MQTT %s', (version) => {
  it.each([
    ['publish', '+will', 1],
    ['suppress (the default)', '', 0],
  ])('revoke with policy %s: the will goes out only when the org says so', async (_policy, suffix, expected) => {
    const topic = willTopic();
    const credential = unique('cred-');
    const received = await watch(topic);
    const client = await connectWithWill(version, `good:${credential}${suffix}`, topic);
    const closed = whenClosed(client);
    expect(t.edge.revoke([credential])).toBe(1);
    await closed;
    await sleep(SETTLE_MS);
    expect(received.map((m) => [m.topic, m.payload])).toEqual(expected ? [[topic, 'gone']] : []);
  });

  it.each([
    ['publish', '+will', 1],
    ['suppress (the default)', '', 0],
  ])('credential expiry with policy %s: the will goes out only when the org says so', async (_policy, suffix, expected) => {
    const topic = willTopic();
    const received = await watch(topic);
    const client = await connectWithWill(version, `expires:400${suffix}`, topic);
    await whenClosed(client);
    await sleep(SETTLE_MS);
    expect(received.map((m) => [m.topic, m.payload])).toEqual(expected ? [[topic, 'gone']] : []);
  });

  it('takes the policy of the credential the session last re-authenticated with', async () => {
    const topic = willTopic();
    const first = unique('cred-');
    const second = unique('cred-');
    const received = await watch(topic);
    const client = await connectWithWill(version, `good:${first}`, topic);
    await client.subscribeAsync('$signet/auth/result', { qos: 0 });
    const result = new Promise<string>((resolve) => client.once('message', (_t, payload) => resolve(payload.toString())));
    await client.publishAsync('$signet/auth/refresh', `good:${second}+will`, { qos: 0 });
    expect(JSON.parse(await result)).toMatchObject({ ok: true, credential_id: second });
    const closed = whenClosed(client);
    expect(t.edge.revoke([second])).toBe(1);
    await closed;
    await waitFor(() => received.length === 1, 2000, 'the will');
  });

  it('still publishes the will on socket loss under the default policy', async () => {
    const topic = willTopic();
    const received = await watch(topic);
    const client = await connectWithWill(version, 'good', topic);
    client.stream.destroy();
    await waitFor(() => received.length === 1, 3000, 'the will');
    expect(received[0].payload).toBe('gone');
  });
});

describe('will policy with a 5.0 Will Delay Interval', () => {
  const delayed = { properties: { sessionExpiryInterval: 300 } } satisfies IClientOptions;
  const connectDelayed = (password: string, topic: string): Promise<MqttClient> =>
    connectWithWill(5, password, topic, {
      ...delayed,
      will: { topic, payload: Buffer.from('gone'), qos: 1, retain: false, properties: { willDelayInterval: 60 } },
    });

  it('publish: a revoked live session sends its will at once, not after the delay (the session ends)', async () => {
    const topic = willTopic();
    const credential = unique('cred-');
    const received = await watch(topic);
    const client = await connectDelayed(`good:${credential}+will`, topic);
    const closed = whenClosed(client);
    t.edge.revoke([credential]);
    await closed;
    await waitFor(() => received.length === 1, 2000, 'the will');
  });

  it.each([
    ['publish', '+will', 1],
    ['suppress (the default)', '', 0],
  ])('%s: the pending will of an offline session is sent at once on revoke, or dropped', async (_policy, suffix, expected) => {
    const topic = willTopic();
    const credential = unique('cred-');
    const received = await watch(topic);
    const client = await connectDelayed(`good:${credential}${suffix}`, topic);
    const closed = whenClosed(client);
    client.stream.destroy();
    await closed;
    await sleep(SETTLE_MS);
    expect(received).toEqual([]); // still waiting for its delay
    t.edge.revoke([credential]);
    await sleep(SETTLE_MS);
    expect(received.map((m) => m.payload)).toEqual(expected ? ['gone'] : []);
  });
});

describe.each([4, 5] as const)('a revoke ends the persistent session of the credential, MQTT %s', (version) => {
  // 3.1.1 clean session 0; 5.0 Clean Start 0 with a Session Expiry Interval.
  const persistent: IClientOptions = version === 5 ? { clean: false, properties: { sessionExpiryInterval: 300 } } : { clean: false };
  const topic = 'users/alice/queue';

  async function publishQos1(count: number): Promise<void> {
    const admin = await connect(t.url('tcp'), 5, { username: `admin@${ORG_A}`, password: 'good' });
    for (let i = 0; i < count; i++) await admin.publishAsync(topic, `m${i}`, { qos: 1 });
    await endClient(admin);
  }

  /** Reconnects as alice with a fresh credential and the same client id: Session Present, and what arrives. */
  async function reconnectFresh(clientId: string): Promise<{ sessionPresent: boolean; publishes: Packet[] }> {
    let sessionPresent: boolean | undefined;
    const publishes: Packet[] = [];
    const client = await connect(
      t.url('tcp'),
      version,
      { clientId, username: `alice@${ORG_A}`, password: `good:${unique('fresh-')}`, ...persistent },
      (c) => {
        c.once('connect', (connack) => (sessionPresent = connack.sessionPresent));
        c.on('packetreceive', (p) => {
          if (p.cmd === 'publish') publishes.push(p);
        });
      },
    );
    // Nothing queued arrives, and nothing new either: the subscription is gone with the session.
    await sleep(SETTLE_MS);
    await publishQos1(1);
    await sleep(SETTLE_MS);
    await endClient(client);
    return { sessionPresent: sessionPresent!, publishes };
  }

  it('revoked while offline: the queued QoS 1 message and the subscription are gone (Session Present 0)', async () => {
    const clientId = unique('persist-');
    const credential = unique('cred-');
    const client = await connect(t.url('tcp'), version, { clientId, username: `alice@${ORG_A}`, password: `good:${credential}`, ...persistent });
    await client.subscribeAsync(topic, { qos: 1 });
    await endClient(client);
    await publishQos1(2);
    expect(t.edge.revoke([credential])).toBe(0);
    expect(await reconnectFresh(clientId)).toEqual({ sessionPresent: false, publishes: [] });
  });

  it('revoked while online: the unacknowledged and the queued QoS 1 messages are not resent (Session Present 0)', async () => {
    const clientId = unique('persist-');
    const credential = unique('cred-');
    const publishes: Packet[] = [];
    const client = await connect(
      t.url('tcp'),
      version,
      { clientId, username: `alice@${ORG_A}`, password: `good:${credential}`, ...persistent },
      (c) => {
        c.on('packetreceive', (p) => {
          if (p.cmd === 'publish') publishes.push(p);
        });
        // Never acknowledges (mqtt.js sends PUBACK once handleMessage calls back): the first message
        // stays in flight, the second is queued (maxInflight 1).
        c.handleMessage = () => undefined;
      },
    );
    await client.subscribeAsync(topic, { qos: 1 });
    await publishQos1(2);
    await waitFor(() => publishes.length === 1, 2000, 'the first message in flight');
    const closed = whenClosed(client);
    expect(t.edge.revoke([credential])).toBe(1);
    await closed;
    expect(await reconnectFresh(clientId)).toEqual({ sessionPresent: false, publishes: [] });
  });

  it('(control) without a revoke, the same reconnect resumes the session and gets the queued message', async () => {
    const clientId = unique('persist-');
    const client = await connect(t.url('tcp'), version, { clientId, username: `alice@${ORG_A}`, password: `good:${unique('cred-')}`, ...persistent });
    await client.subscribeAsync(topic, { qos: 1 });
    await endClient(client);
    await publishQos1(1);
    const resumed = await reconnectFresh(clientId);
    expect(resumed.sessionPresent).toBe(true);
    expect(resumed.publishes.map((p) => (p.cmd === 'publish' ? p.payload.toString() : ''))).toEqual(['m0', 'm0']);
  });
});
