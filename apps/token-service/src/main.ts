import 'reflect-metadata';

import { runMain } from '@signet/runtime';

import { startTokenService } from './token-service.composition';

void runMain('token-service', startTokenService);
