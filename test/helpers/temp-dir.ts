/**
 * Temporary directories for tests. `tempDir('runner')` makes gmoe-runner-XXXXXX under os.tmpdir() and removes it
 * when it is done with: called inside a test, when that test finishes; anywhere else (the top of a file, a describe
 * block, a beforeAll hook), when the test file finishes (the afterAll of ./temp-dir-setup.ts, a setupFiles entry).
 * A directory whose test failed (for a file's directory: any test of the file) is kept for debugging, with a line
 * on stderr; ./temp-dir-guard.ts, the run's globalSetup, fails a run that leaves any other gmoe-* entry behind.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { onTestFinished, TestRunner, type RunnerTask } from 'vitest';
import { KEPT_MARK } from './temp-dir-guard.js';

const fileDirs: string[] = [];

/** A fresh directory gmoe-<name>-XXXXXX under os.tmpdir(), removed when its test (or test file) finishes. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `gmoe-${name}-`));
  if (TestRunner.getCurrentTest())
    onTestFinished(({ task }) => release(dir, failed(task) ? `the test "${task.name}" failed` : undefined));
  else fileDirs.push(dir);
  return dir;
}

/** Removes the directories tempDir made outside tests (for the file's afterAll). */
export function removeFileTempDirs(file: RunnerTask): void {
  const why = failed(file) ? `a test of ${file.name} failed` : undefined;
  for (const dir of fileDirs.splice(0)) release(dir, why);
}

function failed(task: RunnerTask): boolean {
  return task.result?.state === 'fail' || ('tasks' in task && task.tasks.some(failed));
}

function release(dir: string, keepBecause: string | undefined): void {
  if (keepBecause === undefined || !existsSync(dir)) {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  try {
    writeFileSync(join(dir, KEPT_MARK), `${keepBecause}\n`);
  } catch {
    /* unwritable (a read-only mount): kept all the same, and the guard lists it as left behind */
  }
  process.stderr.write(`temp-dir: keeping ${basename(dir)} for debugging (${keepBecause})\n`);
}
