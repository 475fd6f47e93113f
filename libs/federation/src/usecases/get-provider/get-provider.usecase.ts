import { Inject, Injectable } from '@nestjs/common';

import { providerNotFound } from '../../errors';
import { IDP_PROVIDER_REPOSITORY, IdpProviderRepository, StoredIdpProvider } from '../../idp-providers.repository';
import type { GetProviderCommand } from './get-provider.command';

/** One of the org's identity providers; another org's is as unknown as a missing one (404). */
@Injectable()
export class GetProviderUseCase {
  constructor(@Inject(IDP_PROVIDER_REPOSITORY) private readonly providers: IdpProviderRepository) {}

  async execute(command: GetProviderCommand): Promise<StoredIdpProvider> {
    const provider = await this.providers.findInOrg(command.orgId, command.id);
    if (!provider) throw providerNotFound(command.id);
    return provider;
  }
}
