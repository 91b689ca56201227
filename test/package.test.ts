/**
 * gmoe as a dependency: the tarball `npm pack` makes (package.json's "files"), installed into a project
 * outside the repository with only the runtime dependencies beside it (no tsx, no TypeScript sources),
 * as `npm install gmoe-<version>.tgz` leaves it. The library is compiled into a temporary directory, so
 * this test never races another test's build of build/lib.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkoutRoot, packageInfo } from '../src/io/index.js';
import { tempDir } from './helpers/temp-dir.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
};

interface PackList {
  size: number;
  filename: string;
  files: { path: string }[];
}
async function pack(dir: string, args: string[]): Promise<PackList> {
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', ...args], { cwd: dir });
  return (JSON.parse(stdout) as PackList[])[0]!;
}

let tmp = '';
let project = '';
let installed = '';
let tarball: PackList;
beforeAll(async () => {
  tmp = tempDir('package');
  const stage = join(tmp, 'stage');
  mkdirSync(stage);
  for (const f of ['package.json', 'README.md', 'LICENSE', 'bin'])
    cpSync(join(root, f), join(stage, f), { recursive: true });
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(stage, 'build/lib')], { cwd: root });
  tarball = await pack(stage, ['--pack-destination', tmp]);
  project = join(tmp, 'project');
  installed = join(project, 'node_modules', pkg.name);
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['xzf', join(tmp, tarball.filename), '-C', installed, '--strip-components=1']);
  // the runtime dependencies only (their own dependencies resolve from the links' real paths)
  for (const dep of Object.keys(pkg.dependencies)) {
    mkdirSync(join(project, 'node_modules', dep, '..'), { recursive: true });
    symlinkSync(join(root, 'node_modules', dep), join(project, 'node_modules', dep));
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module' }));
}, 600_000);

describe('the npm package', () => {
  it('ships the compiled library and the CLI, not the repository (tests, sources, figures, results)', async () => {
    const paths = tarball.files.map((f) => f.path);
    for (const f of [
      'package.json',
      'bin/gmoe.js',
      'build/lib/index.js',
      'build/lib/index.d.ts',
      'build/lib/cli/main.js',
      'build/lib/experiments/worker.js',
      'build/lib/experiments/cell.js',
      'build/lib/em/backend/simd/module.js',
    ])
      expect(paths).toContain(f);
    expect(paths.filter((p) => !/^(bin|build\/lib)\/|^(package\.json|README\.md|LICENSE)$/.test(p))).toEqual([]);
    expect(paths).toContain('LICENSE'); // package.json says MIT: the text travels with it
    expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
    // and the repository's own listing: its "files" leave out what lies around a checkout
    const listed = (await pack(root, ['--dry-run'])).files.map((f) => f.path);
    expect(listed.filter((p) => /^(test|src|repro|results|bench|docs|tools|scripts|notebooks|\.ci)\//.test(p))).toEqual(
      [],
    );
  });

  it('the gmoe binary runs in a project without tsx (a devDependency) or the TypeScript sources', async () => {
    const bin = join(installed, 'bin', 'gmoe.js');
    const { stdout } = await run(process.execPath, [bin, 'presets'], { cwd: project });
    expect(stdout).toMatch(/^ {2}demy /m);
    expect((await run(process.execPath, [bin, '--version'], { cwd: project })).stdout.trim()).toBe(pkg.version);
  });

  it("exports its package.json (tools read a dependency's version through it)", async () => {
    const script = `import { createRequire } from 'node:module'; console.log(createRequire(import.meta.url).resolve('gmoe/package.json'));`;
    writeFileSync(join(project, 'own.mjs'), script);
    const { stdout } = await run(process.execPath, ['own.mjs'], { cwd: project });
    expect(stdout.trim()).toBe(join(installed, 'package.json'));
  });

  it("a sweep run from the installed library records gmoe's version, and no commit of the project around it", async () => {
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: project, stdio: 'ignore' });
    git('init', '-q');
    git('commit', '-q', '--allow-empty', '-m', 'the consumer project');
    const script = `
      import { createRequire } from 'node:module';
      import { readFileSync } from 'node:fs';
      import { presetSpec, runSweep } from 'gmoe';
      const spec = { ...presetSpec('demy-exact', { quick: true }), n: [200, 300], replications: 1 };
      await runSweep(spec, { outDir: 'run', workers: 1, plots: 'none' });
      const meta = JSON.parse(readFileSync('run/spec.json', 'utf8'));
      const summary = JSON.parse(readFileSync('run/summary.json', 'utf8'));
      const own = createRequire(import.meta.url).resolve('gmoe/package.json');
      console.log(JSON.stringify({ spec: meta.provenance, summary: summary.provenance, own }));
    `;
    writeFileSync(join(project, 'sweep.mjs'), script);
    const { stdout } = await run(process.execPath, ['sweep.mjs'], { cwd: project });
    const out = JSON.parse(stdout) as { spec: Record<string, string>; summary: Record<string, string>; own: string };
    expect(out.spec.gmoe).toBe(pkg.version);
    expect(out.spec.commit).toBeUndefined();
    expect(out.summary.gmoe).toBe(pkg.version);
    expect(out.own).toBe(join(installed, 'package.json'));
  }, 120_000);

  it('in the clone, the provenance is the checkout: its version and root', () => {
    expect(packageInfo()).toEqual({ root: root.replace(/\/$/, ''), version: pkg.version });
    expect(checkoutRoot()).toBe(root.replace(/\/$/, ''));
  });
});
