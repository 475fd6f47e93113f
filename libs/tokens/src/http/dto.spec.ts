import 'reflect-metadata';

import { compiledBodyCheck } from '@signet/http';

import { IssueTokenDto, PermissionsDto, RefreshTokenDto } from './dto';

// The credential calls are the hot routes: their bodies are validated by the compiled check, not class-validator
// per request (compiled-validation.ts). A rule added to these DTOs that the check does not know would put them
// back on the slow path without any test failing but this one.
describe('the token DTOs on the compiled validation path', () => {
  it('issue and refresh bodies are built by the compiled check', () => {
    const issued = compiledBodyCheck(IssueTokenDto)?.({ user_id: 'u1', ttl_seconds: 60, permissions: { publish: ['a/#'] }, client_id: 'c' });
    expect(issued).toBeInstanceOf(IssueTokenDto);
    expect((issued as IssueTokenDto).permissions).toBeInstanceOf(PermissionsDto);
    expect(compiledBodyCheck(RefreshTokenDto)?.({ refresh_token: 'rt_x' })).toBeInstanceOf(RefreshTokenDto);
  });
});
