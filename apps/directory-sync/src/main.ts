import 'reflect-metadata';

import { runMain } from '@signet/runtime';

import { startDirectorySync } from './directory-sync.composition';

void runMain('directory-sync', startDirectorySync);
