/**
 * A revoke of a few sessions (one token: usually one) writes the DISCONNECT
 * and ends the socket inside revoke() itself, instead of leaving both to the
 * broker's next batched flush (setImmediate): the revoke-to-disconnect latency.
 */
import { connect, nextServerDisconnect, ORG_A, useEdge, type TestEdge, type Transport } from './testing/helpers';

let t: TestEdge;

useEdge((edge) => (t = edge));

it.each<Transport>(['tcp', 'ws'])('%s: the revoked client gets DISCONNECT 0x98 and its close without the batched flush', async (transport) => {
  const credential = `inline-${transport}`;
  const client = await connect(t.url(transport), 5, { username: `alice@${ORG_A}`, password: `good:${credential}` });
  const disconnected = nextServerDisconnect(client);
  // Hold back every setImmediate scheduled during revoke() (the broker's batched flush among them):
  // only what revoke() writes and ends itself can reach the client.
  const held: Array<() => void> = [];
  const spy = jest.spyOn(global, 'setImmediate').mockImplementation(((fn: () => void) => {
    held.push(fn);
    return {} as NodeJS.Immediate;
  }) as unknown as typeof setImmediate);
  try {
    expect(t.edge.revoke([credential])).toBe(1);
  } finally {
    spy.mockRestore();
  }
  try {
    expect(await disconnected).toBe(0x98);
  } finally {
    for (const fn of held) fn();
  }
});
