/**
 * Resume after a real crash: a `gmoe sweep` child process is killed with SIGKILL once
 * results.jsonl has some lines, a half-written line is left at the end (what a kill during a
 * write leaves), and `--resume` must finish with the summary of an uninterrupted run.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recordFingerprint } from '../../src/experiments/store.js';
import type { CellRecord } from '../../src/experiments/types.js';
import { tempDir } from '../helpers/temp-dir.js';

const BIN = fileURLToPath(new URL('../../bin/gmoe.js', import.meta.url));

function gmoe(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * summary.json as compared between the two runs: byte for byte, except the git commit recorded in
 * its provenance — each run records its checkout's commit, and in a shared working tree a commit
 * can land between the two runs (a fresh clone, as in CI, has one commit throughout).
 */
const summaryText = (dir: string) =>
  readFileSync(join(dir, 'summary.json'), 'utf8').replace(/"commit": "[0-9a-f]{40}"/, '"commit": "<sha>"');
const lines = (path: string) =>
  existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '').length
    : 0;
const comparable = (dir: string) =>
  readFileSync(join(dir, 'results.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => recordFingerprint(JSON.parse(l) as CellRecord))
    .sort()
    .join('\n');

describe('gmoe sweep --resume after kill -9', () => {
  it('a killed and resumed sweep gives the summary of an uninterrupted run, recovering a torn last line', async () => {
    const root = tempDir('resume');
    const specPath = join(root, 'tiny.json');
    const cells = 3 * 8;
    writeFileSync(
      specPath,
      JSON.stringify({
        name: 'tiny',
        truth: 'demy',
        models: [{ label: 'softmax', gate: { kind: 'softmax' }, k: 2 }],
        n: [300, 450, 600],
        replications: 8,
        loss: 'D1',
        theory: { D1: { exponent: -0.5 } },
        record: { hellingerPoints: 200 },
        seed: 9,
      }),
    );

    const full = join(root, 'full');
    const r0 = await gmoe(['sweep', specPath, '--out', full, '--workers', '2', '--no-png']);
    expect(r0.stderr).not.toMatch(/FAILED|Error/);
    expect(r0.code).toBe(0);
    expect(lines(join(full, 'results.jsonl'))).toBe(cells);

    const killed = join(root, 'killed');
    const results = join(killed, 'results.jsonl');
    const child = spawn(process.execPath, [BIN, 'sweep', specPath, '--out', killed, '--workers', '1', '--no-png'], {
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    let seen = 0;
    while (seen < 3) {
      await new Promise((r) => setTimeout(r, 10));
      seen = lines(results);
      if (child.exitCode !== null) break;
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const before = lines(results);
    expect(before).toBeGreaterThanOrEqual(3);
    expect(before).toBeLessThan(cells); // really killed part-way
    expect(existsSync(join(killed, 'summary.json'))).toBe(false);
    // what a kill in the middle of a write leaves: half a line without its newline
    appendFileSync(results, '{"n":600,"rep":7,"seed":12345,"model":"soft');

    const r1 = await gmoe(['sweep', specPath, '--out', killed, '--resume', '--workers', '2', '--no-png']);
    expect(r1.code).toBe(0);
    expect(r1.stderr).toMatch(/dropped a torn last line of results\.jsonl/);
    expect(r1.stderr).toMatch(new RegExp(`resuming .*: ${before} of ${cells} cells already done`));
    expect(lines(results)).toBe(cells);
    expect(comparable(killed)).toBe(comparable(full));
    expect(summaryText(killed)).toBe(summaryText(full));
    // the same table; the planner's CPU times come from the cells' measured seconds (as `seconds`, they differ between runs)
    const untimed = (t: string) => t.replace(/CPU [^(;]*\([^)]*\)/g, 'CPU <time>');
    expect(untimed(r1.stdout)).toBe(untimed(r0.stdout));
  });
});
