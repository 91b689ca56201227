/**
 * The README's library snippet, run as written: extracted from README.md's "## Library" section into a
 * module inside the package (so `'gmoe'` resolves through package.json's exports to build/lib, as after
 * `npm ci`, whose prepare script builds), after a fresh `npm run build`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitMoE, simulate, truthPreset, voronoiLoss } from '../src/index.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/** The first fenced code block after "## Library" in README.md. */
function librarySnippet(readme: string): string {
  const section = readme.split(/^## Library$/m)[1];
  if (section === undefined) throw new Error('README.md has no "## Library" section');
  const m = /^```(?:ts|js)\n([\s\S]*?)^```$/m.exec(section.split(/^## /m)[0]!);
  if (!m) throw new Error('README.md\'s "## Library" section has no ```ts code block');
  return m[1]!;
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  exports: Record<string, { default: string }>;
};
let dir = '';
beforeAll(async () => {
  await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
  });
  dir = mkdtempSync(join(root, 'build', 'readme-'));
}, 600_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README library snippet', () => {
  it('npm ci builds the library (prepare) and the package export is the build', () => {
    expect(pkg.scripts.prepare).toBe('npm run build');
    expect(pkg.exports['.']!.default).toBe('./build/lib/index.js');
  });

  it('runs as written: simulate → fit → loss, and prints what the library computes', async () => {
    const code = librarySnippet(readFileSync(join(root, 'README.md'), 'utf8'));
    expect(code).toMatch(/from 'gmoe'/);
    for (const step of ['simulate(', 'fitMoE(', 'voronoiLoss(']) expect(code).toContain(step);
    const file = join(dir, 'snippet.mjs');
    writeFileSync(file, code);
    const { stdout } = await run(process.execPath, [file], { cwd: dir });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    // the same numbers from the sources
    const truth = truthPreset('demy');
    const data = simulate(truth, { n: 2000, seed: 7 });
    const fit = fitMoE(data, { gate: { kind: 'softmax' }, k: 2, restarts: 3, seed: 1 });
    expect(lines[0]).toContain(`log-likelihood ${fit.logLik}`);
    const loss = voronoiLoss(fit.model, truth);
    expect(lines[1]).toBe(`D1 ${loss.loss}`);
  }, 120_000);
});
