import 'reflect-metadata';

import { runMain } from '@signet/runtime';

import { startAuthWebhooksService } from './auth-webhooks.composition';

void runMain('auth-webhooks', startAuthWebhooksService);
