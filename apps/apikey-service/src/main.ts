import 'reflect-metadata';

import { runMain, startApiKeyServiceProcess } from '@signet/server';

void runMain('apikey-service', startApiKeyServiceProcess);
