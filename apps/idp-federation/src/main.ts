import 'reflect-metadata';

import { runMain, startIdpFederationProcess } from '@signet/server';

void runMain('idp-federation', startIdpFederationProcess);
