import { InProcessClusterBus, InProcessClusterHub } from '@signet/mqtt-cluster';
import { MqttEdge } from './edge';
import { clusterSuite, CountingBus } from './testing/cluster-suite';
import { collect, connect, endAllClients, ORG_A, TestAuthenticator, UNLIMITED_CONNECT_RATE, waitFor } from './testing/helpers';

clusterSuite('in-process', async () => {
  const hub = new InProcessClusterHub({ leaseMs: 400 });
  return { bus: (edgeId) => hub.bus(edgeId), leaseMs: hub.leaseMs, close: async () => undefined };
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
});
