import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { createSigningKeysClient, GrpcListenError, startSigningKeysServer, type PublicJwk, type SigningKeysServer } from './signing-keys';
import { signingKeysProtoPath } from './proto';

const RSA_KEY: PublicJwk = { kid: 'key_rsa_1', kty: 'RSA', alg: 'RS256', use: 'sig', n: 'sXch...', e: 'AQAB' };
const EC_KEY: PublicJwk = { kid: 'key_ec_1', kty: 'EC', alg: 'ES256', use: 'sig', crv: 'P-256', x: 'f83O...', y: 'x_FE...' };

describe('SigningKeys gRPC contract', () => {
  const servers: SigningKeysServer[] = [];
  const cleanups: (() => void)[] = [];
  afterEach(async () => {
    cleanups.splice(0).forEach((c) => c());
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function serve(listPublicKeys: () => Promise<PublicJwk[]>): Promise<string> {
    const server = await startSigningKeysServer({ port: 0, host: '127.0.0.1', listPublicKeys });
    servers.push(server);
    expect(server.port).toBeGreaterThan(0);
    return `127.0.0.1:${server.port}`;
  }

  function client(address: string): ReturnType<typeof createSigningKeysClient> {
    const c = createSigningKeysClient(address);
    cleanups.push(() => c.close());
    return c;
  }

  it('finds its .proto on disk', () => {
    expect(signingKeysProtoPath()).toMatch(/proto[\\/]signet[\\/]keys[\\/]v1[\\/]signing_keys\.proto$/);
  });

  it('returns the public keys, omitting members that do not apply', async () => {
    const address = await serve(async () => [RSA_KEY, EC_KEY]);
    const keys = await client(address).listPublicKeys(2000);
    expect(keys).toEqual([RSA_KEY, EC_KEY]);
    expect(keys[0]).not.toHaveProperty('crv');
  });

  it('never sends private JWK members even if the source has them', async () => {
    const withPrivate = { ...RSA_KEY, d: 'PRIVATE', p: 'PRIVATE' } as PublicJwk;
    const address = await serve(async () => [withPrivate]);
    const [key] = await client(address).listPublicKeys();
    expect(key).toEqual(RSA_KEY);
    expect(JSON.stringify(key)).not.toContain('PRIVATE');
  });

  it('maps a failing source to a gRPC INTERNAL error', async () => {
    const address = await serve(async () => {
      throw new Error('database down');
    });
    await expect(client(address).listPublicKeys()).rejects.toMatchObject({ code: grpc.status.INTERNAL });
  });

  it('times out with DEADLINE_EXCEEDED', async () => {
    const address = await serve(() => new Promise<PublicJwk[]>((resolve) => setTimeout(() => resolve([]), 1000)));
    await expect(client(address).listPublicKeys(100)).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
  });

  it('rejects with UNAVAILABLE when nothing listens', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await expect(client(`127.0.0.1:${port}`).listPublicKeys(1000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('rejects with code EADDRINUSE when the port is taken', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => squatter.close());
    const { port } = squatter.address() as net.AddressInfo;
    // grpc-js also prints the bind failure itself; keep the test output clean.
    const consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    cleanups.push(() => consoleError.mockRestore());
    const error: unknown = await startSigningKeysServer({ port, host: '127.0.0.1', listPublicKeys: async () => [] }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(GrpcListenError);
    expect(error).toMatchObject({ code: 'EADDRINUSE', port, syscall: 'listen' });
  });
});
