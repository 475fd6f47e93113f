import 'reflect-metadata';

import { runMain, startTokenServiceProcess } from '@signet/server';

void runMain('token-service', startTokenServiceProcess);
