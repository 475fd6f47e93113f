/**
 * What a person sees when starting Signet: the banner alone on stdout; logs on stderr, JSON when
 * stderr is not a terminal, human lines on a terminal (a pty from util-linux `script`) and with
 * SIGNET_LOG_FORMAT=pretty; no
 * warnings on a healthy first start; no raw error before the message naming a taken port's variable;
 * and "is ready" only once /readyz agrees.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, Server } from 'node:net';

import { Backend, realBackend, testEnv } from '../support/signet';
import { appEntry, SpawnedApp } from '../support/spawn';

const BANNER_LINE = /^(\S+ is ready| {2}\S.*|Bootstrap API key for org_\w+ \(shown once; store it now\):|sk_\w+|Sign-up code for the first account \(shown once; .*\):|su_[\w-]+|\S+: SIGTERM received, stopping|)$/;
const PRETTY_LINE = /^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) /;

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { level: number; msg: string });

describe('what a start prints', () => {
  let backend: Backend;
  let app: SpawnedApp | undefined;

  beforeAll(async () => {
    backend = await realBackend('output');
  });
  afterEach(async () => {
    await app?.stop('SIGKILL');
    app = undefined;
  });
  afterAll(() => backend?.cleanup());

  it('a first start on PostgreSQL + Redis: banner alone on stdout, JSON logs on stderr, no warning', async () => {
    app = await SpawnedApp.start('signet', testEnv({ ...backend.env, SIGNET_LOG_LEVEL: 'info' })).ready();
    expect(await app.stop('SIGTERM')).toBe(0);
    for (const line of app.stdout.split('\n')) expect(line).toMatch(BANNER_LINE);
    const logs = jsonLines(app.stderr);
    expect(logs.length).toBeGreaterThan(3);
    expect(logs.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual([]);
  });

  it('SIGNET_LOG_FORMAT=pretty writes human lines', async () => {
    app = await SpawnedApp.start('signet', testEnv({ ...backend.env, SIGNET_LOG_LEVEL: 'info', SIGNET_LOG_FORMAT: 'pretty' })).ready();
    expect(await app.stop('SIGTERM')).toBe(0);
    const lines = app.stderr.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(line).toMatch(PRETTY_LINE);
  });

  (existsSync('/usr/bin/script') ? it : it.skip)('on a terminal, by default: human lines, no JSON', async () => {
    // `script` gives the process a pseudo-terminal for stdout and stderr, as a shell in a terminal does.
    const child = spawn('script', ['-qfec', `exec ${process.execPath} ${appEntry('signet')}`, '/dev/null'], {
      env: { PATH: process.env['PATH'], SHELL: '/bin/sh', ...testEnv({ ...backend.env, SIGNET_LOG_LEVEL: 'info' }) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let seen = '';
    child.stdout.on('data', (d: Buffer) => (seen += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 60000;
      while (!seen.includes('signet is ready') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      expect(seen).toContain('signet is ready');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    // eslint-disable-next-line no-control-regex
    const plain = seen.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');
    const logs = plain.slice(0, plain.indexOf('signet is ready')).split('\n').filter((l) => l.trim() !== '');
    expect(logs.length).toBeGreaterThan(3);
    for (const line of logs) expect(line).toMatch(PRETTY_LINE);
  });

  it.each([
    ['SIGNET_HTTP_PORT', 'is already in use'],
    ['SIGNET_MQTT_PORT', 'is already in use'],
  ])('a taken port (%s): the message naming the variable, no raw error line before it', async (variable, reason) => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      app = SpawnedApp.start('signet', testEnv({ ...backend.env, SIGNET_LOG_LEVEL: 'info', [variable]: String(port) }));
      expect(await app.exited).toBe(1);
      const lines = app.stderr.split('\n').filter((l) => l !== '');
      expect(lines.pop()).toBe(`signet: failed to start: ${variable}: port ${port} on 127.0.0.1 ${reason}; set ${variable} to a free port`);
      expect(jsonLines(lines.join('\n')).filter((l) => l.level >= 50)).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('a standalone edge without its token service says it is not ready, as /readyz does', async () => {
    app = SpawnedApp.start(
      'mqtt-edge',
      testEnv({ SIGNET_TOKEN_SERVICE_GRPC: '127.0.0.1:1', SIGNET_APIKEY_SERVICE_GRPC: '127.0.0.1:1', SIGNET_LOG_LEVEL: 'info' }),
    );
    const deadline = Date.now() + 30000;
    while (!app.stdout.includes('not ready yet') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // Without Redis the token service is its only source of revocations too: it cannot vouch for them either.
    expect(app.stdout).toMatch(
      /^mqtt-edge is listening, not ready yet: waiting for revocation_bus \(revocation state is stale: credentials are refused\), signing_keys \(no public keys yet from the token service at 127\.0\.0\.1:1\)\n/,
    );
    const readyz = await fetch(`http://127.0.0.1:${app.port('HTTP API')}/readyz`);
    expect(readyz.status).toBe(503);
    await new Promise((r) => setTimeout(r, 1200));
    expect(app.stdout).not.toContain(' is ready\n');
  });
});
