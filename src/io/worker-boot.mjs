// Entry of a worker thread (sweeps, bootstraps): worker threads do not inherit the main thread's TypeScript
// loader (and `--import tsx` in a Worker's execArgv registers it too late on Node 20), so the
// worker registers tsx itself, then loads the TypeScript worker module.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.workerModule);
