import { InProcessClusterHub, type ClusterNode, type SessionRecord } from '@signet/mqtt-cluster';

import { LiveSessions } from '../session-directory';
import { KickSessionUseCase } from './kick/kick.usecase';
import { ListSessionsUseCase } from './list/list.usecase';

const record = (clientId: string, userId: string): SessionRecord => ({
  clientId,
  userId,
  username: `${userId}@org_1`,
  credentialKind: 'token',
  credentialId: `tok_${userId}`,
  edgeId: 'edge-a',
  address: '127.0.0.1',
  transport: 'tcp',
  protocolVersion: 5,
  connectedAt: 0,
});

describe('live sessions use cases (over the in-process registry)', () => {
  const kicks: string[] = [];
  const node: ClusterNode = {
    deliver: () => undefined,
    routeChanged: () => undefined,
    edgeGone: () => undefined,
    takenOver: () => undefined,
    rejoined: () => undefined,
    kick: (orgId, clientId) => kicks.push(`${orgId}/${clientId}`),
    durable: () => undefined,
  };
  const hub = new InProcessClusterHub();
  const bus = hub.bus('edge-a');
  const live = new LiveSessions();
  const list = new ListSessionsUseCase(live);
  const kick = new KickSessionUseCase(live);

  beforeAll(async () => {
    await bus.start(node);
    for (const [id, user] of [['c1', 'u1'], ['c2', 'u2'], ['c3', 'u1']]) bus.claim('org_1', id, `token:${user}`, { session: record(id, user) });
  });
  afterAll(() => bus.close());

  it('has nothing to list or kick before the composition gives it a directory', async () => {
    expect(await list.execute({ orgId: 'org_1' })).toEqual({ sessions: [], nextCursor: null });
    await expect(kick.execute({ orgId: 'org_1', clientId: 'c1' })).rejects.toMatchObject({ status: 404, code: 'session_not_found' });
  });

  it('pages by an opaque cursor, filters by user and client id, and refuses what is not one', async () => {
    live.use(hub.sessions);
    const first = await list.execute({ orgId: 'org_1', limit: 2 });
    expect(first.sessions.map((s) => s.clientId)).toEqual(['c1', 'c2']);
    expect(first.nextCursor).not.toContain('c2');
    const second = await list.execute({ orgId: 'org_1', limit: 2, cursor: first.nextCursor! });
    expect([second.sessions.map((s) => s.clientId), second.nextCursor]).toEqual([['c3'], null]);
    expect((await list.execute({ orgId: 'org_1', userId: 'u1' })).sessions.map((s) => s.clientId)).toEqual(['c1', 'c3']);
    expect((await list.execute({ orgId: 'org_2' })).sessions).toEqual([]);
    await expect(list.execute({ orgId: 'org_1', cursor: 'garbage' })).rejects.toMatchObject({ status: 400, code: 'invalid_cursor' });
    await expect(list.execute({ orgId: 'org_1', clientId: 'a\u0000b' })).rejects.toMatchObject({ status: 400, code: 'invalid_client_id' });
    await expect(list.execute({ orgId: 'org_1', userId: '' })).rejects.toMatchObject({ status: 400, code: 'invalid_user_id' });
  });

  it('kicks on the edge that holds the client id; an unknown one is 404 session_not_found', async () => {
    live.use(hub.sessions);
    await kick.execute({ orgId: 'org_1', clientId: 'c2' });
    await new Promise((r) => setTimeout(r, 0));
    expect(kicks).toEqual(['org_1/c2']);
    await expect(kick.execute({ orgId: 'org_2', clientId: 'c2' })).rejects.toMatchObject({ status: 404, code: 'session_not_found' });
  });
});
