import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { Webhook } from 'standardwebhooks';

export interface ReceivedCall {
  body: Record<string, unknown>;
  /** The Standard Webhooks signature verified with the receiver's current secret. */
  verified: boolean;
}

export interface WebhookReceiver {
  url: string;
  calls: ReceivedCall[];
  /** The secret it verifies with (set after registration, changed on rotation). */
  secret: string;
  close(): Promise<void>;
}

/**
 * A customer's auth webhook on loopback, deciding by the username before `@`:
 * `hang` never answers, `broken` answers 500, `stranger` is ignored, a password
 * other than `let-me-in` is denied, `short` is allowed for 2 s, anyone else is
 * allowed on `devices/{client_id}/#` for a minute of cache. Unsigned calls get 401.
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const sockets = new Set<Socket>();
  const receiver: WebhookReceiver = { url: '', calls: [], secret: '', close: async () => undefined };
  const decide = (body: Record<string, unknown>, res: ServerResponse) => {
    const [name] = String(body['username']).split('@');
    const answer = (value: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (name === 'hang') return;
    if (name === 'broken') return res.writeHead(500).end();
    if (name === 'stranger') return answer({ result: 'ignore' });
    if (body['password'] !== 'let-me-in') return answer({ result: 'deny' });
    if (name === 'short') return answer({ result: 'allow', permissions: { publish: ['devices/{client_id}/#'] }, expire_at: Math.floor(Date.now() / 1000) + 2 });
    answer({ result: 'allow', permissions: { publish: ['devices/{client_id}/#'], subscribe: ['devices/{client_id}/#'] }, cache_seconds: 60 });
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let verified = false;
      try {
        new Webhook(receiver.secret).verify(raw, req.headers as Record<string, string>);
        verified = true;
      } catch {
        verified = false;
      }
      const body = JSON.parse(raw) as Record<string, unknown>;
      receiver.calls.push({ body, verified });
      if (!verified) return res.writeHead(401).end();
      decide(body, res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mqtt-auth`;
  receiver.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}
