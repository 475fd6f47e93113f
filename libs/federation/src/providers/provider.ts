import type { SecretBox } from '@signet/persistence';

import type { StoredIdpProvider } from '../idp-providers.repository';
import type { ProviderSettings } from './settings';

/** SecretBox context: a sealed secret only opens for the provider it was stored with. */
export const secretContext = (providerId: string): string => `idp_provider:${providerId}`;

export const sealProviderSecret = (box: SecretBox, providerId: string, secret: string | null): string | null =>
  secret === null ? null : box.seal(secret, secretContext(providerId));

export const openProviderSecret = (box: SecretBox, provider: Pick<StoredIdpProvider, 'id' | 'secretCiphertext'>): string | null =>
  provider.secretCiphertext === null ? null : box.open(provider.secretCiphertext, secretContext(provider.id));

/** A provider as the exchange needs it: settings and the secret in clear (memory only). */
export interface LoadedProvider {
  id: string;
  orgId: string;
  kind: StoredIdpProvider['kind'];
  enabled: boolean;
  settings: ProviderSettings;
  secret: string | null;
  /** Changes whenever the row does: verifiers are cached per version. */
  version: string;
}

export const loadedProvider = (box: SecretBox, stored: StoredIdpProvider): LoadedProvider => ({
  id: stored.id,
  orgId: stored.orgId,
  kind: stored.kind,
  enabled: stored.enabled,
  settings: stored.settings,
  secret: openProviderSecret(box, stored),
  version: stored.updatedAt.toISOString(),
});
