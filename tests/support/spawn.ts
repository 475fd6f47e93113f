// The tests start Signet's apps the way the benchmark and the chaos campaign do.
export { appEntry, ROOT, SpawnedApp, type AppName } from '../../bench/lib/spawned-app';
