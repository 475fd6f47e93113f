import 'reflect-metadata';

import { runMain } from '@signet/runtime';

import { startApiKeyService } from './apikey-service.composition';

void runMain('apikey-service', startApiKeyService);
