import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

import { protoRoot } from './proto';

/** A service of one of the repo's .proto files, with its methods by name. */
export interface LoadedService {
  service: protoLoader.ServiceDefinition;
  method(name: string): protoLoader.MethodDefinition<object, object>;
}

const loaded = new Map<string, LoadedService>();

/** Parses a .proto once per process and returns one of its services. */
export function loadService(protoFile: string, serviceName: string): LoadedService {
  const known = loaded.get(serviceName);
  if (known) return known;
  const definition = protoLoader.loadSync(protoFile, {
    includeDirs: [protoRoot()],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const candidate = definition[serviceName];
  // Message and enum definitions carry a `format`; a service definition is a plain map of methods.
  if (!candidate || 'format' in candidate) throw new Error(`${serviceName} missing from ${protoFile}`);
  const service = candidate as protoLoader.ServiceDefinition;
  const result: LoadedService = {
    service,
    method: (name) => {
      const m = service[name];
      if (!m) throw new Error(`${serviceName}.${name} missing from ${protoFile}`);
      return m;
    },
  };
  loaded.set(serviceName, result);
  return result;
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

export interface GrpcServerHandle {
  /** The bound port (the real one when 0 was asked for). */
  port: number;
  close(): Promise<void>;
}

export interface GrpcServiceRegistration {
  service: protoLoader.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

/** Binds one gRPC server for several services (a process serves all its internal contracts on one port). */
export async function startGrpcServer(options: {
  port: number;
  host?: string;
  services: GrpcServiceRegistration[];
  credentials?: grpc.ServerCredentials;
}): Promise<GrpcServerHandle> {
  const host = options.host ?? '0.0.0.0';
  const server = new grpc.Server();
  for (const s of options.services) server.addService(s.service, s.implementation);

  const target = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, options.credentials ?? grpc.ServerCredentials.createInsecure(), (err, boundPort) => {
      if (err) {
        server.forceShutdown();
        // grpc-js reports e.g. "No address added ... [listen EADDRINUSE: address already in use ...]".
        const code = /\b(E[A-Z]{2,})\b/.exec(err.message)?.[1];
        reject(new GrpcListenError(`gRPC server cannot listen on ${target}: ${err.message}`, code, host, options.port, { cause: err }));
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

/** One unary call with a deadline; rejects with the grpc-js ServiceError (`code` = grpc.status). */
export function unaryCall(
  client: grpc.Client,
  method: protoLoader.MethodDefinition<object, object>,
  request: object,
  timeoutMs: number,
): Promise<object | undefined> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest<object, object>(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err, response) => {
        if (err) reject(err);
        else resolve(response);
      },
    );
  });
}
