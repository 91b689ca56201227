/**
 * vitest globalSetup: a run that leaves a gmoe-* entry in the temporary directory fails.
 *
 * The run gets a temporary directory of its own, gmoe-vitest-<pid>-XXXXXX: setup points TMPDIR at it before the
 * workers start, so os.tmpdir() is there in every test file and in every process they spawn (the gmoe CLI, tsx,
 * Chromium). Whatever gmoe-* entry is still in it at teardown was left by this run, not by another run, sweep or
 * notebook writing to /tmp meanwhile: teardown names them, removes the directory and sets exit code 1.
 * Directories tempDir kept for a failed test (./temp-dir.ts) are moved to the real temporary directory instead.
 * Caches kept there by name (tsx's compile cache, the unpacked bundled Chromium) are linked in, so a run neither
 * rebuilds nor deletes them; one first made during the run is moved out for the next.
 * New gmoe-* entries of the real temporary directory (from a process that ignores TMPDIR, or from another process:
 * they cannot be told apart) only draw a warning.
 */
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The file that marks a directory tempDir kept on purpose (its test failed). */
export const KEPT_MARK = '.kept-for-debugging';
/** Caches that live in the temporary directory by name (not a half-unpacked …chromium-147.0.0-0.tmp-XXXXXX). */
const CACHE = /^(tsx-\w+|gmoe-bundled-chromium-[\w.]+-\w+)$/;
const RUN_DIR = /^gmoe-vitest-(\d+)-\w+$/;
const say = (text: string) => process.stderr.write(`temp-dir-guard: ${text}\n`);

export function setup(): () => void {
  const real = tmpdir();
  const started = Date.now();
  removeStaleRunDirs(real);
  const before = new Set(readdirSync(real));
  const run = mkdtempSync(join(real, `gmoe-vitest-${process.pid}-`));
  for (const e of before) if (CACHE.test(e)) symlinkSync(join(real, e), join(run, e));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = run;
  return () => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    const leaked = emptyRunDir(real, run);
    const others = readdirSync(real).filter(
      (e) =>
        e.startsWith('gmoe-') &&
        !before.has(e) &&
        !CACHE.test(e) &&
        !RUN_DIR.test(e) &&
        !existsSync(join(real, e, KEPT_MARK)) &&
        (statSync(join(real, e), { throwIfNoEntry: false })?.mtimeMs ?? 0) >= started,
    );
    if (others.length > 0)
      say(
        `warning: new in ${real} since the run began (by this run if a process ignored TMPDIR, or by another process): ${others.join(', ')}`,
      );
    if (leaked.length > 0) {
      process.exitCode = 1;
      say(
        `FAIL: this run left ${leaked.length} temporary entr${leaked.length === 1 ? 'y' : 'ies'} behind (removed now); ` +
          `make them with tempDir (test/helpers/temp-dir.ts), or remove them in the test file:\n  ${leaked.join('\n  ')}`,
      );
    }
  };
}

/** Empties and removes the run's directory; returns the gmoe-* entries the run left in it. */
function emptyRunDir(real: string, run: string): string[] {
  const leaked: string[] = [];
  for (const e of readdirSync(run)) {
    const p = join(run, e);
    if (CACHE.test(e)) {
      // a cache made during this run is kept for the next one; a link to the real one goes with the directory
      if (!lstatSync(p).isSymbolicLink() && !existsSync(join(real, e))) renameSync(p, join(real, e));
    } else if (e.startsWith('gmoe-')) {
      if (existsSync(join(p, KEPT_MARK))) {
        renameSync(p, join(real, e));
        const why = readFileSync(join(real, e, KEPT_MARK), 'utf8').trim();
        say(`kept ${join(real, e)} for debugging (${why}); remove it when done`);
      } else leaked.push(e);
    }
    // anything else is another tool's (Chromium's, Playwright's): removed with the directory
  }
  try {
    rmSync(run, { recursive: true, force: true });
  } catch (e) {
    say(`warning: could not remove ${run}: ${(e as Error).message}`);
  }
  return leaked;
}

/** Removes the directories of runs that did not reach their teardown (killed): their process is gone. */
function removeStaleRunDirs(real: string): void {
  for (const e of readdirSync(real)) {
    const m = RUN_DIR.exec(e);
    if (m && !alive(Number(m[1]))) rmSync(join(real, e), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
