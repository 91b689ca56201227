// mkdir -p that always ends: Node's recursive mkdir loops forever on a parent it cannot create
// (e.g. under /proc, which answers ENOENT to every mkdir).
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

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
      const code = (e as NodeJS.ErrnoException | undefined)?.code;
      if (code === 'EEXIST') continue; // made meanwhile by another process (shards starting together)
      const why =
        code === 'ENOENT'
          ? `${dirname(dir)} does not accept new directories`
          : code === 'EACCES' || code === 'EPERM'
            ? `permission denied in ${dirname(dir)}`
            : code === 'EROFS'
              ? `${dirname(dir)} is on a read-only file system`
              : code === 'ENOTDIR'
                ? `${dirname(dir)} is not a directory`
                : code === 'ENOSPC'
                  ? 'no space left on the device (ENOSPC)'
                  : e instanceof Error
                    ? e.message
                    : String(e);
      throw new Error(`cannot create ${path}: ${why}`);
    }
  }
}
