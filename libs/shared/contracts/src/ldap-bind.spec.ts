import { startGrpcServer, type GrpcServerHandle } from './grpc';
import { createLdapBindClient, fromBindConnectMessage, ldapBindRegistration, type LdapBindVerdict } from './ldap-bind';

describe('LdapBind gRPC contract', () => {
  let server: GrpcServerHandle;
  let client: ReturnType<typeof createLdapBindClient>;
  let answer: () => Promise<LdapBindVerdict>;
  const seen: string[][] = [];

  beforeAll(async () => {
    server = await startGrpcServer({
      port: 0,
      host: '127.0.0.1',
      services: [ldapBindRegistration({ bindConnect: (orgId, userName, password) => (seen.push([orgId, userName, password]), answer()) })],
    });
    client = createLdapBindClient(`127.0.0.1:${server.port}`, { timeoutMs: 2000 });
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it.each<LdapBindVerdict>([
    { result: 'allow', permissions: { publish: ['devices/{user_id}/#'], subscribe: ['ops/#'] } },
    { result: 'deny', detail: 'deactivated in the directory' },
    { result: 'ignore' },
    { result: 'unavailable', detail: 'the directory could not be reached: ConnectionError' },
  ])('carries %j', async (verdict) => {
    answer = async () => verdict;
    await expect(client.bindConnect('org_aaaaaaaaaaaa', 'alice', 'pä$$ wörd')).resolves.toEqual(verdict);
    expect(seen.at(-1)).toEqual(['org_aaaaaaaaaaaa', 'alice', 'pä$$ wörd']);
  });

  it('rejects when the service fails, without the password in the error', async () => {
    answer = () => Promise.reject(new Error('boom'));
    const err = (await client.bindConnect('org_aaaaaaaaaaaa', 'alice', 'secret-pw').catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).not.toContain('secret-pw');
  });

  it('decodes an unknown answer as unavailable (nothing to cache)', () => {
    expect(fromBindConnectMessage({ result: 'RESULT_UNSPECIFIED' })).toEqual({ result: 'unavailable', detail: 'the directory-sync service gave no answer' });
    expect(fromBindConnectMessage(undefined).result).toBe('unavailable');
  });
});
