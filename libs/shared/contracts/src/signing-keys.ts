import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GrpcServerHandle, GrpcServiceRegistration, loadService, startGrpcServer, unaryCall } from './grpc';
import { SIGNING_KEYS_PROTO, SIGNING_KEYS_SERVICE } from './proto';

export { GrpcListenError } from './grpc';

/** The algorithms `tkn_` signing keys may have (@signet/credentials' access-token.ts says why these). */
export const ACCESS_TOKEN_ALGS = ['ES256', 'RS256'] as const;
export type AccessTokenAlg = (typeof ACCESS_TOKEN_ALGS)[number];
export const DEFAULT_ACCESS_TOKEN_ALG: AccessTokenAlg = 'ES256';

/** A public JSON Web Key as carried by `signet.keys.v1.PublicJwk`; absent members are omitted. */
export interface PublicJwk {
  kid: string;
  kty: string;
  alg?: string;
  use?: string;
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

const JWK_MEMBERS = ['kid', 'kty', 'alg', 'use', 'n', 'e', 'crv', 'x', 'y'] as const;
type JwkMember = (typeof JWK_MEMBERS)[number];
/** The wire shape: proto3 strings, '' where a member does not apply. */
type PublicJwkMessage = Record<JwkMember, string>;

/** The SigningKeys service and its one method, parsed once per process. */
export function signingKeysService(): { service: protoLoader.ServiceDefinition; listPublicKeys: protoLoader.MethodDefinition<object, object> } {
  const loaded = loadService(SIGNING_KEYS_PROTO, SIGNING_KEYS_SERVICE);
  return { service: loaded.service, listPublicKeys: loaded.method('ListPublicKeys') };
}

export interface SigningKeysServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** Interface to bind (default 0.0.0.0: only public keys are served). */
  host?: string;
  listPublicKeys: () => Promise<PublicJwk[]>;
  /** Default: insecure (plaintext), for an in-cluster network. */
  credentials?: grpc.ServerCredentials;
}

export type SigningKeysServer = GrpcServerHandle;

/** The SigningKeys implementation, for a server that serves several services on one port. */
export function signingKeysRegistration(listPublicKeys: () => Promise<PublicJwk[]>): GrpcServiceRegistration {
  const handler = (_call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<{ keys: PublicJwkMessage[] }>): void => {
    listPublicKeys().then(
      (keys) => callback(null, { keys: keys.map(toMessage) }),
      (err: unknown) =>
        callback({
          code: grpc.status.INTERNAL,
          details: `listing public keys failed: ${err instanceof Error ? err.message : String(err)}`,
        }),
    );
  };
  return { service: signingKeysService().service, implementation: { ListPublicKeys: handler } };
}

/** Serves `signet.keys.v1.SigningKeys` alone (token service side). */
export function startSigningKeysServer(options: SigningKeysServerOptions): Promise<SigningKeysServer> {
  return startGrpcServer({
    port: options.port,
    host: options.host,
    credentials: options.credentials,
    services: [signingKeysRegistration(options.listPublicKeys)],
  });
}

export interface SigningKeysClientOptions {
  /** Default: insecure (plaintext). */
  credentials?: grpc.ChannelCredentials;
  channelOptions?: grpc.ChannelOptions;
}

export interface SigningKeysClient {
  /** Rejects with the grpc-js ServiceError (`code` = grpc.status) on failure or after `timeoutMs` (default 5000). */
  listPublicKeys(timeoutMs?: number): Promise<PublicJwk[]>;
  close(): void;
}

/** Client for `signet.keys.v1.SigningKeys` (edge side); `address` is `host:port` or any grpc-js target. */
export function createSigningKeysClient(address: string, options: SigningKeysClientOptions = {}): SigningKeysClient {
  const { listPublicKeys: method } = signingKeysService();
  const client = new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure(), options.channelOptions);
  return {
    listPublicKeys: async (timeoutMs = 5000) => fromResponse(await unaryCall(client, method, {}, timeoutMs)),
    close: () => client.close(),
  };
}

/** Copies only public JWK members, so a private member (`d`, `p`, …) can never reach the wire. */
function toMessage(jwk: PublicJwk): PublicJwkMessage {
  return {
    kid: jwk.kid,
    kty: jwk.kty,
    alg: jwk.alg ?? '',
    use: jwk.use ?? '',
    n: jwk.n ?? '',
    e: jwk.e ?? '',
    crv: jwk.crv ?? '',
    x: jwk.x ?? '',
    y: jwk.y ?? '',
  };
}

function fromResponse(response: object | undefined): PublicJwk[] {
  const keys: unknown = response && 'keys' in response ? response.keys : undefined;
  if (!Array.isArray(keys)) return [];
  const result: PublicJwk[] = [];
  for (const raw of keys) {
    if (typeof raw !== 'object' || raw === null) continue;
    const message = raw as Partial<Record<JwkMember, unknown>>;
    const jwk: Partial<Record<JwkMember, string>> = {};
    for (const member of JWK_MEMBERS) {
      const value = message[member];
      if (typeof value === 'string' && value !== '') jwk[member] = value;
    }
    // A key without id or type is useless for verification; skip rather than fail the whole set.
    if (jwk.kid !== undefined && jwk.kty !== undefined) result.push({ ...jwk, kid: jwk.kid, kty: jwk.kty });
  }
  return result;
}
