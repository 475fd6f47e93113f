import { Inject, Injectable } from '@nestjs/common';

import { IDP_PROVIDER_REPOSITORY, IdpProviderRepository, StoredIdpProvider } from '../../idp-providers.repository';
import type { ListProvidersCommand } from './list-providers.command';

/** An org's identity providers, oldest first. */
@Injectable()
export class ListProvidersUseCase {
  constructor(@Inject(IDP_PROVIDER_REPOSITORY) private readonly providers: IdpProviderRepository) {}

  execute(command: ListProvidersCommand): Promise<StoredIdpProvider[]> {
    return this.providers.listInOrg(command.orgId);
  }
}
