/**
 * The Supabase example when Signet is not running: the demo says it cannot reach Signet (not a raw
 * `TypeError: fetch failed`), and the example backend answers 503 `signet_unreachable`, not a 401
 * that blames the user's token. (Its whole flow against a running Signet is in federation.int-spec.)
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { ROOT } from '../support/spawn';

const EXAMPLE = join(ROOT, 'examples', 'supabase-backend');

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, args, { cwd: ROOT, env: { PATH: process.env['PATH'], ...env }, timeout: 30000 }, (_err, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

describe('the Supabase example without Signet', () => {
  it('the demo says it cannot reach Signet and exits 1', async () => {
    const port = await closedPort();
    const r = await run([join(EXAMPLE, 'demo.mjs')], { SIGNET_API_KEY: 'sk_x', SIGNET_URL: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach Signet at http://127.0.0.1:${port} (ECONNREFUSED)`);
    expect(r.stderr).toContain('npm start');
    expect(r.stderr).not.toMatch(/TypeError|at .*\.mjs:\d+/);
  });

  it('the backend answers 503 signet_unreachable', async () => {
    const port = await closedPort();
    const script = `
      import { startBackend } from ${JSON.stringify(join(EXAMPLE, 'backend.mjs'))};
      const server = await startBackend({ port: 0, signetUrl: 'http://127.0.0.1:${port}', apiKey: 'sk_x', providerId: 'idp_x' });
      const res = await fetch('http://127.0.0.1:' + server.address().port + '/mqtt-credentials', { method: 'POST', headers: { authorization: 'Bearer eyJ' } });
      console.log(JSON.stringify({ status: res.status, body: await res.json() }));
      server.close();`;
    const r = await run(['--input-type=module', '-e', script], {});
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout)).toEqual({ status: 503, body: { error: 'signet_unreachable' } });
  });
});
