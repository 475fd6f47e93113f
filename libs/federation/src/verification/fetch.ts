import { httpsUrlProblem, isLoopbackHost } from '@signet/net';

/**
 * Outbound HTTP to identity providers: https only, except to loopback
 * addresses (local development and the test peers); a short timeout; no
 * redirects (a redirect could lead key fetching to a host nobody configured);
 * and a bounded response size, since a hostile or broken endpoint must not be
 * able to exhaust memory.
 */

/** Why `value` is not an acceptable IdP URL, or null. */
export const idpUrlProblem = httpsUrlProblem;
export { isLoopbackHost };

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
}

export class IdpFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdpFetchError';
  }
}

/** GET a JSON document, or throw IdpFetchError (never with the body in the message). */
export async function fetchJson(url: string, limits: FetchLimits): Promise<unknown> {
  // Re-checked at fetch time: a URL derived from discovery metadata is only as good as this check.
  const problem = idpUrlProblem(url);
  if (problem) throw new IdpFetchError(`refusing to fetch ${url}: ${problem}`);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(limits.timeoutMs),
    });
  } catch (err) {
    throw new IdpFetchError(`GET ${url} failed: ${err instanceof Error ? err.name : 'error'}`);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new IdpFetchError(`GET ${url} answered ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > limits.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new IdpFetchError(`GET ${url}: response larger than ${limits.maxBytes} bytes`);
  }
  const text = await readLimited(response, limits.maxBytes, url);
  try {
    return JSON.parse(text);
  } catch {
    throw new IdpFetchError(`GET ${url}: response is not JSON`);
  }
}

async function readLimited(response: Response, maxBytes: number, url: string): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new IdpFetchError(`GET ${url}: response larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof IdpFetchError) throw err;
    throw new IdpFetchError(`GET ${url}: reading the response failed`);
  }
  return Buffer.concat(chunks).toString('utf8');
}
