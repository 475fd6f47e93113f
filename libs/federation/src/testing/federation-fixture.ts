import { randomBytes } from 'node:crypto';

import type { ApiKeyPrincipal } from '@signet/api-keys';
import { loadConfig, SignetConfig } from '@signet/config';
import { createLogger } from '@signet/observability';
import { SecretBox } from '@signet/persistence';
import { tokensOptionsFrom } from '@signet/tokens';

import { federationOptionsFrom } from '../options';
import { CreateEventsSecretUseCase } from '../usecases/create-events-secret/create-events-secret.usecase';
import { CreateProviderUseCase } from '../usecases/create-provider/create-provider.usecase';
import { DeleteProviderUseCase } from '../usecases/delete-provider/delete-provider.usecase';
import { ExchangeUseCase } from '../usecases/exchange/exchange.usecase';
import { GetProviderUseCase } from '../usecases/get-provider/get-provider.usecase';
import { ReceiveIdpEventUseCase } from '../usecases/receive-event/receive-event.usecase';
import { ListProvidersUseCase } from '../usecases/list-providers/list-providers.usecase';
import { UpdateProviderUseCase } from '../usecases/update-provider/update-provider.usecase';
import { VerifierCache } from '../verification/verifier-cache';
import { InMemoryIdpEventRepository, InMemoryIdpProviderRepository, InMemoryTokenIssuance } from './in-memory-repositories';

/** The federation's use cases over in-memory repositories: policies without HTTP or a database. */
export function federationFixture(env: Record<string, string> = {}) {
  const config: SignetConfig = loadConfig(env);
  const logger = createLogger({ name: 'test', level: 'silent' });
  const secretBox = new SecretBox(randomBytes(32));
  const providers = new InMemoryIdpProviderRepository();
  const issuance = new InMemoryTokenIssuance();
  const getProvider = new GetProviderUseCase(providers);
  const events = new InMemoryIdpEventRepository();
  const verifiers = new VerifierCache(logger, federationOptionsFrom(config));
  return {
    events,
    config,
    secretBox,
    providers,
    issuance,
    createProvider: new CreateProviderUseCase(providers, secretBox),
    listProviders: new ListProvidersUseCase(providers),
    getProvider,
    updateProvider: new UpdateProviderUseCase(providers, secretBox, getProvider),
    deleteProvider: new DeleteProviderUseCase(providers, getProvider),
    exchange: new ExchangeUseCase(providers, issuance, secretBox, tokensOptionsFrom(config), logger, verifiers),
    createEventsSecret: new CreateEventsSecretUseCase(events, secretBox, getProvider),
    receiveEvent: new ReceiveIdpEventUseCase(providers, events, secretBox, logger, verifiers),
  };
}

export function apiKeyCaller(orgId: string, overrides: Partial<ApiKeyPrincipal> = {}): ApiKeyPrincipal {
  return { keyId: 'k_test', orgId, name: 'backend', type: 'secret', scopes: [], ipAllowlist: [], expiresAt: null, willOnRevoke: 'suppress', ...overrides };
}
