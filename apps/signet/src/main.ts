import 'reflect-metadata';

import { runMain, startAllInOne } from '@signet/server';

void runMain('signet', startAllInOne);
