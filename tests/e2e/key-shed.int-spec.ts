/**
 * A CONNECT shed because key verification is overloaded (issue 18, finding 2: "load shed as 503/0x89"):
 * on the all-in-one with one uncached key check allowed at a time, simultaneous CONNECTs with wrong
 * secrets for distinct real keys each either get their bcrypt check (bad credentials) or are shed with
 * Server busy — 0x89 for MQTT 5, 3 for 3.1.1 — never 0x88, which stays for a dependency that cannot answer.
 */
import { parseApiKey, newApiKey } from '@signet/credentials';
import type { SignetProcess } from '@signet/runtime';

import type { TokenApi } from '../support/api';
import { brokerUrl, refusalCode } from '../support/mqtt';
import { Backend, reach, realBackend, startSignet } from '../support/signet';

jest.setTimeout(60_000);

const KEYS = 12;

describe('CONNECTs shed by overloaded key verification (all-in-one, real mqtt client)', () => {
  let backend: Backend;
  let signet: SignetProcess;
  let admin: TokenApi;
  let orgId: string;
  const names: string[] = [];
  const keyIds: string[] = [];

  beforeAll(async () => {
    backend = await realBackend('key_shed');
    signet = await startSignet(backend, { SIGNET_KEY_MAX_CONCURRENT_CHECKS: '1' });
    admin = reach(signet).anonymous.withKey(signet.service!.bootstrap!.apiKey);
    orgId = signet.service!.bootstrap!.orgId;
    for (let i = 0; i < KEYS; i++) {
      const res = await admin.call('POST', '/v1/keys', { name: `shed-${i}`, type: 'secret' });
      expect(res.status).toBe(201);
      names.push(`shed-${i}`);
      keyIds.push(parseApiKey(res.body['key'] as string)!.keyId);
    }
  });
  afterAll(async () => {
    await signet?.close();
    await backend?.cleanup();
  });

  it.each([5, 4] as const)('answers Server busy, not Server unavailable, for MQTT %i', async (protocolVersion) => {
    const url = brokerUrl(reach(signet).endpoints, 'tcp');
    // A wrong secret per real key id: each needs a bcrypt check of its own, none is cached.
    const codes = await Promise.all(
      keyIds.map((keyId, i) => refusalCode(url, { username: `${names[i]}@${orgId}`, password: newApiKey('secret', keyId).key, protocolVersion })),
    );
    const [bad, busy] = protocolVersion === 5 ? [0x86, 0x89] : [4, 3];
    expect(codes.filter((c) => c !== bad && c !== busy)).toEqual([]);
    expect(codes.filter((c) => c === busy).length).toBeGreaterThan(0);
    expect(codes.filter((c) => c === bad).length).toBeGreaterThan(0);
  });

  it('counts the shed CONNECTs as server_busy', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${signet.ports.http}/metrics`)).text();
    expect(metrics).toMatch(/signet_mqtt_auth_decisions_total\{step="api_key",result="server_busy"\} [1-9]/);
  });
});
