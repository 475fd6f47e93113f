import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { exportJWK, exportSPKI, generateKeyPair, JWK, JWTPayload, KeyLike, SignJWT } from 'jose';

/*
 * Test peers for IdP federation, all on 127.0.0.1 port 0: a JWKS server that
 * stands in for Supabase, Google securetoken (Firebase), Auth0 and Clerk, and
 * a real OpenID Provider (oidc-provider) in a child process.
 */

export interface TestKey {
  kid: string;
  alg: string;
  privateKey: KeyLike;
  publicJwk: JWK;
  privateJwk: JWK;
  publicPem: string;
}

export async function newKey(alg: 'RS256' | 'ES256', kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk, privateJwk, publicPem: await exportSPKI(publicKey) };
}

/** Signs claims exactly as given (no defaults added); `header` members are added to the protected header. */
export function sign(claims: JWTPayload, key: KeyLike | Uint8Array, header: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ typ: 'JWT', ...header, alg: String(header.alg) }).sign(key);
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Serves JWK sets at chosen paths; can fail (503) or hang, and counts requests per path. */
export class JwksPeer {
  readonly sets = new Map<string, JWK[]>();
  readonly requests = new Map<string, number>();
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  private readonly hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<JwksPeer> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const peer = new JwksPeer(server, `http://127.0.0.1:${port}`);
    server.on('request', (req, res) => peer.handle(req, res));
    return peer;
  }

  count(path: string): number {
    return this.requests.get(path) ?? 0;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', this.origin).pathname;
    this.requests.set(path, this.count(path) + 1);
    if (this.mode === 'hang') {
      this.hanging.add(res);
      return;
    }
    const keys = this.sets.get(path);
    if (this.mode === 'fail' || !keys) {
      res.writeHead(this.mode === 'fail' ? 503 : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface OidcPeer {
  issuer: string;
  port: number;
  /** A JWT access token from the client-credentials grant (aud urn:signet:mqtt, sub backend, roles [operator]). */
  token(): Promise<string>;
  /** Makes the OP send its relying party `rp` a Back-Channel Logout token for `sub` and `sid` (needs backchannelLogoutUri); resolves once `rp` answered 200. */
  backchannelLogout(sub: string, sid: string): Promise<void>;
  stop(): Promise<void>;
}

const FIXTURE = join(__dirname, 'oidc-provider.fixture.mjs');

/** Starts oidc-provider in a child process (jest never imports it: it is ESM-only). `port` reuses a port, for a restart with rotated keys. */
export async function startOidcProvider(keys: JWK[], port = 0, backchannelLogoutUri?: string): Promise<OidcPeer> {
  const child: ChildProcess = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, OIDC_PORT: String(port), OIDC_KEYS: JSON.stringify(keys), ...(backchannelLogoutUri ? { OIDC_BACKCHANNEL_LOGOUT_URI: backchannelLogoutUri } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => String(line)),
    once(child, 'exit').then(() => {
      throw new Error(`oidc-provider fixture exited: ${stderr}`);
    }),
  ]);
  const started = JSON.parse(first) as { port: number; issuer: string };
  return {
    ...started,
    async token() {
      const res = await fetch(`${started.issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from('backend:backend-secret-that-is-long-enough-0123456789').toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials&scope=mqtt',
      });
      const body = (await res.json()) as { access_token?: string };
      if (!body.access_token) throw new Error(`no token from oidc-provider: ${res.status}`);
      return body.access_token;
    },
    async backchannelLogout(sub: string, sid: string) {
      const res = await fetch(`${started.issuer}/test/backchannel-logout`, { method: 'POST', body: JSON.stringify({ sub, sid }) });
      if (res.status !== 204) throw new Error(`back-channel logout failed: ${res.status} ${await res.text()}`);
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
