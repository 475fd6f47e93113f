import { Inject, Injectable } from '@nestjs/common';

import { IDP_PROVIDER_REPOSITORY, IdpProviderRepository } from '../../idp-providers.repository';
import { GetProviderUseCase } from '../get-provider/get-provider.usecase';
import type { DeleteProviderCommand } from './delete-provider.command';

/** Deletes one of the org's providers (404 when it has none with this id). */
@Injectable()
export class DeleteProviderUseCase {
  constructor(
    @Inject(IDP_PROVIDER_REPOSITORY) private readonly providers: IdpProviderRepository,
    private readonly getProvider: GetProviderUseCase,
  ) {}

  async execute(command: DeleteProviderCommand): Promise<void> {
    await this.getProvider.execute(command);
    await this.providers.deleteInOrg(command.orgId, command.id);
  }
}
