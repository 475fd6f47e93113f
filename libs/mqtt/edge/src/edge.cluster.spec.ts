import { InProcessClusterBus, InProcessClusterHub } from '@signet/mqtt-cluster';
import { MqttEdge } from './edge';
import { clusterSuite, CountingBus } from './testing/cluster-suite';
import { collect, connect, endAllClients, nextServerDisconnect, ORG_A, ORG_B, TestAuthenticator, UNLIMITED_CONNECT_RATE, waitFor } from './testing/helpers';

clusterSuite('in-process', async () => {
  const hub = new InProcessClusterHub({ leaseMs: 400 });
  return { bus: (edgeId) => hub.bus(edgeId), leaseMs: hub.leaseMs, sessions: hub.sessions, close: async () => undefined };
});

describe('a lone edge on the in-process bus (the embedded default)', () => {
  afterEach(() => endAllClients());

  it('never touches the bus: no routes, no sends, no claims', async () => {
    const bus = new CountingBus(new InProcessClusterBus('only'));
    let claims = 0;
    const claim = bus.claim.bind(bus);
    bus.claim = (...args) => {
      claims++;
      return claim(...args);
    };
    const edge = new MqttEdge({ authenticator: new TestAuthenticator(), limits: UNLIMITED_CONNECT_RATE, cluster: bus });
    const { port } = await edge.listenTcp(0, '127.0.0.1');
    try {
      const client = await connect(`mqtt://127.0.0.1:${port}`, 5, { username: `alice@${ORG_A}`, password: 'good' });
      const got = collect(client);
      await client.subscribeAsync('users/alice/#', { qos: 1 });
      await client.publishAsync('users/alice/x', 'hi', { qos: 1 });
      await waitFor(() => got.length === 1, 3000, 'local delivery');
      expect([bus.routeCalls, bus.sent, claims]).toEqual([0, 0, 0]);
      expect(edge.stats().remoteRoutes).toBe(0);
    } finally {
      await endAllClients();
      await edge.close();
    }
  });

  it('lists its own live sessions from memory and kicks one with 0x98 (the all-in-one without Redis)', async () => {
    const edge = new MqttEdge({ authenticator: new TestAuthenticator(), limits: UNLIMITED_CONNECT_RATE, cluster: new InProcessClusterBus('solo') });
    const { port } = await edge.listenTcp(0, '127.0.0.1');
    try {
      const url = `mqtt://127.0.0.1:${port}`;
      const alice = await connect(url, 5, { username: `alice@${ORG_A}`, password: 'good:tok_a', clientId: 'phone' });
      await connect(url, 4, { username: `bob@${ORG_A}`, password: 'good', clientId: 'bike' });
      await connect(url, 5, { username: `carol@${ORG_B}`, password: 'good', clientId: 'phone' });
      const all = await edge.sessions.list(ORG_A, { limit: 10 });
      expect(all.sessions.map((s) => [s.clientId, s.userId, s.edgeId, s.transport, s.protocolVersion])).toEqual([
        ['bike', 'bob', 'solo', 'tcp', 4],
        ['phone', 'alice', 'solo', 'tcp', 5],
      ]);
      expect(all.sessions[1]).toMatchObject({ credentialKind: 'token', credentialId: 'tok_a', username: `alice@${ORG_A}` });
      expect(await edge.sessions.list(ORG_A, { limit: 1 })).toMatchObject({ more: true, sessions: [{ clientId: 'bike' }] });
      expect((await edge.sessions.list(ORG_A, { limit: 1, after: 'bike' })).sessions.map((s) => s.clientId)).toEqual(['phone']);
      expect((await edge.sessions.list(ORG_A, { limit: 10, userId: 'alice' })).sessions.map((s) => s.clientId)).toEqual(['phone']);
      const closed = nextServerDisconnect(alice);
      expect(await edge.sessions.kick(ORG_A, 'phone')).toBe(true);
      expect(await closed).toBe(0x98);
      expect(await edge.sessions.kick(ORG_A, 'phone')).toBe(false);
      expect((await edge.sessions.list(ORG_A, { limit: 10 })).sessions.map((s) => s.clientId)).toEqual(['bike']);
      expect((await edge.sessions.list(ORG_B, { limit: 10 })).sessions.map((s) => s.clientId)).toEqual(['phone']);
    } finally {
      await endAllClients();
      await edge.close();
    }
  });
});
