import { hash as bcryptHash } from '@node-rs/bcrypt';

import { ApiKeyType, newApiKey } from '@signet/credentials';

import type { ApiKeysRepository, ApiKeysTransaction } from '../../api-keys.repository';

/** bcrypt work factor for API keys (≈ tens of ms here; the verdict cache keeps it off the hot path). */
export const API_KEY_BCRYPT_COST = 10;

export interface CreateApiKeyInput {
  orgId: string;
  name: string;
  type?: ApiKeyType;
  scopes?: string[];
  ipAllowlist?: string[];
  expiresAt?: Date | null;
  rotatedFrom?: string | null;
}

export interface CreatedApiKey {
  keyId: string;
  /** The key string: shown once, never stored. */
  apiKey: string;
}

/** Mints a key, stores its bcrypt hash and returns the string, the only time it is ever available. Checks no rights. */
export async function issueApiKey(store: Pick<ApiKeysRepository | ApiKeysTransaction, 'insert'>, input: CreateApiKeyInput): Promise<CreatedApiKey> {
  const type = input.type ?? 'secret';
  const key = newApiKey(type);
  await store.insert({
    id: key.keyId,
    orgId: input.orgId,
    name: input.name,
    type,
    keyHash: await bcryptHash(key.key, API_KEY_BCRYPT_COST),
    scopes: type === 'secret' ? [] : (input.scopes ?? []),
    ipAllowlist: input.ipAllowlist ?? [],
    expiresAt: input.expiresAt ?? null,
    rotatedFrom: input.rotatedFrom ?? null,
  });
  return { keyId: key.keyId, apiKey: key.key };
}
