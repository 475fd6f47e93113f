import 'reflect-metadata';

import { runMain } from '@signet/runtime';

import { startMqttEdge } from './mqtt-edge.composition';

void runMain('mqtt-edge', startMqttEdge);
