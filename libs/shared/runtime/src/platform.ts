import type { Provider } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import type { SignetConfig } from '@signet/config';
import { SIGNET_CONFIG } from '@signet/config';
import type { Logger } from '@signet/observability';
import { LOGGER } from '@signet/observability';
import type { SecretBox } from '@signet/persistence';
import { DATA_SOURCE, RevocationStore, SECRET_BOX } from '@signet/persistence';
import type { RevocationBus } from '@signet/revocation';
import { REVOCATION_BUS, RevocationPublisher } from '@signet/revocation';

/** The process-wide objects every feature module injects (LOGGER and METRICS come with the HTTP app). */
export interface PlatformState {
  config: SignetConfig;
  dataSource: DataSource;
  bus: RevocationBus;
  secretBox: SecretBox;
}

/** Providers binding each injection token to its object: one place for apps and tests alike. */
export const platformProviders = (state: PlatformState): Provider[] => [
  { provide: SIGNET_CONFIG, useValue: state.config },
  { provide: DATA_SOURCE, useValue: state.dataSource },
  { provide: REVOCATION_BUS, useValue: state.bus },
  { provide: SECRET_BOX, useValue: state.secretBox },
  // Every credential kind revokes through this one publisher (injected by its class).
  {
    provide: RevocationPublisher,
    useFactory: (logger: Logger): RevocationPublisher<EntityManager> =>
      new RevocationPublisher({ bus: state.bus, log: new RevocationStore(state.dataSource), logger }),
    inject: [LOGGER],
  },
];
