import { ProblemError } from '@signet/http';

import { principal, TEST_TOKENS_OPTIONS } from './testing';
import { checkNoEscalation, refreshedTtl, resolvePermissions, resolveTtl } from './token-policy';

/** The problem `run` throws (a ProblemError), for assertions on its code. */
function problemOf(run: () => unknown): ProblemError {
  try {
    run();
  } catch (err) {
    if (err instanceof ProblemError) return err;
    throw err;
  }
  throw new Error('expected a ProblemError');
}

describe('token policies', () => {
  const limits = TEST_TOKENS_OPTIONS; // default 3600, SIGNET_TOKEN_MAX_TTL 86400

  describe('resolveTtl: request vs org maximum vs SIGNET_TOKEN_MAX_TTL', () => {
    it('grants the requested TTL within both caps', () => {
      expect(resolveTtl(600, limits, null)).toBe(600);
      expect(resolveTtl(600, limits, 900)).toBe(600);
    });

    it('uses the default without a request, lowered to the org cap', () => {
      expect(resolveTtl(undefined, limits, null)).toBe(3600);
      expect(resolveTtl(undefined, limits, 120)).toBe(120);
    });

    it('refuses a request above the org cap with ttl_too_long and the cap', () => {
      const problem = problemOf(() => resolveTtl(901, limits, 900));
      expect(problem.status).toBe(400);
      expect(problem.code).toBe('ttl_too_long');
      expect(problem.extensions).toMatchObject({ max_ttl_seconds: 900 });
    });

    it('caps by the process maximum even when the org allows more', () => {
      expect(resolveTtl(86_400, limits, 10 * 86_400)).toBe(86_400);
      expect(problemOf(() => resolveTtl(86_401, limits, 10 * 86_400)).extensions).toMatchObject({ max_ttl_seconds: 86_400 });
      expect(problemOf(() => resolveTtl(86_401, limits, null)).code).toBe('ttl_too_long');
    });

    it('refuses a TTL that is not a positive integer (callers that bypass the DTO)', () => {
      expect(problemOf(() => resolveTtl(0, limits, null)).code).toBe('invalid_ttl');
      expect(problemOf(() => resolveTtl(1.5, limits, null)).code).toBe('invalid_ttl');
    });
  });

  describe('refreshedTtl', () => {
    const previous = { issuedAt: new Date(0), expiresAt: new Date(7200_000) };

    it('keeps the previous lifetime', () => {
      expect(refreshedTtl(previous, limits, null)).toBe(7200);
    });

    it('re-caps it when the org or process limit was lowered since', () => {
      expect(refreshedTtl(previous, limits, 60)).toBe(60);
      expect(refreshedTtl(previous, { ...limits, maxTtlSeconds: 100 }, null)).toBe(100);
    });
  });

  describe('resolvePermissions', () => {
    it('defaults to users/{user_id}/# both ways, a fresh copy each time', () => {
      const permissions = resolvePermissions(undefined);
      expect(permissions).toEqual({ publish: ['users/{user_id}/#'], subscribe: ['users/{user_id}/#'] });
      permissions.publish.push('x');
      expect(resolvePermissions(undefined).publish).toEqual(['users/{user_id}/#']);
    });

    it('grants exactly what is listed: an omitted direction grants nothing; duplicates are dropped', () => {
      expect(resolvePermissions({ subscribe: ['a/+', 'a/+'] })).toEqual({ publish: [], subscribe: ['a/+'] });
    });

    it('refuses a bad filter, too many filters and too many bytes with invalid_permission', () => {
      expect(problemOf(() => resolvePermissions({ publish: ['a/#/b'] })).extensions).toMatchObject({ field: 'permissions.publish[0]' });
      expect(problemOf(() => resolvePermissions({ publish: Array.from({ length: 65 }, (_, i) => `t/${i}`) })).code).toBe('invalid_permission');
      expect(problemOf(() => resolvePermissions({ publish: ['x'.repeat(257)] })).code).toBe('invalid_permission');
      const big = Array.from({ length: 64 }, (_, i) => `${'y'.repeat(200)}/${i}`);
      expect(problemOf(() => resolvePermissions({ publish: big })).detail).toContain('bytes');
    });
  });

  describe('checkNoEscalation', () => {
    const orgId = 'org_a';
    const defaults = resolvePermissions(undefined);

    it('lets a secret key grant anything in its org', () => {
      expect(() => checkNoEscalation(principal(orgId), { publish: ['#'], subscribe: ['#'] })).not.toThrow();
    });

    it('lets a restricted key grant what its mqtt scopes cover, the default permissions included', () => {
      const key = principal(orgId, { type: 'restricted', scopes: ['tokens:write', 'mqtt:publish:users/#', 'mqtt:subscribe:users/#'] });
      expect(() => checkNoEscalation(key, defaults)).not.toThrow();
      expect(() => checkNoEscalation(key, { publish: ['users/u1/status'], subscribe: [] })).not.toThrow();
    });

    it('refuses (403 privilege_escalation) every filter the key does not hold, naming them', () => {
      const key = principal(orgId, { type: 'restricted', scopes: ['tokens:write', 'mqtt:subscribe:users/#'] });
      const problem = problemOf(() => checkNoEscalation(key, { publish: ['users/{user_id}/#'], subscribe: ['users/{user_id}/#', 'broadcast/+'] }));
      expect(problem.status).toBe(403);
      expect(problem.code).toBe('privilege_escalation');
      expect(problem.detail).toBe('this API key cannot grant what it does not hold: publish users/{user_id}/#, subscribe broadcast/+');
    });

    it('refuses the default permissions to a restricted key without mqtt scopes', () => {
      const key = principal(orgId, { type: 'restricted', scopes: ['tokens:write'] });
      expect(problemOf(() => checkNoEscalation(key, defaults)).code).toBe('privilege_escalation');
    });
  });
});
