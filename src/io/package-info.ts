/**
 * gmoe's own package, found from this module's place: src/io in a clone, build/lib/io after a build,
 * node_modules/gmoe/build/lib/io once installed. Provenance reads its version and, in a checkout only,
 * its git commit: a fixed number of `..` from the module pointed outside an installed package.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  /** the directory of gmoe's package.json; undefined when none is found above this module */
  root: string | undefined;
  /** its version, or 'unknown' */
  version: string;
}

let cached: PackageInfo | undefined;

function readPackage(dir: string): { name?: unknown; version?: unknown } | undefined {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return undefined;
  }
}

/** The nearest package.json named gmoe at or above this module (read once per process). */
export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = readPackage(dir);
    if (pkg?.name === 'gmoe') {
      cached = { root: dir, version: typeof pkg.version === 'string' ? pkg.version : 'unknown' };
      return cached;
    }
    const up = dirname(dir);
    if (up === dir) return (cached = { root: undefined, version: 'unknown' });
    dir = up;
  }
}

/**
 * gmoe's git checkout, when it runs from one: its root has a .git (a directory, or a worktree's file).
 * An installed copy has none, and git run there would report the enclosing project's commit as gmoe's.
 */
export function checkoutRoot(): string | undefined {
  const { root } = packageInfo();
  return root !== undefined && existsSync(join(root, '.git')) ? root : undefined;
}
