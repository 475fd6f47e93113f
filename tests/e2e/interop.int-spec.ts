/**
 * Interoperability with a second client family: Debian's mosquitto-clients
 * (`mosquitto_pub`, `mosquitto_sub`, libmosquitto) against the all-in-one on
 * the embedded backend, over plain TCP and over TLS with a CA made at test time.
 * .ci/run installs mosquitto-clients when it is missing.
 */
import { ChildProcess, spawn } from 'node:child_process';

import type { SignetProcess } from '@signet/runtime';

import { makeTestPki, type TestPki } from '../../libs/mqtt/edge/src/testing/certs';
import { IssuedCredentials, TokenApi } from '../support/api';
import { Backend, embeddedBackend, startSignet } from '../support/signet';

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

function run(command: 'mosquitto_pub' | 'mosquitto_sub', args: string[]): Run {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const r: Run = { child, stdout: '', stderr: '', exited: Promise.resolve(null) };
  child.stdout!.on('data', (d: Buffer) => (r.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (r.stderr += d.toString()));
  // 'close', not 'exit': 'exit' can come before the last stdout chunk has been read.
  r.exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  return r;
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('interoperability with mosquitto-clients', () => {
  let backend: Backend;
  let signet: SignetProcess;
  let api: TokenApi;
  let pki: TestPki;
  const running: Run[] = [];

  const common = (creds: IssuedCredentials, version: 4 | 5, tls: boolean): string[] => [
    '-h', tls ? 'localhost' : '127.0.0.1',
    '-p', String(tls ? signet.ports.mqtts : signet.ports.mqtt),
    '-V', version === 5 ? 'mqttv5' : 'mqttv311',
    '-u', creds.mqtt_credentials.username,
    '-P', creds.mqtt_credentials.password,
    ...(tls ? ['--cafile', pki.caFile] : []),
  ];
  const sub = (creds: IssuedCredentials, version: 4 | 5, tls: boolean, topic: string, extra: string[] = []): Run => {
    const r = run('mosquitto_sub', [...common(creds, version, tls), '-t', topic, '-q', '1', '-v', ...extra]);
    running.push(r);
    return r;
  };
  const pub = (creds: IssuedCredentials, version: 4 | 5, tls: boolean, topic: string, message: string): Promise<Run> => {
    const r = run('mosquitto_pub', [...common(creds, version, tls), '-t', topic, '-m', message, '-q', '1']);
    running.push(r);
    return within(r.exited, 10000, 'mosquitto_pub').then(() => r);
  };
  /** mosquitto_sub prints nothing on SUBACK: wait until the edge holds its subscription. */
  const subscribed = async (before: number) => {
    const deadline = Date.now() + 5000;
    while (signet.edgeHandle!.edge.stats().subscriptions <= before) {
      if (Date.now() > deadline) throw new Error('mosquitto_sub did not subscribe');
      await sleep(20);
    }
  };

  beforeAll(async () => {
    pki = makeTestPki();
    const files = pki.issue('edge', 'localhost');
    backend = await embeddedBackend();
    signet = await startSignet(backend, { SIGNET_TLS_CERT: files.certFile, SIGNET_TLS_KEY: files.keyFile });
    api = new TokenApi(`http://127.0.0.1:${signet.ports.http}`, signet.service!.bootstrap!.apiKey);
  });

  afterEach(() => {
    for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  });

  afterAll(async () => {
    await signet?.close();
    await backend?.cleanup();
    pki?.cleanup();
  });

  describe.each([
    [4, false],
    [5, false],
    [4, true],
    [5, true],
  ] as const)('MQTT version %i, TLS %s', (version, tls) => {
    it('publishes and subscribes with a tkn_ password', async () => {
      const user = `m${version}${tls ? 's' : ''}`;
      const creds = await api.issue({ user_id: user });
      const before = signet.edgeHandle!.edge.stats().subscriptions;
      const s = sub(creds, version, tls, `users/${user}/#`, ['-C', '1']);
      await subscribed(before);
      const p = await pub(creds, version, tls, `users/${user}/hello`, 'from mosquitto_pub');
      expect(p.child.exitCode).toBe(0);
      expect(await within(s.exited, 10000, 'mosquitto_sub -C 1')).toBe(0);
      expect(s.stdout.trim()).toBe(`users/${user}/hello from mosquitto_pub`);
    });

    it('a publish outside the permissions is not delivered', async () => {
      const user = `d${version}${tls ? 's' : ''}`;
      const victim = await api.issue({ user_id: `${user}_victim` });
      const intruder = await api.issue({ user_id: user });
      const before = signet.edgeHandle!.edge.stats().subscriptions;
      const s = sub(victim, version, tls, `users/${user}_victim/#`);
      await subscribed(before);
      const p = await pub(intruder, version, tls, `users/${user}_victim/x`, 'intrusion');
      // 5.0: PUBACK 0x87, which mosquitto_pub reports; 3.1.1 has no negative acknowledgement.
      if (version === 5) expect(p.stderr).toMatch(/not authori[sz]ed/i);
      await sleep(300);
      expect(s.stdout).toBe('');
    });

    it('a revoke ends mosquitto_sub', async () => {
      const user = `r${version}${tls ? 's' : ''}`;
      const creds = await api.issue({ user_id: user });
      const before = signet.edgeHandle!.edge.stats().subscriptions;
      const s = sub(creds, version, tls, `users/${user}/#`);
      await subscribed(before);
      expect((await api.call('DELETE', `/v1/tokens/${creds.token_id}`)).status).toBe(204);
      // 5.0: DISCONNECT 0x98 ends it; 3.1.1: the socket closes, and its automatic reconnect is refused
      // (CONNACK 4), which ends it with an error.
      const code = await within(s.exited, 10000, 'mosquitto_sub to exit after the revoke');
      if (version === 4) expect(code).not.toBe(0);
    });
  });
});
