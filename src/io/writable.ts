// A path checked before the work whose result it will hold: a fit or a pilot sweep of minutes must not end on
// "cannot write". The words are writeFileAtomic's.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Refuses a file path that writeFileAtomic could not write now: its directory missing, not a directory or not
 * writable, or the path itself a directory.
 * @throws Error `cannot write PATH: …`
 */
export function checkWritable(path: string): void {
  const dir = dirname(path);
  const refuse = (why: string) => {
    throw new Error(`cannot write ${path}: ${why}`);
  };
  if (!existsSync(dir)) refuse(`directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) refuse(`${dir} is not a directory`);
  if (existsSync(path) && statSync(path).isDirectory()) refuse('it is a directory');
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    refuse(`permission denied in ${dir}`);
  }
}
