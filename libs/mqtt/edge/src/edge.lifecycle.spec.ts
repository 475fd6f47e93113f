import * as net from 'node:net';
import { MqttEdge } from './edge';
import { connect, endAllClients, nextServerDisconnect, openRaw, ORG_A, TestAuthenticator, waitFor, type Transport } from './testing/helpers';

afterAll(endAllClients);

describe('MqttEdge lifecycle', () => {
  it('binds port 0 on both transports and reports the bound ports', async () => {
    const edge = new MqttEdge({ authenticator: new TestAuthenticator() });
    const tcp = await edge.listenTcp(0, '127.0.0.1');
    const ws = await edge.listenWebSocket(0, '127.0.0.1', '/custom');
    expect(tcp.port).toBeGreaterThan(0);
    expect(ws.port).toBeGreaterThan(0);
    const c = await connect(`ws://127.0.0.1:${ws.port}/custom`, 5, { username: `u@${ORG_A}`, password: 'good' });
    expect(c.connected).toBe(true);
    await edge.close();
  });

  it('rejects listening on a port in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as net.AddressInfo).port;
    const edge = new MqttEdge({ authenticator: new TestAuthenticator() });
    await expect(edge.listenTcp(port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await expect(edge.listenWebSocket(port, '127.0.0.1')).rejects.toThrow(`cannot listen for MQTT over WebSocket on 127.0.0.1:${port}`);
    await edge.close();
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  });

  it.each(['tcp', 'ws'] as Transport[])('close() sends 5.0 clients DISCONNECT 0x8B over %s and resolves when sockets are closed', async (transport) => {
    const edge = new MqttEdge({ authenticator: new TestAuthenticator() });
    const { port } = transport === 'tcp' ? await edge.listenTcp(0, '127.0.0.1') : await edge.listenWebSocket(0, '127.0.0.1');
    const url = transport === 'tcp' ? `mqtt://127.0.0.1:${port}` : `ws://127.0.0.1:${port}/mqtt`;
    const v5 = await connect(url, 5, { username: `u@${ORG_A}`, password: 'good' });
    const v4 = await connect(url, 4, { username: `u@${ORG_A}`, password: 'good' });
    const codes = [nextServerDisconnect(v5), nextServerDisconnect(v4)];
    // A socket that never sent CONNECT is closed too.
    const idle = await openRaw(port, transport);
    await waitFor(() => edge.stats().connections === 3);
    await edge.close();
    expect(await Promise.all(codes)).toEqual([0x8b, -1]);
    expect(edge.stats().connections).toBe(0);
    await idle.closed;
    await expect(edge.listenTcp(0)).rejects.toThrow(/closed/);
  });

  it('uses the injected clock for credential expiry (5.0: DISCONNECT 0xA0)', async () => {
    let now = 1_000_000;
    const clock = (): number => now;
    const edge = new MqttEdge({ authenticator: new TestAuthenticator(clock), now: clock, limits: { sweepIntervalMs: 1000 } });
    const { port } = await edge.listenTcp(0, '127.0.0.1');
    const c = await connect(`mqtt://127.0.0.1:${port}`, 5, { username: `u@${ORG_A}`, password: 'expires:5000' });
    const closed = nextServerDisconnect(c);
    now += 4000;
    edge.sweep();
    expect(c.connected).toBe(true);
    now += 2000;
    edge.sweep();
    expect(await closed).toBe(0xa0);
    await edge.close();
  });

  it('counts traffic in stats()', async () => {
    const edge = new MqttEdge({ authenticator: new TestAuthenticator() });
    const { port } = await edge.listenTcp(0, '127.0.0.1');
    const c = await connect(`mqtt://127.0.0.1:${port}`, 5, { username: `u@${ORG_A}`, password: 'good' });
    await c.subscribeAsync('users/u/#', { qos: 1 });
    await c.publishAsync('users/u/a', 'x', { qos: 1, retain: true });
    await new Promise((r) => setTimeout(r, 50));
    const s = edge.stats();
    expect(s).toMatchObject({ connections: 1, sessions: 1, messagesIn: 1, messagesOut: 1, retainedMessages: 1, subscriptions: 1, orgs: 1, connectsAccepted: 1 });
    expect(s.bytesIn).toBeGreaterThan(0);
    expect(s.bytesOut).toBeGreaterThan(0);
    await edge.close();
  });

  it('bounds the offline queue (maxQueuedMessages) and drains it through the inflight window', async () => {
    const edge = new MqttEdge({ authenticator: new TestAuthenticator(), limits: { maxQueuedMessages: 5, maxInflight: 2 } });
    const { port } = await edge.listenTcp(0, '127.0.0.1');
    const url = `mqtt://127.0.0.1:${port}`;
    const persistent = { username: `q@${ORG_A}`, password: 'good', clientId: 'queue-test', clean: false };
    const a = await connect(url, 4, persistent);
    await a.subscribeAsync('users/q/#', { qos: 1 });
    await new Promise<void>((resolve) => a.end(false, {}, () => resolve()));
    const pub = await connect(url, 4, { username: `q@${ORG_A}`, password: 'good' });
    for (let i = 0; i < 8; i++) await pub.publishAsync('users/q/n', String(i), { qos: 1 });
    expect(edge.stats().messagesDropped).toBe(3);
    const got: string[] = [];
    await connect(url, 4, persistent, (c) => c.on('message', (_t, p) => got.push(p.toString())));
    await waitFor(() => got.length === 5);
    expect(got).toEqual(['0', '1', '2', '3', '4']);
    await edge.close();
  });
});
