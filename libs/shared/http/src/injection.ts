import type { Provider } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import type { SignetConfig } from '@signet/config';
import type { Logger } from '@signet/observability';
import { RevocationStore, type SecretBox } from '@signet/persistence';
import { RevocationPublisher, type RevocationBus } from '@signet/revocation';

/**
 * Nest injection tokens for the process-wide objects every feature module
 * uses. The apps provide them (see apps/*\/src/main.ts); features inject them.
 */
/** The validated SignetConfig (@signet/config). */
export const SIGNET_CONFIG = Symbol('SIGNET_CONFIG');
/** The TypeORM DataSource (@signet/persistence), initialised and migrated. */
export const DATA_SOURCE = Symbol('DATA_SOURCE');
/** The RevocationBus (@signet/revocation), started. */
export const REVOCATION_BUS = Symbol('REVOCATION_BUS');
/** The SecretBox (@signet/persistence) that encrypts recoverable secrets at rest. */
export const SECRET_BOX = Symbol('SECRET_BOX');
/** The root pino logger (@signet/observability). */
export const LOGGER = Symbol('LOGGER');

/** The process-wide objects behind the tokens above. */
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
