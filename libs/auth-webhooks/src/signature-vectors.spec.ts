import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Webhook } from 'standardwebhooks';

import { signWebhook, verifyWebhook } from './signature';

interface Vectors {
  secret: string;
  other_secret: string;
  id: string;
  timestamp: number;
  body: string;
  signature: string;
  other_signature: string;
  cases: { name: string; secret: 'secret' | 'other_secret'; signature: string | null; now: number; tamper?: boolean; valid: boolean; error?: string }[];
}

/** The vectors exactly as docs/auth-webhooks.md publishes them. */
function docVectors(): Vectors {
  const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'auth-webhooks.md'), 'utf8');
  const block = /```json vectors\n([\s\S]*?)```/.exec(doc);
  if (!block) throw new Error('no vectors block in docs/auth-webhooks.md');
  return JSON.parse(block[1]!) as Vectors;
}

describe('signature test vectors of docs/auth-webhooks.md', () => {
  const v = docVectors();

  it('the published signatures are what we sign', () => {
    expect(signWebhook(v.secret, v.id, v.timestamp, v.body)).toBe(v.signature);
    expect(signWebhook(v.other_secret, v.id, v.timestamp, v.body)).toBe(v.other_signature);
  });

  it('lists the six cases', () => {
    expect(v.cases.map((c) => c.name)).toEqual([
      'valid',
      'one of several valid (rotation)',
      'tampered body',
      'wrong secret',
      'old timestamp (10 minutes)',
      'missing headers',
    ]);
  });

  it.each(docVectors().cases)('$name', (c) => {
    const body = c.tamper ? v.body.replace('"client_id":"dev-1"', '"client_id":"dev-2"') : v.body;
    expect(body === v.body).toBe(!c.tamper);
    const headers: Record<string, string> = c.signature === null ? {} : { 'webhook-id': v.id, 'webhook-timestamp': String(v.timestamp), 'webhook-signature': c.signature };
    const secret = v[c.secret];
    expect(verifyWebhook(secret, headers, body, c.now)).toEqual(c.valid ? { ok: true } : { ok: false, error: c.error });
    // The reference library agrees (it reads the clock, so it is pinned to the case's "now").
    const now = jest.spyOn(Date, 'now').mockReturnValue(c.now * 1000);
    try {
      const check = () => new Webhook(secret).verify(body, headers);
      if (c.valid) expect(check).not.toThrow();
      else expect(check).toThrow();
    } finally {
      now.mockRestore();
    }
  });
});
