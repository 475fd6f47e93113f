import fs from 'node:fs';
import path from 'node:path';

/** Include root for every .proto of the repo's internal contracts. */
export function protoRoot(): string {
  // `proto/` sits next to `src/` both in the repo (jest runs the .ts) and in
  // dist/ (the build copies it next to the compiled JS). SIGNET_PROTO_DIR is
  // for layouts that move it, e.g. a bundled image.
  const candidates = [process.env['SIGNET_PROTO_DIR'], path.join(__dirname, '..', 'proto')].filter(
    (dir): dir is string => typeof dir === 'string' && dir.length > 0,
  );
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, SIGNING_KEYS_PROTO))) return dir;
  }
  throw new Error(`gRPC proto files not found (looked in: ${candidates.join(', ')}); set SIGNET_PROTO_DIR`);
}

/** Relative to {@link protoRoot}. */
export const SIGNING_KEYS_PROTO = 'signet/keys/v1/signing_keys.proto';
export const SIGNING_KEYS_PACKAGE = 'signet.keys.v1';
export const SIGNING_KEYS_SERVICE = `${SIGNING_KEYS_PACKAGE}.SigningKeys`;

export const API_KEYS_PROTO = 'signet/keys/v1/api_keys.proto';
export const API_KEYS_SERVICE = `${SIGNING_KEYS_PACKAGE}.ApiKeys`;

export const REVOCATIONS_PROTO = 'signet/revocations/v1/revocations.proto';
export const REVOCATIONS_SERVICE = 'signet.revocations.v1.Revocations';

export const AUTH_WEBHOOKS_PROTO = 'signet/authwebhooks/v1/auth_webhooks.proto';
export const AUTH_WEBHOOKS_SERVICE = 'signet.authwebhooks.v1.AuthWebhooks';

export const LDAP_BIND_PROTO = 'signet/directory/v1/ldap_bind.proto';
export const LDAP_BIND_SERVICE = 'signet.directory.v1.LdapBind';

/** Absolute path of signing_keys.proto, e.g. for a @nestjs/microservices gRPC transport's `protoPath`. */
export function signingKeysProtoPath(): string {
  return path.join(protoRoot(), SIGNING_KEYS_PROTO);
}
