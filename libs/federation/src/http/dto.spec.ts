import 'reflect-metadata';

import { compiledBodyCheck } from '@signet/http';

import { ExchangeDto } from './dto';

// The exchange is a hot route: its body is validated by the compiled check (compiled-validation.ts in @signet/http).
describe('ExchangeDto on the compiled validation path', () => {
  it('a backend exchange body is built by the compiled check', () => {
    const body = { provider_id: 'idp_1', id_token: 'eyJ.x.y', ttl_seconds: 60, client_id: 'c' };
    expect(compiledBodyCheck(ExchangeDto)?.(body)).toEqual(Object.assign(new ExchangeDto(), body));
  });
});
