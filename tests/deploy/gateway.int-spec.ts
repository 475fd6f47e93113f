/**
 * The local gateway (docker/gateway/nginx.conf) run for real: Debian's nginx with the committed
 * configuration, its upstream and listen ports moved to free ones, in front of three small HTTP
 * servers standing in for the services. Every path the code serves must reach the service that
 * serves it, and the client address must be passed on. .ci/run installs nginx when it is missing.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from '../support/ports';
import { REPO } from './manifests';
import { servedPrefixes } from './routes';

const CONF = readFileSync(join(REPO, 'docker', 'gateway', 'nginx.conf'), 'utf8');
// Debian puts it in /usr/sbin, which is not on every user's PATH.
const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
const UPSTREAMS = [...CONF.matchAll(/upstream ([\w-]+) \{ server 127\.0\.0\.1:(\d+); \}/g)].map((m) => ({ name: m[1], port: Number(m[2]) }));


/** Answers every request with the service's name and the X-Forwarded-For it received. */
async function stub(name: string): Promise<Server> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ service: name, forwardedFor: req.headers['x-forwarded-for'] ?? null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function untilListening(port: number, nginx: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10000;
  for (;;) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited with ${nginx.exitCode}: ${log()}`);
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port}: ${log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('the local gateway (docker/gateway/nginx.conf)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signet-gateway-'));
  const stubs = new Map<string, Server>();
  let nginx: ChildProcess | undefined;
  let port = 0;

  beforeAll(async () => {
    let conf = CONF;
    for (const upstream of UPSTREAMS) {
      const server = await stub(upstream.name);
      stubs.set(upstream.name, server);
      conf = conf.replace(`127.0.0.1:${upstream.port};`, `127.0.0.1:${(server.address() as AddressInfo).port};`);
    }
    port = await freePort();
    conf = conf.replace('listen 127.0.0.1:8080;', `listen 127.0.0.1:${port};`);
    writeFileSync(join(dir, 'nginx.conf'), conf);
    let stderr = '';
    nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    nginx.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await untilListening(port, nginx, () => stderr);
  });

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx?.once('exit', resolve));
      nginx.kill('SIGQUIT');
      await exited;
    }
    await Promise.all([...stubs.values()].map((s) => new Promise((resolve) => s.close(resolve))));
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.text() };
  };

  it('listens on :8080 in front of the services on 8091-8096', () => {
    expect(CONF).toContain('listen 127.0.0.1:8080;');
    expect(UPSTREAMS.map((u) => u.name).sort()).toEqual(['apikey-service', 'auth-webhooks', 'directory-sync', 'idp-federation', 'token-service']);
  });

  it.each(servedPrefixes().map((s) => [s.prefix, s.apps] as const))('%s and below reach a service that serves it', async (prefix, apps) => {
    for (const path of [prefix, `${prefix}/some/thing?x=1`]) {
      const res = await get(path);
      expect(res.status).toBe(200);
      const { service } = JSON.parse(res.body) as { service: string };
      expect([path, apps.includes(service)]).toEqual([path, true]);
    }
  });

  it('routes whole path elements only, and nothing else', async () => {
    expect((await get('/v1/orgs')).status).toBe(404);
    expect((await get('/v1/keysmith')).status).toBe(404);
    expect((await get('/healthz')).status).toBe(404);
  });

  it("passes the client's address on in X-Forwarded-For", async () => {
    const { forwardedFor } = JSON.parse((await get('/v1/keys')).body) as { forwardedFor: string };
    expect(forwardedFor).toBe('127.0.0.1');
  });
});
