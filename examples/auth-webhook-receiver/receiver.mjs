// A minimal Signet auth webhook receiver: verifies the Standard Webhooks
// signature on the raw body, then allows devices listed in DEVICES.
//
//   WEBHOOK_SECRET=whsec_... PORT=9000 node receiver.mjs
import { createServer } from 'node:http';

import { Webhook } from 'standardwebhooks';

const secret = process.env.WEBHOOK_SECRET;
if (!secret) throw new Error('set WEBHOOK_SECRET to the whsec_ secret Signet answered at registration');
const webhook = new Webhook(secret);

// Your own device registry; here, client id -> password.
const DEVICES = new Map([['sensor-1', 'correct horse battery staple']]);

const MAX_BODY = 64 * 1024;

const server = createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_BODY) req.destroy();
    else chunks.push(c);
  });
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    let event;
    try {
      // Checks the headers, the timestamp (5 min tolerance) and any one of the signatures.
      event = webhook.verify(raw, req.headers);
    } catch {
      res.writeHead(401).end();
      return;
    }
    const answer = (body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const expected = DEVICES.get(event.client_id);
    // Not one of ours: let the next step of the org's chain decide.
    if (expected === undefined) return answer({ result: 'ignore' });
    // `password` is present only if the org registered the webhook with send_password: true.
    if (event.password !== expected) return answer({ result: 'deny' });
    answer({
      result: 'allow',
      permissions: { publish: ['devices/{client_id}/#'], subscribe: ['commands/{client_id}/#'] },
      expire_at: Math.floor(Date.now() / 1000) + 3600,
      cache_seconds: 300,
    });
  });
});
server.listen(Number(process.env.PORT ?? 9000), process.env.HOST ?? '127.0.0.1', () => console.log(`auth webhook receiver listening on ${server.address().port}`));
