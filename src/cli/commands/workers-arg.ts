/** `--workers W` of the commands that run worker threads (sweep, plan, select --boot, fit --se boot:B). */
import { availableParallelism } from 'node:os';
import { parseIntOption } from './simulate.js';

/** The number of worker threads: W in [1, 1024], or all cores when the flag is absent. */
export function parseWorkers(raw: string | undefined): number {
  return raw === undefined ? availableParallelism() : parseIntOption(raw, '--workers', 1, 1024);
}
