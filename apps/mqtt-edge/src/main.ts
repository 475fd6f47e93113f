import 'reflect-metadata';

import { runMain, startEdgeProcess } from '@signet/server';

void runMain('mqtt-edge', startEdgeProcess);
