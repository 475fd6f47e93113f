import { Inject, Injectable } from '@nestjs/common';

import { SECRET_BOX } from '@signet/persistence';
import type { SecretBox } from '@signet/persistence';

import { IDP_PROVIDER_REPOSITORY, IdpProviderRepository, StoredIdpProvider } from '../../idp-providers.repository';
import { openProviderSecret, sealProviderSecret } from '../../providers/provider';
import { mergeInput, validateProvider } from '../../providers/settings';
import { GetProviderUseCase } from '../get-provider/get-provider.usecase';
import type { UpdateProviderCommand } from './update-provider.command';

/** Changes a provider: the merged settings are validated as a whole, as on create. */
@Injectable()
export class UpdateProviderUseCase {
  constructor(
    @Inject(IDP_PROVIDER_REPOSITORY) private readonly providers: IdpProviderRepository,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    private readonly getProvider: GetProviderUseCase,
  ) {}

  async execute(command: UpdateProviderCommand): Promise<StoredIdpProvider> {
    const stored = await this.getProvider.execute(command);
    const current = openProviderSecret(this.secretBox, stored);
    const { settings, secret } = await validateProvider(stored.kind, mergeInput(stored.settings, command.settings), current);
    return this.providers.update({
      id: stored.id,
      orgId: stored.orgId,
      kind: stored.kind,
      name: command.name ?? stored.name,
      enabled: command.enabled ?? stored.enabled,
      settings,
      // Re-sealed on every update: also moves it to the current master key.
      secretCiphertext: sealProviderSecret(this.secretBox, stored.id, secret),
    });
  }
}
