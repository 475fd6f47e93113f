import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

import type { AedesUser } from '../aedes-server';
import { benchBackend } from './signet-env';

export type SystemName = 'signet' | 'mosquitto' | 'aedes';
export const SYSTEMS: readonly SystemName[] = ['signet', 'mosquitto', 'aedes'];

export interface Credential {
  username: string;
  password: string;
}

/** A credential that the system can revoke, closing its live connections. */
export interface Revocable {
  credential: Credential;
  /** Resolves when the system has accepted the revocation (the HTTP call returned). */
  revoke(): Promise<void>;
}

export interface SystemUnderTest {
  readonly name: SystemName;
  readonly pid: number;
  readonly tcpPort: number;
  /** MQTT over WebSocket at /mqtt; null when the system has none. */
  readonly wsPort: number | null;
  /** Pool user i (0 ≤ i < pool size), all with the bench grants. */
  user(i: number): Credential;
  /** An API-key credential (`<service>@<org_id>` + key) for connect_key. */
  serviceCredential(): Credential;
  /** A fresh credential that can be revoked later; null when the system cannot revoke. */
  revocable(): Promise<Revocable | null>;
  /** Calls `listener` with the process's stdout as it comes (e.g. its `--trace-gc` lines); returns the unsubscribe. */
  watchOutput(listener: (text: string) => void): () => void;
  stop(): Promise<void>;
}

/** Every bench user may publish and subscribe under bench/ and its own users/<id>/ (the edge's default). */
export const GRANTS = { publish: ['bench/#', 'users/{user_id}/#'], subscribe: ['bench/#', 'users/{user_id}/#'] };

/** Where Signet keeps its state: embedded PGlite and an in-process bus, or the machine's PostgreSQL and Redis. */
export type SignetBackend = 'embedded' | 'postgres';
export const SIGNET_BACKENDS: readonly SignetBackend[] = ['embedded', 'postgres'];

export interface StartOptions {
  /** Users in the pool (fan-in/fan-out need 101). */
  poolSize: number;
  signetBackend: SignetBackend;
  /** `taskset -c` core list for the system, or null. */
  cores: string | null;
  root: string;
  /** Extra node flags for a Node-based system (Signet, Aedes), e.g. `--trace-gc`; ignored by Mosquitto. */
  nodeArgs?: string[];
}

const ROOT_DIST = (root: string) => join(root, 'dist');

/** Spawns `command` pinned to `cores` (when given), its stderr kept in a log file. */
export function spawnPinned(name: string, cores: string | null, command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const [cmd, argv] = cores !== null ? ['taskset', ['-c', cores, command, ...args]] : [command, args];
  // taskset execs the command: the child's pid is the system's pid.
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  // Its stderr goes to a log file, so a crash can be explained.
  const logFile = join(tmpdir(), `bench-${name}-${child.pid}.log`);
  child.stderr?.pipe(createWriteStream(logFile));
  child.once('exit', (code, signal) => {
    if (!stopping.has(child)) process.stderr.write(`${name} (pid ${child.pid}) exited: code ${code}, signal ${signal}; stderr in ${logFile}\n`);
  });
  return child;
}

/** {@link SystemUnderTest.watchOutput} of a spawned child. */
function watchStdout(child: ChildProcess, listener: (text: string) => void): () => void {
  const onData = (d: Buffer): void => listener(d.toString());
  child.stdout?.on('data', onData);
  return () => void child.stdout?.off('data', onData);
}

const stopping = new WeakSet<ChildProcess>();
const children = new Set<ChildProcess>();

/** Kills every system still running (the runner is exiting, e.g. after a crash or Ctrl-C). */
export function killAllSystems(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Collects output and resolves once `pattern` appears in stdout. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${what} not ready in ${timeoutMs} ms: ${out}${err}`)), timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${err}`));
    });
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  stopping.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `fn` over 0..n-1 with at most `concurrency` calls in flight. */
export async function pool<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

// ---------------------------------------------------------------- Signet

export interface IssuedToken {
  token_id: string;
  mqtt_credentials: Credential;
  refresh_token: string;
}

/** POST /v1/tokens with the bench grants, on the token API at `httpBase`. */
export async function issueBenchToken(httpBase: string, apiKey: string, userId: string): Promise<IssuedToken> {
  const answer = await postJson(`${httpBase}/v1/tokens`, { user_id: userId, ttl_seconds: 6 * 3600, permissions: GRANTS }, apiKey);
  if (answer.status !== 201) throw new Error(`POST /v1/tokens: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as unknown as IssuedToken;
}

/** An HTTP answer: status and parsed JSON body (null when empty). */
export interface Answer {
  status: number;
  body: Record<string, unknown> | null;
}

/**
 * Keep-alive connections, as many as there are requests in flight (fetch's default too). The credential
 * scenarios post through node:http rather than fetch: measured 2026-12-03, fetch cost the load generator
 * ≈ 0.5 ms of CPU per request against ≈ 0.2 ms, and since a p99 counts from the intended send time, the
 * generator's own lateness was in it.
 */
const keepAlive = new Agent({ keepAlive: true });

/** POST a JSON body, as `bearer` unless null; rejects only when no answer came (reset, refused). */
export function postJson(url: string, body: unknown, bearer: string | null): Promise<Answer> {
  const payload = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
  if (bearer !== null) headers['authorization'] = `Bearer ${bearer}`;
  return new Promise<Answer>((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: keepAlive, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        try {
          resolve({ status: res.statusCode ?? 0, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * The all-in-one, on embedded PGlite with its in-process bus or on PostgreSQL
 * and Redis (a fresh database and key prefix, removed on stop); its edge
 * checks `tkn_` tokens and their permissions.
 */
export class SignetSystem implements SystemUnderTest {
  readonly name = 'signet';
  private users: Credential[] = [];
  private revocableCount = 0;

  private constructor(
    private readonly child: ChildProcess,
    private readonly cleanup: () => Promise<void>,
    readonly pid: number,
    readonly tcpPort: number,
    readonly wsPort: number,
    readonly httpBase: string,
    readonly apiKey: string,
    readonly orgId: string,
    /** Its PostgreSQL database; null on the embedded one. */
    readonly database: string | null,
  ) {}

  static async start(o: StartOptions): Promise<SignetSystem> {
    const backend = await benchBackend('aio', o.signetBackend === 'embedded');
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], ...backend.env, ...signetEnv() };
    const child = spawnPinned('signet', o.cores, process.execPath, [...signetNodeArgs(), ...(o.nodeArgs ?? []), join(ROOT_DIST(o.root), 'apps/signet/src/main.js')], env);
    let out: string;
    try {
      out = await waitForOutput(child, /^sk_\S+$/m, 60000, 'signet');
    } catch (err) {
      await stopChild(child);
      await backend.cleanup();
      throw err;
    }
    const port = (label: string): number => {
      const m = new RegExp(`^  ${label}\\s+\\S*?:(\\d+)`, 'm').exec(out);
      if (!m) throw new Error(`no ${label} port in the banner: ${out}`);
      return Number(m[1]);
    };
    const apiKey = /^(sk_\S+)$/m.exec(out)![1];
    const orgId = /Bootstrap API key for (org_[a-z0-9]+)/.exec(out)![1];
    const system = new SignetSystem(child, backend.cleanup, child.pid!, port('MQTT'), port('WebSocket'), `http://127.0.0.1:${port('HTTP API')}`, apiKey, orgId, backend.database);
    try {
      const tokens = await pool(o.poolSize, 8, (i) => system.issue(`bench_u${i}`));
      system.users = tokens.map((t) => t.mqtt_credentials);
    } catch (err) {
      // Not left running, nor its database behind.
      await system.stop();
      throw err;
    }
    return system;
  }

  /** POST /v1/tokens with the bench grants. */
  issue(userId: string): Promise<IssuedToken> {
    return issueBenchToken(this.httpBase, this.apiKey, userId);
  }

  /** POST `path` with a JSON body, as the bootstrap key unless `bearer` is null (public endpoints) or another token. */
  post(path: string, body: unknown, bearer: string | null = this.apiKey): Promise<Answer> {
    return postJson(`${this.httpBase}${path}`, body, bearer);
  }

  /** POST /v1/tokens/refresh: the new credentials, or throws. */
  async refresh(refreshToken: string): Promise<IssuedToken> {
    const answer = await this.post('/v1/tokens/refresh', { refresh_token: refreshToken }, null);
    if (answer.status !== 200) throw new Error(`POST /v1/tokens/refresh: ${answer.status} ${String(answer.body?.['code'])}`);
    return answer.body as unknown as IssuedToken;
  }

  user(i: number): Credential {
    return this.users[i % this.users.length];
  }

  serviceCredential(): Credential {
    // A key's MQTT username is `<key name>@<org_id>`: the bootstrap key is named "bootstrap".
    return { username: `bootstrap@${this.orgId}`, password: this.apiKey };
  }

  async revocable(): Promise<Revocable> {
    const token = await this.issue(`bench_r${this.revocableCount++}`);
    return {
      credential: token.mqtt_credentials,
      revoke: async () => {
        const res = await fetch(`${this.httpBase}/v1/tokens/${token.token_id}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${this.apiKey}` },
        });
        if (res.status !== 204) throw new Error(`DELETE /v1/tokens: ${res.status}`);
      },
    };
  }

  watchOutput(listener: (text: string) => void): () => void {
    return watchStdout(this.child, listener);
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    await this.cleanup();
  }
}

/**
 * Extra settings for the Signet process, from BENCH_SIGNET_ENV: space-separated `SIGNET_…=value` (e.g.
 * `SIGNET_TOKEN_SIGNING_ALG=RS256`), to compare a setting in one run.
 */
function signetEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of (process.env['BENCH_SIGNET_ENV'] ?? '').split(' ').filter(Boolean)) {
    const m = /^(SIGNET_[A-Z0-9_]+)=(.*)$/.exec(pair);
    if (!m) throw new Error(`BENCH_SIGNET_ENV: ${pair} is not SIGNET_…=value`);
    env[m[1]] = m[2];
  }
  return env;
}

/** Extra node flags for the Signet process (e.g. --cpu-prof), from BENCH_SIGNET_NODE_ARGS. */
function signetNodeArgs(): string[] {
  const v = process.env['BENCH_SIGNET_NODE_ARGS'];
  return v ? v.split(' ').filter(Boolean) : [];
}

// ---------------------------------------------------------------- password-file users (Mosquitto, Aedes)

const PASSWORD_ORG = 'org_bench0000000';

export function passwordUsers(n: number): Credential[] {
  return Array.from({ length: n }, (_, i) => ({ username: `bench_u${i}@${PASSWORD_ORG}`, password: randomBytes(24).toString('base64url') }));
}

/** Same shape as an sk_ key: a long random secret. */
const serviceUser = (): Credential => ({ username: `bench-svc@${PASSWORD_ORG}`, password: `sk_${randomBytes(30).toString('base64url')}` });

// ---------------------------------------------------------------- Mosquitto

const MOSQUITTO = '/usr/sbin/mosquitto';

/** Debian's mosquitto, installed with apt-get when missing. */
export function ensureMosquitto(): string {
  if (existsSync(MOSQUITTO)) return MOSQUITTO;
  process.stderr.write('mosquitto not found: apt-get install -y mosquitto\n');
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'mosquitto'], { stdio: 'inherit' });
  return MOSQUITTO;
}

export function mosquittoVersion(): string {
  try {
    return /version (\S+)/.exec(execFileSync(ensureMosquitto(), ['-h']).toString())?.[1] ?? 'unknown';
  } catch (err) {
    // `mosquitto -h` exits 3 after printing its usage.
    const out = (err as { stdout?: Buffer }).stdout?.toString() ?? '';
    return /version (\S+)/.exec(out)?.[1] ?? 'unknown';
  }
}

/** Mosquitto with a password file (PBKDF2-SHA512) and an ACL file granting what the tokens grant. No WebSocket listener. */
export class MosquittoSystem implements SystemUnderTest {
  readonly name = 'mosquitto';
  readonly wsPort = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly pid: number,
    readonly tcpPort: number,
    private readonly users: Credential[],
    private readonly service: Credential,
  ) {}

  static async start(o: StartOptions): Promise<MosquittoSystem> {
    const binary = ensureMosquitto();
    const dir = await mkdtemp(join(tmpdir(), 'mosquitto-bench-'));
    const users = passwordUsers(o.poolSize);
    const service = serviceUser();
    const passwd = join(dir, 'passwd');
    await writeFile(passwd, [...users, service].map((u) => `${u.username}:${u.password}\n`).join(''), { mode: 0o600 });
    execFileSync('mosquitto_passwd', ['-U', passwd]); // hashes in place, sha512-pbkdf2
    const acl = join(dir, 'acl');
    // Patterns apply to every user: the same grants as the tokens (%u is the username).
    await writeFile(acl, 'pattern readwrite bench/#\npattern readwrite users/%u/#\n');
    const port = await freePort();
    const conf = join(dir, 'mosquitto.conf');
    await writeFile(
      conf,
      [
        'per_listener_settings false',
        // Run as root, mosquitto would switch to the `mosquitto` user, which cannot read the temporary files.
        'user root',
        'allow_anonymous false',
        `password_file ${passwd}`,
        `acl_file ${acl}`,
        'persistence false',
        'log_dest none',
        'max_keepalive 65535',
        'set_tcp_nodelay true',
        `listener ${port} 127.0.0.1`,
        '',
      ].join('\n'),
    );
    const child = spawnPinned('mosquitto', o.cores, binary, ['-c', conf], { PATH: process.env['PATH'] });
    let exited = false;
    child.once('exit', () => (exited = true));
    await waitForPort(port, 10000);
    if (exited) throw new Error('mosquitto exited at start');
    return new MosquittoSystem(child, dir, child.pid!, port, users, service);
  }

  user(i: number): Credential {
    return this.users[i % this.users.length];
  }

  serviceCredential(): Credential {
    return this.service;
  }

  /** A password file cannot revoke a live session. */
  async revocable(): Promise<null> {
    return null;
  }

  watchOutput(listener: (text: string) => void): () => void {
    return watchStdout(this.child, listener);
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    await rm(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- Aedes

export class AedesSystem implements SystemUnderTest {
  readonly name = 'aedes';
  private revocableCount = 0;

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly pid: number,
    readonly tcpPort: number,
    readonly wsPort: number,
    private readonly control: string,
    private readonly users: Credential[],
    private readonly service: Credential,
  ) {}

  /**
   * `o.redisUrl`: the instance shares that Redis (mqemitter-redis, aedes-persistence-redis) with the others
   * started on it; `o.users` then gives each instance the same credentials.
   */
  static async start(o: Pick<StartOptions, 'poolSize' | 'cores' | 'root' | 'nodeArgs'> & { redisUrl?: string; users?: Credential[] }): Promise<AedesSystem> {
    const dir = await mkdtemp(join(tmpdir(), 'aedes-bench-'));
    const users = o.users ?? passwordUsers(o.poolSize);
    const service = serviceUser();
    const file = join(dir, 'users.json');
    const records: AedesUser[] = [...users, service].map((u) => ({ ...u, ...GRANTS }));
    await writeFile(file, JSON.stringify(records));
    const child = spawnPinned('aedes', o.cores, process.execPath, [...(o.nodeArgs ?? []), join(ROOT_DIST(o.root), 'bench/aedes-server.js')], {
      PATH: process.env['PATH'],
      BENCH_AEDES_USERS: file,
      ...(o.redisUrl === undefined ? {} : { BENCH_AEDES_REDIS: o.redisUrl }),
    });
    const out = await waitForOutput(child, /aedes ready (\{.*\})/, 20000, 'aedes');
    const ports = JSON.parse(/aedes ready (\{.*\})/.exec(out)![1]) as { tcp: number; ws: number; http: number };
    return new AedesSystem(child, dir, child.pid!, ports.tcp, ports.ws, `http://127.0.0.1:${ports.http}`, users, service);
  }

  user(i: number): Credential {
    return this.users[i % this.users.length];
  }

  serviceCredential(): Credential {
    return this.service;
  }

  async revocable(): Promise<Revocable> {
    const credential = { username: `bench_r${this.revocableCount++}@${PASSWORD_ORG}`, password: randomBytes(24).toString('base64url') };
    const res = await fetch(`${this.control}/users`, { method: 'POST', body: JSON.stringify({ ...credential, ...GRANTS }) });
    if (res.status !== 204) throw new Error(`aedes add user: ${res.status}`);
    return {
      credential,
      revoke: async () => {
        const r = await fetch(`${this.control}/revoke`, { method: 'POST', body: JSON.stringify({ username: credential.username }) });
        if (r.status !== 204) throw new Error(`aedes revoke: ${r.status}`);
      },
    };
  }

  watchOutput(listener: (text: string) => void): () => void {
    return watchStdout(this.child, listener);
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    await rm(this.dir, { recursive: true, force: true });
  }
}
