/**
 * EdgeOptions.revoked: the deny set the authenticators consult is the edge's one revoked-set. A credential
 * in it is refused at CONNECT even when the authenticator accepts it (the race of an authentication with a
 * revocation), and revoke() keeps no memory of its own beside it.
 */
import { MqttEdge } from './edge';
import { connect, endAllClients, ORG_A, refusalCode, TestAuthenticator, UNLIMITED_CONNECT_RATE } from './testing/helpers';

const denied = new Set<string>();
let edge: MqttEdge;
let url: string;

beforeAll(async () => {
  edge = new MqttEdge({ authenticator: new TestAuthenticator(), limits: { sweepIntervalMs: 50, ...UNLIMITED_CONNECT_RATE }, revoked: denied });
  url = `mqtt://127.0.0.1:${(await edge.listenTcp(0, '127.0.0.1')).port}`;
});

afterAll(async () => {
  await endAllClients();
  await edge.close();
});

it.each([4, 5] as const)('refuses a CONNECT whose credential is in the deny set (version %s)', async (version) => {
  denied.add('denied-cred');
  expect(await refusalCode(url, version, { username: `alice@${ORG_A}`, password: 'good:denied-cred' })).toBe(version === 5 ? 0x86 : 4);
});

it('remembers nothing of revoke() beside the deny set', async () => {
  expect(edge.revoke(['revoked-not-denied'])).toBe(0);
  const client = await connect(url, 5, { username: `alice@${ORG_A}`, password: 'good:revoked-not-denied' });
  expect(client.connected).toBe(true);
});
