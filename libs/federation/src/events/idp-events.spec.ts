import { Webhook } from 'standardwebhooks';

import { ProblemError } from '@signet/http';

import { signedCallAction, supabaseAction } from '../usecases/receive-event/receive-event.usecase';
import { checkHeaderSecret, checkStandardWebhook, newEventsSecret, standardWebhookSignature } from './signatures';

// The vectors of docs/idp-events.md.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const TIMESTAMP = 1796400000;
const VECTORS = [
  {
    id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
    body: '{"type":"session.revoked","sid":"8d3f2a6e-5b1c-4e7a-9f0d-2c4b6a8e1f3d"}',
    signature: 'v1,BnJxxt8xDri+VxzC1po65k/Utu12kIYtuWrR/UXpoB4=',
  },
  {
    id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4X',
    body: '{"type":"user.revoked","sub":"5f1c9a2e-7b3d-4c8e-a1f0-9e2d4b6c8a0f"}',
    signature: 'v1,whsmhsssfpbPJ9Mf3fXj8XvpKDiAcc4BrqJxmuqQTuw=',
  },
];

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof ProblemError ? err.code : 'not a problem';
  }
  return undefined;
};

describe('signed calls (Standard Webhooks)', () => {
  it.each(VECTORS)('signs $id as the documented vector and as the standardwebhooks library does', ({ id, body, signature }) => {
    expect(standardWebhookSignature(SECRET, id, String(TIMESTAMP), body)).toBe(signature);
    expect(new Webhook(SECRET).sign(id, new Date(TIMESTAMP * 1000), body)).toBe(signature);
    expect(checkStandardWebhook(SECRET, { id, timestamp: String(TIMESTAMP), signature }, Buffer.from(body), TIMESTAMP + 10)).toBe(id);
  });

  it('accepts one matching signature among several (rotation), refuses tampering, stale timestamps and missing headers', () => {
    const { id, body, signature } = VECTORS[0];
    const headers = { id, timestamp: String(TIMESTAMP), signature };
    expect(checkStandardWebhook(SECRET, { ...headers, signature: `v1,AAAA ${signature}` }, Buffer.from(body), TIMESTAMP)).toBe(id);
    expect(codeOf(() => checkStandardWebhook(SECRET, headers, Buffer.from(body.replace('8d3f', '8d3e')), TIMESTAMP))).toBe('invalid_event_signature');
    expect(codeOf(() => checkStandardWebhook(newEventsSecret(), headers, Buffer.from(body), TIMESTAMP))).toBe('invalid_event_signature');
    expect(codeOf(() => checkStandardWebhook(SECRET, headers, Buffer.from(body), TIMESTAMP + 301))).toBe('event_timestamp_out_of_range');
    expect(codeOf(() => checkStandardWebhook(SECRET, { ...headers, signature: undefined }, Buffer.from(body), TIMESTAMP))).toBe('invalid_event_signature');
    expect(codeOf(() => checkStandardWebhook(null, headers, Buffer.from(body), TIMESTAMP))).toBe('invalid_event_signature');
  });
});

describe('Supabase webhook secret', () => {
  it('takes the secret from Authorization: Bearer or x-signet-events-secret, in constant time', () => {
    expect(codeOf(() => checkHeaderSecret(SECRET, `Bearer ${SECRET}`, undefined))).toBeUndefined();
    expect(codeOf(() => checkHeaderSecret(SECRET, undefined, SECRET))).toBeUndefined();
    expect(codeOf(() => checkHeaderSecret(SECRET, `Bearer ${SECRET}x`, undefined))).toBe('invalid_event_signature');
    expect(codeOf(() => checkHeaderSecret(SECRET, undefined, undefined))).toBe('invalid_event_signature');
    expect(codeOf(() => checkHeaderSecret(null, `Bearer ${SECRET}`, undefined))).toBe('invalid_event_signature');
  });
});

describe('what an event asks for', () => {
  it('reads Supabase database webhooks on auth.users and auth.sessions', () => {
    expect(supabaseAction({ type: 'DELETE', table: 'users', schema: 'auth', record: null, old_record: { id: 'u1' } })).toEqual({ kind: 'revoke_user', subject: 'u1' });
    expect(supabaseAction({ type: 'UPDATE', table: 'users', schema: 'auth', record: { id: 'u1', banned_until: '2999-01-01T00:00:00Z' } })).toEqual({ kind: 'revoke_user', subject: 'u1' });
    expect(supabaseAction({ type: 'UPDATE', table: 'users', schema: 'auth', record: { id: 'u1', banned_until: '2000-01-01T00:00:00Z' } })).toEqual({ kind: 'ignored' });
    expect(supabaseAction({ type: 'UPDATE', table: 'users', schema: 'auth', record: { id: 'u1', deleted_at: '2026-01-01T00:00:00Z' } })).toEqual({ kind: 'revoke_user', subject: 'u1' });
    expect(supabaseAction({ type: 'DELETE', table: 'sessions', schema: 'auth', old_record: { id: 's1', user_id: 'u1' } })).toEqual({ kind: 'revoke_session', sessionId: 's1', subject: 'u1' });
    expect(supabaseAction({ type: 'INSERT', table: 'sessions', schema: 'auth', record: { id: 's2' } })).toEqual({ kind: 'ignored' });
    expect(supabaseAction({ type: 'DELETE', table: 'users', schema: 'public', old_record: { id: 'u1' } })).toEqual({ kind: 'ignored' });
    expect(codeOf(() => supabaseAction({ type: 'DELETE', table: 'users', schema: 'auth' }))).toBe('invalid_idp_event');
    expect(codeOf(() => supabaseAction('nope'))).toBe('invalid_idp_event');
  });

  it('reads the generic call', () => {
    expect(signedCallAction({ type: 'session.revoked', sid: 's1' })).toEqual({ kind: 'revoke_session', sessionId: 's1' });
    expect(signedCallAction({ type: 'user.revoked', sub: 'u1' })).toEqual({ kind: 'revoke_user', subject: 'u1' });
    expect(codeOf(() => signedCallAction({ type: 'user.revoked' }))).toBe('invalid_idp_event');
    expect(codeOf(() => signedCallAction({ type: 'user.revoked', sub: 'x'.repeat(257) }))).toBe('invalid_idp_event');
  });
});
