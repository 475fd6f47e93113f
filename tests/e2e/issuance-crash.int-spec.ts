/**
 * Nothing acknowledged is lost: the all-in-one is killed (SIGKILL, no
 * shutdown hook runs) in the middle of a burst of POST /v1/tokens; after a
 * restart on the same state, every credential a client received is valid and
 * listed, and nothing is listed that a client was refused. A request whose
 * answer the kill cut off may or may not have committed: its token may be
 * listed (durable, never handed out), but only once and only for that request.
 */
import { TokenApi } from '../support/api';
import { BACKENDS, testEnv, type Backend } from '../support/signet';
import { SpawnedApp } from '../support/spawn';

const IN_FLIGHT = 32;
/** Answers received before the kill; the kill then lands with IN_FLIGHT requests under way. */
const KILL_AFTER = 60;

interface Outcome {
  userId: string;
  /** 201: the credentials the client got. */
  issued?: { tokenId: string; password: string };
  /** Another answer (a problem), or null when the connection died without one. */
  refused?: number | null;
}

async function listAll(api: TokenApi): Promise<{ id: string; userId: string }[]> {
  const out: { id: string; userId: string }[] = [];
  let cursor: string | null = null;
  do {
    const res = await api.call('GET', `/v1/tokens?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.status).toBe(200);
    for (const t of res.body['tokens'] as { token_id: string; user_id: string }[]) out.push({ id: t.token_id, userId: t.user_id });
    cursor = res.body['next_cursor'] as string | null;
  } while (cursor);
  return out;
}

describe.each(BACKENDS)('SIGKILL during an issuance burst (%s)', (_name, makeBackend) => {
  let backend: Backend;
  let app: SpawnedApp | undefined;

  beforeAll(async () => {
    backend = await makeBackend('issuance_crash');
  });
  afterEach(async () => {
    await app?.stop('SIGKILL');
    app = undefined;
  });
  afterAll(() => backend.cleanup());

  it('keeps every credential it returned, valid and listed, and lists nothing it refused', async () => {
    const env = testEnv({ ...backend.env, SIGNET_LOG_LEVEL: 'warn' });
    app = await SpawnedApp.start('signet', env).ready();
    const key = /^(sk_\S+)$/m.exec(app.stdout)?.[1];
    expect(key).toBeDefined();
    const api = new TokenApi(`http://127.0.0.1:${app.port('HTTP API')}`, key);

    const outcomes: Outcome[] = [];
    let answered = 0;
    let n = 0;
    let killed = false;
    const victim = app;
    // Requests keep going until the process is gone, so the kill always cuts some off: stopping at the kill
    // let a fast server answer every one still in flight before it died.
    let gone = false;
    void victim.exited.then(() => (gone = true));
    const worker = async (): Promise<void> => {
      while (!gone) {
        const outcome: Outcome = { userId: `crash_u${n++}` };
        outcomes.push(outcome);
        try {
          const res = await api.call('POST', '/v1/tokens', { user_id: outcome.userId, ttl_seconds: 3600 });
          if (res.status === 201) {
            outcome.issued = { tokenId: res.body['token_id'] as string, password: (res.body['mqtt_credentials'] as { password: string }).password };
          } else {
            outcome.refused = res.status;
          }
        } catch {
          outcome.refused = null;
        }
        if (++answered === KILL_AFTER && !killed) {
          killed = true;
          victim.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    await victim.exited;
    app = undefined;
    const issued = outcomes.filter((o) => o.issued);
    // The kill landed mid-burst: some requests were answered, some were cut off.
    expect(issued.length).toBeGreaterThanOrEqual(KILL_AFTER - IN_FLIGHT);
    expect(outcomes.some((o) => o.refused === null)).toBe(true);

    app = await SpawnedApp.start('signet', env).ready();
    const after = new TokenApi(`http://127.0.0.1:${app.port('HTTP API')}`, key);
    const listed = await listAll(after);
    const listedIds = new Set(listed.map((t) => t.id));

    for (const o of issued) {
      expect(listedIds.has(o.issued!.tokenId)).toBe(true);
      const introspection = await after.call('POST', '/v1/tokens/introspect', { token: o.issued!.password });
      expect(introspection.body).toEqual(expect.objectContaining({ active: true, sub: o.userId, jti: o.issued!.tokenId }));
    }
    // Everything listed belongs to one request of the burst: its answer, or a request the kill cut off.
    const byUser = new Map(outcomes.map((o) => [o.userId, o]));
    const listedUsers = listed.map((t) => t.userId);
    expect(new Set(listedUsers).size).toBe(listedUsers.length);
    for (const t of listed) {
      const o = byUser.get(t.userId);
      expect(o).toBeDefined();
      if (o!.issued) expect(t.id).toBe(o!.issued.tokenId);
      else expect(o!.refused).toBeNull();
    }
  }, 120_000);
});
