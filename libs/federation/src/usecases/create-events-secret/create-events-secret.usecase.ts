import { Inject, Injectable } from '@nestjs/common';

import { SECRET_BOX } from '@signet/persistence';
import type { SecretBox } from '@signet/persistence';

import { eventsSecretContext } from '../../events/events-secret';
import { IDP_EVENT_REPOSITORY, IdpEventRepository } from '../../events/idp-events.repository';
import { newEventsSecret } from '../../events/signatures';
import { GetProviderUseCase } from '../get-provider/get-provider.usecase';
import type { CreateEventsSecretCommand } from './create-events-secret.command';

/** A new events secret for a provider (replacing any previous one), returned once and stored sealed. */
@Injectable()
export class CreateEventsSecretUseCase {
  constructor(
    @Inject(IDP_EVENT_REPOSITORY) private readonly events: IdpEventRepository,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    private readonly getProvider: GetProviderUseCase,
  ) {}

  async execute(command: CreateEventsSecretCommand): Promise<string> {
    const provider = await this.getProvider.execute({ orgId: command.orgId, id: command.providerId });
    const secret = newEventsSecret();
    await this.events.setEventsSecret(provider.id, this.secretBox.seal(secret, eventsSecretContext(provider.id)));
    return secret;
  }
}
