import type { ExecutionContext } from '@nestjs/common';

import type { ApiKeyGuard } from '@signet/api-keys';
import { loadConfig } from '@signet/config';
import { PublicRateLimiter, tokensOptionsFrom } from '@signet/tokens';

import { ExchangeCallerGuard, ExchangeHttpRequest } from './exchange-caller.guard';

/*
 * Which calls of POST /v1/federation/exchange need an API key, and what
 * the others are refused with, without HTTP: the API-key guard is stood in
 * for by one that records being asked.
 */

function guardWith(burst = 100) {
  const asked: ExchangeHttpRequest[] = [];
  const apiKeys = { canActivate: async (context: ExecutionContext) => (asked.push(context.switchToHttp().getRequest()), true) };
  const rateLimit = new PublicRateLimiter(tokensOptionsFrom(loadConfig({ SIGNET_PUBLIC_RATE_PER_IP: '1', SIGNET_PUBLIC_BURST_PER_IP: String(burst) })));
  return { guard: new ExchangeCallerGuard(apiKeys as unknown as ApiKeyGuard, rateLimit), asked };
}

function call(authorization: string | undefined, body: Record<string, unknown>, ip = '198.51.100.1') {
  const request = { headers: authorization === undefined ? {} : { authorization }, body, ip } as unknown as ExchangeHttpRequest;
  const context = { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
  return { request, context };
}

const device = { provider_id: 'idp_000000000000000000000000' };
const backend = { ...device, id_token: 'a.b.c' };

describe('ExchangeCallerGuard', () => {
  it('passes the IdP token of a device on, without asking for an API key', async () => {
    const { guard, asked } = guardWith();
    const { request, context } = call('bearer  eyJ.x.y ', device);
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(request.idpToken).toBe('eyJ.x.y');
    expect(asked).toHaveLength(0);
  });

  it('hands a backend call (id_token in the body) to the API-key guard', async () => {
    const { guard, asked } = guardWith();
    for (const authorization of ['Bearer sk_abc', 'Bearer rk_abc', undefined, '']) {
      await guard.canActivate(call(authorization, backend).context);
    }
    expect(asked).toHaveLength(4);
  });

  it.each([
    ['Basic dXNlcjpwdw==', device, 401, 'malformed_token'],
    ['Basic dXNlcjpwdw==', backend, 401, 'malformed_token'],
    ['Bearer a b', device, 401, 'malformed_token'],
    [undefined, device, 401, 'missing_idp_token'],
    ['', device, 401, 'missing_idp_token'],
    ['Bearer sk_abc', device, 400, 'missing_id_token'],
    ['Bearer eyJ.x.y', backend, 401, 'invalid_api_key'],
  ])('refuses Authorization %j with %j: %i %s', async (authorization, body, status, code) => {
    const { guard, asked } = guardWith();
    await expect(guard.canActivate(call(authorization, body).context)).rejects.toMatchObject({ status, code });
    expect(asked).toHaveLength(0);
  });

  it('limits devices per address, backends not at all', async () => {
    const { guard } = guardWith(2);
    const attempt = (body: Record<string, unknown>, ip: string) => guard.canActivate(call('Bearer eyJ.x.y', body, ip).context);
    const sk = (ip: string) => guard.canActivate(call('Bearer sk_abc', backend, ip).context);
    await attempt(device, '198.51.100.7');
    // Refusals after the limit is checked count too, as they did in the handler.
    await expect(guard.canActivate(call(undefined, device, '198.51.100.7').context)).rejects.toMatchObject({ code: 'missing_idp_token' });
    await expect(attempt(device, '198.51.100.7')).rejects.toMatchObject({ status: 429, code: 'rate_limited' });
    await expect(attempt(device, '198.51.100.8')).resolves.toBe(true);
    for (let i = 0; i < 5; i++) await expect(sk('198.51.100.7')).resolves.toBe(true);
  });
});
