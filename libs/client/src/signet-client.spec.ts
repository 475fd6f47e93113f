/**
 * SignetClient's decisions against a scripted MQTT.js client and a manual
 * clock: when it refreshes, what it sends, and that a revocation costs one
 * getCredentials() call and no reconnect loop. The real broker is in
 * tests/e2e/client-sdk.int-spec.ts.
 */
import { EventEmitter } from 'node:events';

import type { IClientOptions, MqttClient, Packet } from 'mqtt';

import { Clock, CredentialsReason, SignetClient, SignetClientOptions, SignetCredentials } from './signet-client';
import { SignetClientError } from './errors';

class ManualClock implements Clock {
  private t = 1_700_000_000_000;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private ids = 0;
  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.ids;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (handle: unknown): void => void this.timers.delete(handle as number);
  /** Runs every timer due within `ms`, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.t);
  }
}

class FakeMqtt extends EventEmitter {
  connected = false;
  sent: Packet[] = [];
  published: { topic: string; payload: string; opts: unknown }[] = [];
  subscribed: string[] = [];
  ended = 0;
  reconnects = 0;
  constructor(readonly options: IClientOptions) {
    super();
  }
  _sendPacket(packet: Packet): void {
    this.sent.push(packet);
  }
  publish(topic: string, payload: string, opts: unknown): this {
    this.published.push({ topic, payload, opts });
    return this;
  }
  subscribe(topic: string, _opts: unknown, cb: (err: Error | null) => void): this {
    this.subscribed.push(topic);
    cb(null);
    return this;
  }
  end(): this {
    this.ended++;
    this.connected = false;
    return this;
  }
  endAsync(): Promise<void> {
    this.end();
    return Promise.resolve();
  }
  reconnect(): this {
    this.reconnects++;
    return this;
  }
  // What the broker does, scripted by the test:
  accept(): void {
    this.connected = true;
    this.emit('connect', { cmd: 'connack', returnCode: 0, sessionPresent: false });
  }
  refuse(code: number): void {
    this.emit('error', Object.assign(new Error('Connection refused: Not authorized'), { code }));
  }
  serverDisconnect(reasonCode: number): void {
    this.emit('disconnect', { cmd: 'disconnect', reasonCode });
    this.connected = false;
    this.emit('close');
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

interface Harness {
  sdk: SignetClient;
  fake: () => FakeMqtt;
  clock: ManualClock;
  reasons: CredentialsReason[];
  events: string[];
  errors: SignetClientError[];
  issued: SignetCredentials[];
  failNext: { value: boolean };
}

function harness(protocolVersion: 4 | 5, extra: Partial<SignetClientOptions> = {}): Harness {
  const clock = new ManualClock();
  const reasons: CredentialsReason[] = [];
  const events: string[] = [];
  const errors: SignetClientError[] = [];
  const issued: SignetCredentials[] = [];
  const failNext = { value: false };
  let fake: FakeMqtt | undefined;
  const sdk = new SignetClient({
    url: 'mqtt://broker',
    mqtt: { protocolVersion, clientId: 'c1' },
    clock,
    random: () => 0,
    policy: { minLeadMs: 1_000 },
    getCredentials: async (reason) => {
      reasons.push(reason);
      if (failNext.value) throw new Error('backend down');
      const creds = {
        username: 'alice@org_k7xm4pqr2n5t',
        password: `tkn_secret${issued.length}`,
        expires_at: new Date(clock.now() + 100_000).toISOString(),
      };
      issued.push(creds);
      return creds;
    },
    connect: (_url, options) => (fake = new FakeMqtt(options)) as unknown as MqttClient,
    ...extra,
  });
  for (const e of ['refreshed', 'revoked', 'expired', 'stopped', 'connect'] as const) sdk.on(e, () => events.push(e));
  sdk.on('error', (err) => errors.push(err));
  return { sdk, fake: () => fake!, clock, reasons, events, errors, issued, failNext };
}

async function started(h: Harness): Promise<FakeMqtt> {
  const p = h.sdk.start();
  await flush();
  h.fake().accept();
  await p;
  return h.fake();
}

const noSecrets = (h: Harness): void => {
  const text = JSON.stringify(h.errors.map((e) => [e.message, e.code, String(e.cause)]));
  expect(text).not.toMatch(/tkn_/);
};

describe('SignetClient over MQTT 5 (AUTH)', () => {
  it('connects with the token as password and names signet-token at CONNECT', async () => {
    const h = harness(5);
    const fake = await started(h);
    expect(fake.options).toMatchObject({
      username: 'alice@org_k7xm4pqr2n5t',
      password: 'tkn_secret0',
      protocolVersion: 5,
      clientId: 'c1',
      reconnectOnConnackError: false,
      properties: { authenticationMethod: 'signet-token' },
    });
    expect(h.reasons).toEqual(['connect']);
    expect(h.sdk.state).toBe('connected');
  });

  it('refreshes at the scheduled point with AUTH 0x19, keeps the session, and stores the token for reconnects', async () => {
    const h = harness(5);
    const fake = await started(h);
    // 100 s token, random 0: 75 s.
    expect(h.clock.pending()).toEqual([75_000]);
    h.clock.advance(74_999);
    expect(h.reasons).toEqual(['connect']);
    h.clock.advance(1);
    await flush();
    expect(h.reasons).toEqual(['connect', 'refresh']);
    expect(fake.sent).toEqual([
      { cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'signet-token', authenticationData: 'tkn_secret1' } },
    ]);
    // Not adopted before the broker says yes.
    expect(fake.options.password).toBe('tkn_secret0');
    const refreshed = new Promise((resolve) => h.sdk.once('refreshed', resolve));
    fake.emit('packetreceive', { cmd: 'auth', reasonCode: 0, properties: { authenticationMethod: 'signet-token' } });
    expect(await refreshed).toEqual({ expiresAt: new Date(Date.parse(h.issued[1].expires_at as string)), via: 'auth' });
    expect(fake.options.password).toBe('tkn_secret1');
    expect(h.sdk.connectCount).toBe(1);
    expect(fake.reconnects).toBe(0);
    // The next one is scheduled from the new token.
    expect(h.clock.pending()).toEqual([75_000]);
  });

  it('a refused new token (DISCONNECT 0x87) is an error, keeps the old token and retries with backoff', async () => {
    const h = harness(5);
    const fake = await started(h);
    h.clock.advance(75_000);
    await flush();
    fake.serverDisconnect(0x87);
    expect(h.errors.map((e) => [e.code, e.reasonCode])).toEqual([['refresh_rejected', 0x87]]);
    expect(fake.options.password).toBe('tkn_secret0');
    expect(h.clock.pending()).toEqual([500]);
    noSecrets(h);
  });

  it('no verdict in time: refresh_timeout, then a retry', async () => {
    const h = harness(5, { refreshTimeoutMs: 2_000 });
    await started(h);
    h.clock.advance(75_000);
    await flush();
    h.clock.advance(2_000);
    await flush();
    expect(h.errors.map((e) => e.code)).toEqual(['refresh_timeout']);
    h.clock.advance(500);
    await flush();
    expect(h.reasons).toEqual(['connect', 'refresh', 'refresh']);
  });

  it('failed refreshes back off and never spin, also once the token has run out', async () => {
    const h = harness(5);
    await started(h);
    h.failNext.value = true;
    h.clock.advance(75_000);
    await flush();
    // Backoff 500, 1000, 2000, … ms: over the next 60 s, a handful of calls, not thousands.
    for (let i = 0; i < 600; i++) {
      h.clock.advance(100);
      await flush();
    }
    const refreshes = h.reasons.filter((r) => r === 'refresh').length;
    expect(refreshes).toBeGreaterThanOrEqual(3);
    expect(refreshes).toBeLessThanOrEqual(12);
    expect(h.clock.pending().every((ms) => ms > 0)).toBe(true);
  });

  it('offline when the refresh is due: the new token waits for the next CONNECT', async () => {
    const h = harness(5);
    const fake = await started(h);
    fake.connected = false;
    fake.emit('close');
    h.clock.advance(75_000);
    await flush();
    expect(fake.sent).toEqual([]);
    expect(fake.options.password).toBe('tkn_secret1');
    expect(h.events).toContain('refreshed');
  });

  it('revoked (DISCONNECT 0x98): one getCredentials(), one reconnect with the new token', async () => {
    const h = harness(5);
    const fake = await started(h);
    fake.serverDisconnect(0x98);
    await flush();
    expect(h.events).toEqual(['connect', 'revoked']);
    expect(h.reasons).toEqual(['connect', 'revoked']);
    expect(fake.ended).toBe(1);
    expect(fake.reconnects).toBe(1);
    expect(fake.options.password).toBe('tkn_secret1');
    fake.accept();
    expect(h.sdk.state).toBe('connected');
    expect(h.sdk.connectCount).toBe(2);
  });

  it('revoked and the new credentials are refused too: stops, no loop', async () => {
    const h = harness(5);
    const fake = await started(h);
    fake.serverDisconnect(0x98);
    await flush();
    fake.refuse(0x87);
    await flush();
    expect(h.errors.map((e) => e.code)).toEqual(['credentials_rejected']);
    expect(h.sdk.state).toBe('stopped');
    expect(h.reasons).toEqual(['connect', 'revoked']);
    h.clock.advance(10 * 60_000);
    await flush();
    expect(h.reasons).toEqual(['connect', 'revoked']);
    expect(h.clock.pending()).toEqual([]);
    noSecrets(h);
  });

  it('revoked and getCredentials() fails: stops and reports', async () => {
    const h = harness(5);
    const fake = await started(h);
    h.failNext.value = true;
    fake.serverDisconnect(0x98);
    await flush();
    expect(h.errors.map((e) => e.code)).toEqual(['credentials_failed', 'credentials_failed']);
    expect(h.events).toEqual(['connect', 'revoked', 'stopped']);
    expect(fake.reconnects).toBe(0);
  });

  it('expired (DISCONNECT 0xA0) asks for credentials with reason expired', async () => {
    const h = harness(5);
    const fake = await started(h);
    fake.serverDisconnect(0xa0);
    await flush();
    expect(h.events).toEqual(['connect', 'expired']);
    expect(h.reasons).toEqual(['connect', 'expired']);
  });

  it('the first CONNECT refused: start() rejects, getCredentials() is not called again', async () => {
    const h = harness(5);
    const p = h.sdk.start();
    await flush();
    h.fake().refuse(0x87);
    await expect(p).rejects.toMatchObject({ code: 'credentials_rejected', reasonCode: 0x87 });
    expect(h.reasons).toEqual(['connect']);
  });

  it('a busy or unavailable edge (CONNACK 0x88/0x9F) is retried with backoff, not treated as a revocation', async () => {
    const h = harness(5);
    const fake = await started(h);
    (h.sdk as unknown as { cancelRefresh(): void }).cancelRefresh();
    fake.connected = false;
    fake.emit('close');
    fake.refuse(0x9f);
    expect(h.clock.pending()).toEqual([500]);
    h.clock.advance(500);
    expect(fake.reconnects).toBe(1);
    fake.refuse(0x88);
    expect(h.clock.pending()).toEqual([1_000]);
    expect(h.events).toEqual(['connect']);
    expect(h.reasons).toEqual(['connect']);
    expect(h.errors.map((e) => [e.code, e.reasonCode])).toEqual([
      ['mqtt_error', 0x9f],
      ['mqtt_error', 0x88],
    ]);
  });

  it('end() before the first CONNECT rejects start() and cancels everything', async () => {
    const h = harness(5);
    const p = h.sdk.start();
    await flush();
    await h.sdk.end(true);
    await expect(p).rejects.toMatchObject({ code: 'invalid_state' });
    expect(h.clock.pending()).toEqual([]);
    expect(h.events).toEqual(['stopped']);
  });

  it('getCredentials() returning the revoked token again stops instead of looping', async () => {
    const h = harness(5);
    const fake = await started(h);
    let calls = 0;
    const same = h.issued[0];
    (h.sdk as unknown as { options: SignetClientOptions }).options.getCredentials = async () => (calls++, same);
    fake.serverDisconnect(0x98);
    await flush();
    expect(calls).toBe(1);
    expect(h.errors.map((e) => e.code)).toEqual(['credentials_unchanged']);
    expect(fake.reconnects).toBe(0);
  });
});

describe('SignetClient over MQTT 3.1.1 (in-band topic)', () => {
  it('subscribes to the result topic, publishes the new token, adopts it on ok', async () => {
    const h = harness(4);
    const fake = await started(h);
    expect(fake.options.properties).toBeUndefined();
    expect(fake.subscribed).toEqual(['$signet/auth/result']);
    h.clock.advance(75_000);
    await flush();
    expect(fake.published).toEqual([{ topic: '$signet/auth/refresh', payload: 'tkn_secret1', opts: { qos: 0 } }]);
    const expiresAt = '2030-01-01T00:00:00.000Z';
    fake.emit('message', '$signet/auth/result', Buffer.from(JSON.stringify({ ok: true, credential_id: 'tok_1', expires_at: expiresAt })), {});
    expect(h.events).toEqual(['connect', 'refreshed']);
    expect(h.sdk.expiresAt?.toISOString()).toBe(expiresAt);
    expect(fake.options.password).toBe('tkn_secret1');
  });

  it('does not pass the result topic on as a message', async () => {
    const h = harness(4);
    const fake = await started(h);
    const topics: string[] = [];
    h.sdk.on('message', (t) => topics.push(t));
    fake.emit('message', '$signet/auth/result', Buffer.from('{"ok":false}'), {});
    fake.emit('message', 'users/alice/x', Buffer.from('hi'), {});
    expect(topics).toEqual(['users/alice/x']);
  });

  it('ok:false is refresh_rejected with the server error code', async () => {
    const h = harness(4);
    const fake = await started(h);
    h.clock.advance(75_000);
    await flush();
    fake.emit('message', '$signet/auth/result', Buffer.from('{"ok":false,"error":"invalid_token"}'), {});
    expect(h.errors.map((e) => [e.code, e.message])).toEqual([['refresh_rejected', 'the broker refused the new token: invalid_token']]);
    expect(fake.options.password).toBe('tkn_secret0');
  });

  it('a reconnect refused with CONNACK 5 reads as revoked: one getCredentials(), one reconnect', async () => {
    const h = harness(4);
    const fake = await started(h);
    fake.connected = false;
    fake.emit('close');
    fake.refuse(5);
    await flush();
    expect(h.events).toEqual(['connect', 'revoked']);
    expect(h.reasons).toEqual(['connect', 'revoked']);
    expect(fake.reconnects).toBe(1);
  });

  it('a reconnect refused after the token ran out reads as expired', async () => {
    const h = harness(4);
    const fake = await started(h);
    (h.sdk as unknown as { cancelRefresh(): void }).cancelRefresh();
    h.clock.advance(100_000);
    fake.connected = false;
    fake.emit('close');
    fake.refuse(4);
    await flush();
    expect(h.events).toEqual(['connect', 'expired']);
  });
});
