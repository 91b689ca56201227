/**
 * `gmoe select --out DIR`: a directory that is new, empty, or holds an earlier `gmoe select`'s files, which
 * this run replaces (so no file of the earlier run — another gate's subdirectory, an lrt.csv — is left
 * beside the new ones). Anything else in it is refused before the first fit.
 */
import { existsSync, readdirSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.js';

/** The files a selection writes in its directory (and in each gate's subdirectory). */
const OWN_FILES = [
  'select.json',
  'select.csv',
  'lrt.csv',
  'fit.json',
  'select.html',
  'select.png',
  'lrt.html',
  'lrt.png',
];
/** The files a selection of several gates writes at the top. */
const COMPARE_FILES = ['compare.json', 'compare.csv', 'compare.html', 'compare.png', 'fit.json'];

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** Only a selection's own files (a gate's subdirectory: OWN_FILES, select.json among them). */
function isGateDir(dir: string): boolean {
  const names = readdirSync(dir);
  return names.includes('select.json') && names.every((f) => OWN_FILES.includes(f));
}

/** What of `dir` an earlier selection wrote, or null when something else is in it. */
function earlierSelection(dir: string): string[] | null {
  const names = readdirSync(dir);
  const top = names.includes('compare.json') ? COMPARE_FILES : names.includes('select.json') ? OWN_FILES : null;
  if (top === null) return null;
  for (const f of names)
    if (!top.includes(f) && !(top === COMPARE_FILES && isDir(join(dir, f)) && isGateDir(join(dir, f)))) return null;
  return names;
}

/**
 * Refuses an --out that is a file or holds files other than an earlier selection's.
 * @returns a function that removes the earlier selection's files (call it just before each write: only the
 *   first call removes anything)
 */
export function checkSelectOut(out: string): () => void {
  if (!existsSync(out)) return () => {};
  if (!statSync(out).isDirectory()) throw new CliError(`--out ${out} is a file, not a directory: choose a directory`);
  const earlier = earlierSelection(out);
  if (earlier === null)
    throw new CliError(
      `--out ${out} is not empty and holds more than an earlier gmoe select's files: choose a new directory`,
    );
  if (earlier.length === 0) return () => {};
  let done = false;
  return () => {
    if (done) return;
    done = true;
    process.stderr.write(`gmoe select: replacing the earlier selection in ${out}\n`);
    for (const f of earlier) {
      const p = join(out, f);
      if (isDir(p)) {
        for (const g of readdirSync(p)) unlinkSync(join(p, g));
        rmdirSync(p);
      } else unlinkSync(p);
    }
  };
}
