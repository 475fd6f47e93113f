// The example's backend: serves the page, bundles main.ts with esbuild, and
// hands out MQTT credentials from POST /v1/tokens. The API key stays here.
//
//   SIGNET_API_KEY=sk_… node examples/browser-client/serve.mjs
//   open http://localhost:3000/?broker=ws://localhost:8083/mqtt
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const signet = process.env.SIGNET_URL ?? 'http://localhost:8080';
const apiKey = process.env.SIGNET_API_KEY;
const port = Number(process.env.PORT ?? 3000);
if (!apiKey) throw new Error('set SIGNET_API_KEY (the sk_ key printed at first start)');

const bundled = await build({
  entryPoints: [join(here, 'main.ts')],
  bundle: true,
  write: false,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  tsconfig: join(here, 'tsconfig.json'),
});
const bundle = bundled.outputFiles[0].contents;
const html = await readFile(join(here, 'index.html'));

createServer(async (req, res) => {
  if (req.method === 'POST' && req.url === '/credentials') {
    // A real backend checks its own session here and picks the user id from it.
    let r;
    try {
      r = await fetch(`${signet}/v1/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: 'browser-demo', ttl_seconds: Number(process.env.TTL ?? 300) }),
      });
    } catch {
      console.error(`Signet is not reachable at ${signet} (set SIGNET_URL)`);
      res.writeHead(502).end();
      return;
    }
    const body = await r.json();
    if (r.status !== 201) {
      console.error(`POST /v1/tokens answered ${r.status} ${body.code ?? ''}`);
      res.writeHead(502).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...body.mqtt_credentials, expires_at: body.expires_at }));
  } else if (req.url === '/bundle.js') {
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
  } else {
    res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  }
}).listen(port, () => console.log(`http://localhost:${port}/?broker=ws://localhost:8083/mqtt`));
