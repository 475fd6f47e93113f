/**
 * Failed CONNECTs throttled per address for every credential kind (issue 18,
 * finding 8), end to end on the all-in-one with the real `mqtt` client: after
 * SIGNET_MQTT_AUTH_FAILURES_PER_IP refusals, forged `tkn_` and `sk_` guesses
 * from the address get 0x88 without work, while valid credentials from the
 * same address (a victim behind the attacker's NAT) still connect.
 */
import { randomBytes } from 'node:crypto';

import type { SignetProcess } from '@signet/runtime';

import { TokenApi } from '../support/api';
import { brokerUrl, connect, refusalCode } from '../support/mqtt';
import { Backend, reach, realBackend, startSignet } from '../support/signet';

jest.setTimeout(60_000);

const LIMIT = 10;

describe('failed-CONNECT throttle per address (all-in-one, real mqtt client)', () => {
  let backend: Backend;
  let signet: SignetProcess;
  let admin: TokenApi;
  let orgId: string;

  beforeAll(async () => {
    backend = await realBackend('throttle');
    signet = await startSignet(backend, { SIGNET_MQTT_AUTH_FAILURES_PER_IP: String(LIMIT), SIGNET_MQTT_AUTH_FAILURE_WINDOW_MS: '600000' });
    admin = reach(signet).anonymous.withKey(signet.service!.bootstrap!.apiKey);
    orgId = signet.service!.bootstrap!.orgId;
  });
  afterAll(async () => {
    await signet?.close();
    await backend?.cleanup();
  });

  it('guesses of any kind slow to 0x88 after the limit; valid tokens and known credentials still connect', async () => {
    const url = brokerUrl(reach(signet).endpoints, 'tcp');
    const known = await admin.issue({ user_id: 'victim' });
    (await connect(url, { ...known.mqtt_credentials, protocolVersion: 5 })).end(true);

    const codes: (number | undefined)[] = [];
    for (let i = 0; i < 3 * LIMIT; i++) {
      const password = i % 2 === 0 ? `tkn_${randomBytes(24).toString('base64url')}` : `sk_${randomBytes(24).toString('base64url')}`;
      codes.push(await refusalCode(url, { username: `attacker@${orgId}`, password, protocolVersion: 5 }));
    }
    expect(codes.slice(0, LIMIT).every((c) => c === 0x86)).toBe(true);
    expect(codes.slice(LIMIT)).toEqual(new Array(2 * LIMIT).fill(0x88));

    // The victim behind the same address: its known token, and a token it never used before.
    (await connect(url, { ...known.mqtt_credentials, protocolVersion: 5 })).end(true);
    const fresh = await admin.issue({ user_id: 'victim' });
    (await connect(url, { ...fresh.mqtt_credentials, protocolVersion: 5 })).end(true);

    const metrics = await (await fetch(`http://127.0.0.1:${signet.ports.http}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`signet_mqtt_auth_decisions_total\\{step="throttle",result="server_unavailable"\\} ${2 * LIMIT}\\b`));
  });
});
