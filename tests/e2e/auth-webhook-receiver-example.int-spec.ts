/**
 * examples/auth-webhook-receiver/receiver.mjs as a user runs it (its own Node
 * process), called by Signet's WebhookClient: the example verifies our
 * signatures and answers the contract of docs/auth-webhooks.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

import { generateWebhookSecret, WebhookClient, type WebhookTarget } from '@signet/auth-webhooks';
import type { WebhookConnectRequest } from '@signet/contracts';

import { ROOT } from '../support/spawn';

jest.setTimeout(30_000);

describe('examples/auth-webhook-receiver', () => {
  const secret = generateWebhookSecret();
  let child: ChildProcess;
  let url: string;
  const client = new WebhookClient({
    allowHttp: true,
    allowPrivateAddresses: true,
    connectTimeoutMs: 1000,
    timeoutMs: 2000,
    maxResponseBytes: 16384,
    maxCacheSeconds: 300,
    denyCacheSeconds: 5,
    breaker: { errorPercentage: 50, volume: 100, resetMs: 1000, windowMs: 10000 },
    connectionsPerOrigin: 2,
  });

  beforeAll(async () => {
    child = spawn(process.execPath, [join(ROOT, 'examples', 'auth-webhook-receiver', 'receiver.mjs')], {
      env: { ...process.env, WEBHOOK_SECRET: secret, PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
    });
    url = `http://127.0.0.1:${port}/`;
  });
  afterAll(async () => {
    await client.close();
    child?.kill();
  });

  const target = (): WebhookTarget => ({ orgId: 'org_example00001', url, secrets: [secret], sendPassword: true, failMode: 'deny' });
  const connectOf = (clientId: string, password: string): WebhookConnectRequest => ({
    orgId: 'org_example00001',
    clientId,
    username: `${clientId}@org_example00001`,
    password,
    protocolVersion: 5,
    peerAddress: '127.0.0.1',
    listener: 'mqtt',
    edgeId: 'edge-1',
    requestId: 'r',
  });

  it('allows its device, denies a wrong password, ignores strangers', async () => {
    await expect(client.call(target(), connectOf('sensor-1', 'correct horse battery staple'))).resolves.toMatchObject({
      result: 'allow',
      permissions: { publish: ['devices/{client_id}/#'], subscribe: ['commands/{client_id}/#'] },
      cacheSeconds: 300,
    });
    await expect(client.call(target(), connectOf('sensor-1', 'wrong'))).resolves.toEqual({ result: 'deny', cacheSeconds: 5 });
    await expect(client.call(target(), connectOf('sensor-9', 'x'))).resolves.toEqual({ result: 'ignore' });
  });

  it('refuses a call signed with another secret (401: no answer)', async () => {
    await expect(client.call({ ...target(), secrets: [generateWebhookSecret()] }, connectOf('sensor-1', 'correct horse battery staple'))).resolves.toMatchObject({
      result: 'unavailable',
      detail: 'auth webhook gave no answer: status',
    });
  });
});
