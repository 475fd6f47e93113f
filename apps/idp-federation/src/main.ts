import 'reflect-metadata';

import { runMain } from '@signet/runtime';

import { startIdpFederation } from './idp-federation.composition';

void runMain('idp-federation', startIdpFederation);
