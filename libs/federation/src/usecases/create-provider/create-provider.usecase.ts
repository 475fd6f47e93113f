import { Inject, Injectable } from '@nestjs/common';

import { SECRET_BOX } from '@signet/persistence';
import type { SecretBox } from '@signet/persistence';

import { IDP_PROVIDER_REPOSITORY, IdpProviderRepository, newIdpProviderId, StoredIdpProvider } from '../../idp-providers.repository';
import { sealProviderSecret } from '../../providers/provider';
import { validateProvider } from '../../providers/settings';
import type { CreateProviderCommand } from './create-provider.command';

/** Adds an identity provider to an org; its shared secret, if any, is stored sealed. */
@Injectable()
export class CreateProviderUseCase {
  constructor(
    @Inject(IDP_PROVIDER_REPOSITORY) private readonly providers: IdpProviderRepository,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
  ) {}

  async execute(command: CreateProviderCommand): Promise<StoredIdpProvider> {
    const { settings, secret } = await validateProvider(command.kind, command.settings);
    const id = newIdpProviderId();
    return this.providers.insert({
      id,
      orgId: command.orgId,
      name: command.name ?? command.kind,
      kind: command.kind,
      enabled: command.enabled ?? true,
      settings,
      secretCiphertext: sealProviderSecret(this.secretBox, id, secret),
    });
  }
}
