import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import type { UsageService } from '../usecases/usage/usage.service';
import type { ApiKeysService } from '../usecases/verify/api-keys.service';
import { ApiKeyGuard, ApiKeyRequest, ForEveryRole } from './api-key.guard';
import type { SessionPrincipal, SessionVerifier } from './session';

const session = (role: SessionPrincipal['role']): SessionPrincipal => ({
  accountId: 'acc_1',
  orgId: 'org_1',
  username: 'alice',
  role,
  clientId: 'signet-cli',
  expiresAt: Date.now() + 60_000,
});

function contextFor(request: Partial<ApiKeyRequest>): ExecutionContext {
  return {
    switchToHttp: () => ({ getRequest: () => request }),
    getHandler: () => undefined,
    getClass: () => undefined,
  } as unknown as ExecutionContext;
}

describe('ApiKeyGuard with sign-in sessions', () => {
  const verified: string[] = [];
  // API keys never reach the session verifier, sessions never reach the key service.
  const keys = { verify: async (key: string) => (verified.push(key), Promise.reject(new Error('not an API key test'))) } as unknown as ApiKeysService;
  const usage = { record: () => undefined } as unknown as UsageService;
  const sessions: Record<string, SessionPrincipal> = { tok_owner: session('owner'), tok_viewer: session('viewer') };
  const verifier: SessionVerifier = { verify: async (t) => sessions[t] ?? null };
  const guard = new ApiKeyGuard(keys, new Reflector(), usage, verifier);

  it('an owner session acts for its org with full access', async () => {
    const request: Partial<ApiKeyRequest> = { headers: { authorization: 'Bearer tok_owner' }, method: 'POST' };
    await expect(guard.canActivate(contextFor(request))).resolves.toBe(true);
    expect(request.session?.role).toBe('owner');
    expect(request.apiKey).toMatchObject({ orgId: 'org_1', type: 'secret' });
  });

  it('a viewer reads, and is refused anything else with 403 insufficient_scope', async () => {
    await expect(guard.canActivate(contextFor({ headers: { authorization: 'Bearer tok_viewer' }, method: 'GET' }))).resolves.toBe(true);
    await expect(guard.canActivate(contextFor({ headers: { authorization: 'Bearer tok_viewer' }, method: 'DELETE' }))).rejects.toMatchObject({ status: 403, code: 'insufficient_scope' });
  });

  it('a viewer may make the writes marked @ForEveryRole() (signing itself out everywhere)', async () => {
    class Routes {
      @ForEveryRole()
      signOut(): void {}
    }
    const context = { ...contextFor({ headers: { authorization: 'Bearer tok_viewer' }, method: 'POST' }), getHandler: () => Routes.prototype.signOut, getClass: () => Routes } as unknown as ExecutionContext;
    await expect(guard.canActivate(context)).resolves.toBe(true);
  });

  it('an unknown session is 401 invalid_api_key', async () => {
    await expect(guard.canActivate(contextFor({ headers: { authorization: 'Bearer tok_gone' }, method: 'GET' }))).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
  });

  it('sk_/rk_ bearers still go to the API-key service', async () => {
    await expect(guard.canActivate(contextFor({ headers: { authorization: 'Bearer sk_abc' }, method: 'GET', ip: '127.0.0.1' }))).rejects.toThrow('not an API key test');
    expect(verified).toEqual(['sk_abc']);
  });
});
