import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Webhook } from 'standardwebhooks';

import type { WebhookConnectRequest } from '@signet/contracts';

import type { AuthWebhooksOptions } from './options';
import { generateWebhookSecret } from './signature';
import { WebhookClient, type WebhookTarget } from './webhook-client';

const OPTIONS: AuthWebhooksOptions = {
  allowHttp: true,
  allowPrivateAddresses: true,
  connectTimeoutMs: 500,
  timeoutMs: 400,
  maxResponseBytes: 4096,
  maxCacheSeconds: 60,
  denyCacheSeconds: 5,
  breaker: { errorPercentage: 50, volume: 3, resetMs: 300, windowMs: 10_000 },
  connectionsPerOrigin: 4,
};

const CONNECT: WebhookConnectRequest = {
  orgId: 'org_aaaaaaaaaaaa',
  clientId: 'dev-1',
  username: 'dev-1@org_aaaaaaaaaaaa',
  password: 'hunter2',
  protocolVersion: 5,
  peerAddress: '127.0.0.1',
  listener: 'mqtt',
  edgeId: 'edge-1',
  requestId: 'req-1',
};

interface Receiver {
  url: string;
  received: { headers: IncomingMessage['headers']; body: string }[];
  handle: (req: IncomingMessage, res: ServerResponse, body: string) => void;
  close(): Promise<void>;
}

/** A real HTTP receiver on loopback; each test sets `handle`. */
async function receiver(): Promise<Receiver> {
  const r: Partial<Receiver> & { server?: Server } = { received: [] };
  r.handle = (_req, res) => res.end('{"result":"ignore"}');
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      r.received!.push({ headers: req.headers, body });
      r.handle!(req, res, body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth`;
  r.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return r as Receiver;
}

const json = (res: ServerResponse, value: unknown, status = 200) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};

describe('WebhookClient against real loopback receivers', () => {
  let rx: Receiver;
  let client: WebhookClient;
  let target: WebhookTarget;
  const secret = generateWebhookSecret();

  beforeEach(async () => {
    rx = await receiver();
    client = new WebhookClient(OPTIONS);
    target = { orgId: CONNECT.orgId, url: rx.url, secrets: [secret], sendPassword: false, failMode: 'deny' };
  });
  afterEach(async () => {
    await client.close();
    await rx.close();
  });

  it('allow: permissions, expiry and cache_seconds (capped) come back', async () => {
    rx.handle = (_q, res) => json(res, { result: 'allow', permissions: { publish: ['devices/{client_id}/#'], subscribe: ['cmd/#'] }, expire_at: 4102444800, cache_seconds: 3600 });
    await expect(client.call(target, CONNECT)).resolves.toEqual({
      result: 'allow',
      permissions: { publish: ['devices/{client_id}/#'], subscribe: ['cmd/#'] },
      expiresAt: 4102444800_000,
      cacheSeconds: 60,
    });
  });

  it('deny and ignore', async () => {
    rx.handle = (_q, res) => json(res, { result: 'deny' });
    await expect(client.call(target, CONNECT)).resolves.toEqual({ result: 'deny', cacheSeconds: 5 });
    rx.handle = (_q, res) => json(res, { result: 'ignore' });
    await expect(client.call(target, CONNECT)).resolves.toEqual({ result: 'ignore' });
  });

  it('signs per Standard Webhooks (verified by the standardwebhooks package), with both secrets during a rotation', async () => {
    const next = generateWebhookSecret();
    target.secrets = [next, secret];
    await client.call(target, CONNECT);
    const { headers, body } = rx.received[0]!;
    const h = { 'webhook-id': String(headers['webhook-id']), 'webhook-timestamp': String(headers['webhook-timestamp']), 'webhook-signature': String(headers['webhook-signature']) };
    expect(h['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(secret).verify(body, h)).not.toThrow();
    expect(() => new Webhook(next).verify(body, h)).not.toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, h)).toThrow();
    const parsed = JSON.parse(body);
    expect(parsed).toMatchObject({ event: 'client.connect', client_id: 'dev-1', username: CONNECT.username, protocol_version: 5, peer_address: '127.0.0.1', listener: 'mqtt', edge_id: 'edge-1', request_id: 'req-1' });
    // Not opted in: no password.
    expect(parsed).not.toHaveProperty('password');
  });

  it('sends the password only when the org opted in', async () => {
    await client.call({ ...target, sendPassword: true }, CONNECT);
    expect(JSON.parse(rx.received[0]!.body).password).toBe('hunter2');
  });

  it.each([
    ['5xx', (res: ServerResponse) => json(res, { result: 'allow' }, 503), 'status'],
    ['201 (200 only)', (res: ServerResponse) => json(res, { result: 'allow' }, 201), 'status'],
    ['3xx (not followed)', (res: ServerResponse) => { res.writeHead(302, { location: '/elsewhere' }); res.end(); }, 'redirect'],
    ['bad JSON', (res: ServerResponse) => { res.writeHead(200); res.end('{"result": allow'); }, 'bad_json'],
    ['an unknown result', (res: ServerResponse) => json(res, { result: 'maybe' }), 'bad_answer'],
    ['a huge body', (res: ServerResponse) => { res.writeHead(200); res.end(`{"result":"allow","x":"${'a'.repeat(100_000)}"}`); }, 'too_large'],
    ['a huge chunked body', (res: ServerResponse) => { res.writeHead(200); res.write('{"result":"allow","x":"'); res.write('a'.repeat(100_000)); res.end('"}'); }, 'too_large'],
  ])('%s is no answer, and the org fail mode decides', async (_name, handle, why) => {
    rx.handle = (_q, res) => handle(res);
    await expect(client.call(target, CONNECT)).resolves.toEqual({ result: 'unavailable', failMode: 'deny', detail: `auth webhook gave no answer: ${why}` });
    expect(rx.received).toHaveLength(1);
    await expect(client.call({ ...target, failMode: 'ignore' }, CONNECT)).resolves.toMatchObject({ result: 'unavailable', failMode: 'ignore' });
  });

  it('a slow receiver (past the total timeout) is a timeout; one within it answers', async () => {
    rx.handle = (_q, res) => setTimeout(() => json(res, { result: 'allow' }), 100);
    await expect(client.call(target, CONNECT)).resolves.toMatchObject({ result: 'allow' });
    rx.handle = (_q, res) => setTimeout(() => json(res, { result: 'allow' }), 2000).unref();
    const started = Date.now();
    await expect(client.call(target, CONNECT)).resolves.toMatchObject({ result: 'unavailable', detail: 'auth webhook gave no answer: timeout' });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a receiver that sends headers then stalls the body is a timeout', async () => {
    rx.handle = (_q, res) => {
      res.writeHead(200);
      res.write('{"result":');
    };
    await expect(client.call(target, CONNECT)).resolves.toMatchObject({ result: 'unavailable', detail: 'auth webhook gave no answer: timeout' });
  });

  it('the breaker opens after failures (no more calls reach the receiver), half-opens and closes on success', async () => {
    rx.handle = (_q, res) => json(res, {}, 500);
    for (let i = 0; i < 3; i++) await client.call(target, CONNECT);
    expect(client.breakerState(target.orgId)).toBe('open');
    const before = rx.received.length;
    await expect(client.call(target, CONNECT)).resolves.toMatchObject({ detail: 'auth webhook gave no answer: breaker_open' });
    expect(rx.received.length).toBe(before);
    // Other orgs are unaffected.
    expect(client.breakerState('org_bbbbbbbbbbbb')).toBe('closed');
    rx.handle = (_q, res) => json(res, { result: 'deny' });
    await new Promise((r) => setTimeout(r, 400));
    expect(client.breakerState(target.orgId)).toBe('half_open');
    await expect(client.call(target, CONNECT)).resolves.toMatchObject({ result: 'deny' });
    expect(client.breakerState(target.orgId)).toBe('closed');
  });

  it('refuses loopback unless the operator allows it, checked after DNS resolution', async () => {
    const strict = new WebhookClient({ ...OPTIONS, allowPrivateAddresses: false });
    try {
      expect(strict.checkUrl(rx.url)).toMatch(/refused/);
      // A name (not an IP literal) that resolves to loopback is refused at connect time.
      const byName = rx.url.replace('127.0.0.1', 'localhost');
      expect(strict.checkUrl(byName)).toBeNull();
      await expect(strict.call({ ...target, url: byName }, CONNECT)).resolves.toMatchObject({ result: 'unavailable', detail: 'auth webhook gave no answer: refused_address' });
      expect(rx.received).toHaveLength(0);
      expect(strict.checkUrl('http://169.254.169.254/latest')).toMatch(/refused/);
      expect(strict.checkUrl('http://[::1]/x')).toMatch(/refused/);
    } finally {
      await strict.close();
    }
    const httpsOnly = new WebhookClient({ ...OPTIONS, allowHttp: false });
    expect(httpsOnly.checkUrl(rx.url)).toBe('must be https');
    await httpsOnly.close();
  });

  it('reuses a keep-alive connection across calls', async () => {
    const ports = new Set<number | undefined>();
    rx.handle = (q, res) => {
      ports.add(q.socket.remotePort);
      json(res, { result: 'ignore' });
    };
    for (let i = 0; i < 4; i++) {
      await client.call(target, CONNECT);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(ports.size).toBe(1);
  });
});
