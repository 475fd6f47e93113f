import * as grpc from '@grpc/grpc-js';

import { GrpcServiceRegistration, loadService, unaryCall } from './grpc';
import { LDAP_BIND_PROTO, LDAP_BIND_SERVICE } from './proto';

/**
 * The edge's `ldap` chain step asks the directory whether a username and
 * password are good: a bind as the user against the org's LDAP/AD, and the
 * user's permissions from their synced directory groups. In-process in the
 * all-in-one (the directory feature implements it), over gRPC from the
 * directory-sync service otherwise.
 */
export type LdapBindVerdict =
  | { result: 'allow'; permissions: { publish: string[]; subscribe: string[] } }
  /** Wrong password, unknown or deactivated user, no permissions. */
  | { result: 'deny'; detail: string }
  /** The org has no LDAP connection: the step is not for it. */
  | { result: 'ignore' }
  /** The directory could not be asked (down, timeout, TLS): no verdict. */
  | { result: 'unavailable'; detail: string };

export interface LdapBinder {
  bindConnect(orgId: string, userName: string, password: string): Promise<LdapBindVerdict>;
}

/** The credential id of an LDAP-bound session: what the directory's deprovisioning names. */
export const ldapCredentialId = (orgId: string, userName: string): string => `ldap:${orgId}:${userName}`;

interface BindConnectResponseMessage {
  result: string;
  publish: string[];
  subscribe: string[];
  detail: string;
}

function toResponseMessage(v: LdapBindVerdict): BindConnectResponseMessage {
  const empty = { publish: [], subscribe: [], detail: '' };
  switch (v.result) {
    case 'allow':
      return { ...empty, result: 'RESULT_ALLOW', publish: v.permissions.publish, subscribe: v.permissions.subscribe };
    case 'deny':
      return { ...empty, result: 'RESULT_DENY', detail: v.detail };
    case 'ignore':
      return { ...empty, result: 'RESULT_IGNORE' };
    case 'unavailable':
      return { ...empty, result: 'RESULT_UNAVAILABLE', detail: v.detail };
  }
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Decodes defensively: anything not clearly ALLOW/DENY/IGNORE is "unavailable" (no verdict, nothing cached). */
export function fromBindConnectMessage(raw: object | undefined): LdapBindVerdict {
  const m = (raw ?? {}) as Partial<Record<keyof BindConnectResponseMessage, unknown>>;
  switch (m.result) {
    case 'RESULT_ALLOW':
      return { result: 'allow', permissions: { publish: list(m.publish), subscribe: list(m.subscribe) } };
    case 'RESULT_DENY':
      return { result: 'deny', detail: text(m.detail) || 'refused by the directory' };
    case 'RESULT_IGNORE':
      return { result: 'ignore' };
    default:
      return { result: 'unavailable', detail: text(m.detail) || 'the directory-sync service gave no answer' };
  }
}

const ldapBindService = () => loadService(LDAP_BIND_PROTO, LDAP_BIND_SERVICE);

/** The LdapBind implementation for {@link startGrpcServer} (directory-sync side). */
export function ldapBindRegistration(binder: LdapBinder): GrpcServiceRegistration {
  return {
    service: ldapBindService().service,
    implementation: {
      BindConnect: (call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<BindConnectResponseMessage>) => {
        const m = call.request as Record<string, unknown>;
        binder.bindConnect(text(m['org_id']), text(m['user_name']), text(m['password'])).then(
          (v) => callback(null, toResponseMessage(v)),
          // Never echo the request: it carries a password.
          () => {
            const what = 'the LDAP bind failed';
            callback(Object.assign(new Error(what), { code: grpc.status.INTERNAL, details: what, metadata: new grpc.Metadata() }) as grpc.ServiceError);
          },
        );
      },
    },
  };
}

export interface LdapBindClient extends LdapBinder {
  close(): void;
}

/** Client for `signet.directory.v1.LdapBind` (edge side); a failed call rejects (the step answers "server unavailable"). */
export function createLdapBindClient(address: string, options: { credentials?: grpc.ChannelCredentials; timeoutMs: number }): LdapBindClient {
  const bind = ldapBindService().method('BindConnect');
  const client = new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure());
  return {
    bindConnect: async (orgId, userName, password) =>
      fromBindConnectMessage(await unaryCall(client, bind, { org_id: orgId, user_name: userName, password }, options.timeoutMs)),
    close: () => client.close(),
  };
}
