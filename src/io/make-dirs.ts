// mkdir -p that always ends: Node's recursive mkdir loops forever on a parent it cannot create
// (e.g. under /proc, which answers ENOENT to every mkdir).
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fsReason } from './fs-reason.js';

/**
 * Creates `path` and any missing parents, one directory at a time.
 * @throws Error `cannot create <path>: <why>` naming the directory that could not be made
 */
export function makeDirs(path: string): void {
  const missing: string[] = [];
  for (let p = resolve(path); !existsSync(p); p = dirname(p)) {
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (e) {
      // made meanwhile by another process (shards starting together)
      if ((e as NodeJS.ErrnoException | undefined)?.code === 'EEXIST') continue;
      const up = dirname(dir);
      const why = fsReason(e, up, {
        ENOENT: `${up} does not accept new directories`,
        ENOTDIR: `${up} is not a directory`,
      });
      throw new Error(`cannot create ${path}: ${why}`);
    }
  }
}
