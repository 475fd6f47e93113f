import { randomBytes } from 'node:crypto';

import type { SignetProcess } from '@signet/runtime';

import { connect } from '../support/mqtt';
import { Backend, realBackend, startSignet } from '../support/signet';

jest.setTimeout(60_000);

/*
 * Idempotency-Key on the two endpoints that create credentials, through the all-in-one on PostgreSQL:
 * a retried POST gives back the same credential (and it works on MQTT), never a second one.
 */
describe('Idempotency-Key on POST /v1/tokens and POST /v1/keys (PostgreSQL)', () => {
  let backend: Backend;
  let signet: SignetProcess;
  let base: string;
  let apiKey: string;

  beforeAll(async () => {
    backend = await realBackend('idempotency');
    signet = await startSignet(backend);
    base = `http://127.0.0.1:${signet.ports.http}`;
    apiKey = signet.service!.bootstrap!.apiKey;
  });
  afterAll(async () => {
    await signet?.close();
    await backend?.cleanup();
  });

  async function post(path: string, body: unknown, idempotencyKey?: string) {
    const headers: Record<string, string> = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const res = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: (await res.json()) as Record<string, unknown> };
  }

  it('POST /v1/tokens retried with the same key: the same token, once, and it connects', async () => {
    const user = `idem-${randomBytes(4).toString('hex')}`;
    const key = randomBytes(16).toString('hex');
    const first = await post('/v1/tokens', { user_id: user }, key);
    const retry = await post('/v1/tokens', { user_id: user }, key);
    expect(first.status).toBe(201);
    expect(retry).toMatchObject({ status: 201, replayed: 'true' });
    expect(retry.body).toEqual(first.body);

    const list = await fetch(`${base}/v1/tokens?user_id=${user}`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(((await list.json()) as { tokens: unknown[] }).tokens).toHaveLength(1);

    const creds = retry.body['mqtt_credentials'] as { username: string; password: string };
    const client = await connect(`mqtt://127.0.0.1:${signet.ports.mqtt}`, { username: creds.username, password: creds.password, protocolVersion: 5 });
    client.end(true);

    const other = await post('/v1/tokens', { user_id: `${user}-b` }, key);
    expect(other).toMatchObject({ status: 422, body: { code: 'idempotency_key_reused' } });
  });

  it('POST /v1/keys retried with the same key: the same API key, once', async () => {
    const key = randomBytes(16).toString('hex');
    const name = `idem-${randomBytes(4).toString('hex')}`;
    const first = await post('/v1/keys', { name, type: 'secret' }, key);
    const retry = await post('/v1/keys', { name, type: 'secret' }, key);
    expect(first.status).toBe(201);
    expect(retry).toMatchObject({ status: 201, replayed: 'true' });
    expect(retry.body['id']).toBe(first.body['id']);
    expect(retry.body['key']).toBe(first.body['key']);
    // Without the header, the same body creates another key: idempotency is opt-in per request.
    expect((await post('/v1/keys', { name: `${name}-2`, type: 'secret' })).body['id']).not.toBe(first.body['id']);
  });
});
