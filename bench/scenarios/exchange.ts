import { exportSPKI, generateKeyPair, SignJWT } from 'jose';

import type { Call } from '../lib/http-load';
import type { SignetSystem } from '../lib/systems';

/** Distinct IdP tokens signed before the measured windows (the load generator must not be the one signing). */
const TOKENS = 256;
const ISSUER = 'https://idp.bench.example';
const AUDIENCE = 'mqtt';

/**
 * A generic JWT provider pinned to `alg` (a shared secret for HS256, a PEM
 * public key for RS256: nothing to fetch, the verifier is cached) and the
 * call that exchanges one of its tokens from the backend (sk_ + id_token).
 */
export async function exchangeCall(signet: SignetSystem, alg: 'HS256' | 'RS256'): Promise<Call> {
  let key: Parameters<SignJWT['sign']>[0];
  let settings: Record<string, unknown>;
  if (alg === 'HS256') {
    const secret = `bench-shared-secret-${'x'.repeat(32)}`;
    key = new TextEncoder().encode(secret);
    settings = { shared_secret: secret };
  } else {
    const pair = await generateKeyPair('RS256', { extractable: true });
    key = pair.privateKey;
    settings = { public_key: await exportSPKI(pair.publicKey) };
  }
  const created = await signet.post('/v1/idp-providers', { kind: 'jwt', name: `bench ${alg}`, issuer: ISSUER, audience: AUDIENCE, algorithms: [alg], ...settings });
  if (created.status !== 201) throw new Error(`POST /v1/idp-providers: ${created.status} ${JSON.stringify(created.body)}`);
  const providerId = created.body!['id'] as string;
  const now = Math.floor(Date.now() / 1000);
  const tokens = await Promise.all(
    Array.from({ length: TOKENS }, (_, i) =>
      new SignJWT({})
        .setProtectedHeader({ alg })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(`bench_ex_${i}`)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(key),
    ),
  );
  return async (i) => {
    const answer = await signet.post('/v1/federation/exchange', { provider_id: providerId, id_token: tokens[i % TOKENS] });
    if (answer.status !== 201) throw new Error(`POST /v1/federation/exchange: ${answer.status} ${JSON.stringify(answer.body)}`);
  };
}
