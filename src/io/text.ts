import { readFileSync } from 'node:fs';

/**
 * A whole text file as UTF-8.
 * @throws Error `cannot read <what> <path>: <reason>` when it cannot be read
 */
export function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${what} ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
