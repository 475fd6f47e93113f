import 'reflect-metadata';

import { runMain } from '@signet/runtime';

import { startAllInOne } from './signet.composition';

void runMain('signet', startAllInOne);
