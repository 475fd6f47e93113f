/**
 * Edge limits (issue 5): lengths and topic depth are checked before any
 * authentication work, and sockets per remote address are capped.
 */
import {
  connect,
  endAllClients,
  endClient,
  nextServerDisconnect,
  ORG_A,
  refusalCode,
  startEdge,
  waitFor,
  type TestEdge,
  type Version,
} from './testing/helpers';

const LIMITS = { maxClientIdLength: 32, maxUsernameLength: 40, maxPasswordLength: 64, maxTopicLength: 64, maxTopicLevels: 6 };
const user = `lim@${ORG_A}`;
const deep = 'users/lim/a/b/c/d/e'; // 7 levels
const long = `users/lim/${'x'.repeat(60)}`;

let t: TestEdge;

beforeAll(async () => {
  t = await startEdge(LIMITS);
});

afterAll(async () => {
  await endAllClients();
  await t.close();
});

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
