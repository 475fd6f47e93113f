/**
 * GET/DELETE /v1/sessions on the all-in-one, on both backends: embedded (no Redis: the process's own edge
 * answers from memory) and PostgreSQL + Redis (the registry the edge keeps in Redis with its claims). The
 * same wire behaviour on both: the live session listed with its credential, a kick closing it with 0x98,
 * 404 session_not_found after, scopes of restricted keys, bad input as problem+json.
 */
import type { MqttClient } from 'mqtt';

import type { SignetProcess } from '@signet/runtime';
import type { SessionDto } from '@signet/sessions';
import { waitFor } from '@signet/testing';

import { TokenApi } from '../support/api';
import { brokerUrl, connect, serverClosed } from '../support/mqtt';
import { Backend, BACKENDS, reach, startSignet } from '../support/signet';

describe.each(BACKENDS)('live sessions on the all-in-one (%s)', (label, makeBackend) => {
  let backend: Backend;
  let signet: SignetProcess;
  let api: TokenApi;
  let url: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    backend = await makeBackend(`sessions_${label.replace(/\W/g, '_')}`);
    signet = await startSignet(backend);
    const { anonymous, endpoints } = reach(signet);
    api = anonymous.withKey(signet.service!.bootstrap!.apiKey);
    url = brokerUrl(endpoints, 'tcp');
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await signet?.close();
    await backend?.cleanup();
  });

  const list = async (query = ''): Promise<SessionDto[]> => {
    const res = await api.call('GET', `/v1/sessions${query}`);
    expect(res.status).toBe(200);
    return (res.body as unknown as { sessions: SessionDto[] }).sessions;
  };

  it('lists a live session with its credential, and a kick closes it with 0x98', async () => {
    const creds = await api.issue({ user_id: 'meter-1' });
    const client = await connect(url, { ...creds.mqtt_credentials, clientId: 'meter-1-a', protocolVersion: 5, reconnectPeriod: 0 });
    clients.push(client);
    const [listed] = await list('?client_id=meter-1-a');
    expect(listed).toMatchObject({
      client_id: 'meter-1-a',
      user_id: 'meter-1',
      username: creds.mqtt_credentials.username,
      credential_kind: 'token',
      credential_id: creds.token_id,
      address: '127.0.0.1',
      transport: 'tcp',
      protocol_version: 5,
    });
    expect(typeof listed.edge_id).toBe('string');
    const closed = serverClosed(client);
    expect((await api.call('DELETE', '/v1/sessions/meter-1-a')).status).toBe(204);
    expect((await closed).reasonCode).toBe(0x98);
    await waitFor(async () => (await list('?user_id=meter-1')).length === 0, { timeoutMs: 5000, message: 'the kicked session unlisted' });
    const again = await api.call('DELETE', '/v1/sessions/meter-1-a');
    expect(again.status).toBe(404);
    expect(again.contentType).toContain('application/problem+json');
    expect(again.body).toMatchObject({ code: 'session_not_found' });
  });

  it('needs sessions:read to list and sessions:write to kick; bad input is problem+json', async () => {
    const make = async (scopes: string[]) => {
      const res = await api.call('POST', '/v1/keys', { name: `r-${scopes.join('-')}`, type: 'restricted', scopes });
      expect(res.status).toBe(201);
      return api.withKey(res.body['key'] as string);
    };
    const reader = await make(['sessions:read']);
    const tokensOnly = await make(['tokens:write']);
    expect((await reader.call('GET', '/v1/sessions')).status).toBe(200);
    expect((await reader.call('DELETE', '/v1/sessions/x')).body).toMatchObject({ code: 'insufficient_scope' });
    expect((await tokensOnly.call('GET', '/v1/sessions')).body).toMatchObject({ code: 'insufficient_scope' });
    expect((await (await make(['sessions:write'])).call('DELETE', '/v1/sessions/x')).body).toMatchObject({ code: 'session_not_found' });
    expect((await api.call('GET', '/v1/sessions?cursor=bm9wZQ')).body).toMatchObject({ code: 'invalid_cursor' });
    expect((await api.call('GET', '/v1/sessions?limit=101')).body).toMatchObject({ code: 'validation_failed' });
    expect((await api.call('GET', `/v1/sessions?client_id=${'x'.repeat(300)}`)).status).toBe(400);
    expect((await api.call('GET', '/v1/sessions?user_id=')).body).toMatchObject({ code: 'invalid_user_id' });
    expect((await api.call('DELETE', '/v1/sessions/%00')).body).toMatchObject({ code: 'invalid_client_id' });
  });
});
