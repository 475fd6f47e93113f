import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoRoot, SIGNING_KEYS_PROTO, SIGNING_KEYS_SERVICE } from './proto';

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

interface LoadedService {
  service: protoLoader.ServiceDefinition;
  listPublicKeys: protoLoader.MethodDefinition<object, object>;
}

let loaded: LoadedService | null = null;

/** Parses the .proto once per process. */
function loadSigningKeys(): LoadedService {
  if (loaded) return loaded;
  const definition = protoLoader.loadSync(SIGNING_KEYS_PROTO, {
    includeDirs: [protoRoot()],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const service = definition[SIGNING_KEYS_SERVICE];
  // Message and enum definitions carry a `format`; a service definition is a plain map of methods.
  if (!service || 'format' in service) throw new Error(`${SIGNING_KEYS_SERVICE} missing from ${SIGNING_KEYS_PROTO}`);
  const listPublicKeys = (service as protoLoader.ServiceDefinition)['ListPublicKeys'];
  if (!listPublicKeys) throw new Error(`${SIGNING_KEYS_SERVICE}.ListPublicKeys missing from ${SIGNING_KEYS_PROTO}`);
  loaded = { service: service as protoLoader.ServiceDefinition, listPublicKeys };
  return loaded;
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

export interface SigningKeysServer {
  /** The bound port (the real one when 0 was asked for). */
  port: number;
  close(): Promise<void>;
}

/** A listen failure carrying the Node-style `code` (e.g. EADDRINUSE) that grpc-js only puts in its message. */
export class GrpcListenError extends Error {
  readonly syscall = 'listen';
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly address: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GrpcListenError';
  }
}

/** Serves `signet.keys.v1.SigningKeys` (token service side). */
export async function startSigningKeysServer(options: SigningKeysServerOptions): Promise<SigningKeysServer> {
  const { service } = loadSigningKeys();
  const host = options.host ?? '0.0.0.0';
  const server = new grpc.Server();
  const listPublicKeys = (
    _call: grpc.ServerUnaryCall<object, object>,
    callback: grpc.sendUnaryData<{ keys: PublicJwkMessage[] }>,
  ): void => {
    options.listPublicKeys().then(
      (keys) => callback(null, { keys: keys.map(toMessage) }),
      (err: unknown) =>
        callback({
          code: grpc.status.INTERNAL,
          details: `listing public keys failed: ${err instanceof Error ? err.message : String(err)}`,
        }),
    );
  };
  server.addService(service, { ListPublicKeys: listPublicKeys });

  const target = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, options.credentials ?? grpc.ServerCredentials.createInsecure(), (err, boundPort) => {
      if (err) {
        server.forceShutdown();
        // grpc-js reports e.g. "No address added ... [listen EADDRINUSE: address already in use ...]".
        const code = /\b(E[A-Z]{2,})\b/.exec(err.message)?.[1];
        reject(new GrpcListenError(`gRPC SigningKeys server cannot listen on ${target}: ${err.message}`, code, host, options.port, { cause: err }));
        return;
      }
      resolve(boundPort);
    });
  });

  let closing: Promise<void> | null = null;
  return {
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        // Let in-flight calls finish, but never hang a shutdown on a stuck client.
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return closing;
    },
  };
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
  const { listPublicKeys: method } = loadSigningKeys();
  const client = new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure(), options.channelOptions);
  return {
    listPublicKeys: (timeoutMs = 5000) =>
      new Promise<PublicJwk[]>((resolve, reject) => {
        client.makeUnaryRequest<object, object>(
          method.path,
          method.requestSerialize,
          method.responseDeserialize,
          {},
          new grpc.Metadata(),
          { deadline: Date.now() + timeoutMs },
          (err, response) => {
            if (err) reject(err);
            else resolve(fromResponse(response));
          },
        );
      }),
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
