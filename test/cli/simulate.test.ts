/** `gmoe simulate` end to end: spawns `node bin/gmoe.js` as a user would run it. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDatasetCsv } from '../../src/models/dataset-io.js';
import { modelToJSON, writeModelFile } from '../../src/models/io.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { gmoe } from './run-gmoe.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('cli-sim');

describe('gmoe simulate', () => {
  it('the same seed twice gives byte-identical files, equal to the library draws', async () => {
    const [a, b, c] = await Promise.all([
      gmoe(['simulate', '--truth', 'demy', '--n', '1000', '--seed', '7', '--out', 'a.csv'], dir),
      gmoe(['simulate', '--truth', 'demy', '--n', '1000', '--seed', '7', '--out', 'b.csv'], dir),
      gmoe(['simulate', '--truth', 'demy', '--n', '1000', '--seed', '8', '--out', 'c.csv'], dir),
    ]);
    for (const r of [a, b, c]) expect(r.code, r.stderr).toBe(0);
    expect(a.stderr).toMatch(/wrote 1000 samples \(d = 1, design uniform, seed 7\) to a.csv/);
    const fa = readFileSync(join(dir, 'a.csv'));
    expect(fa.equals(readFileSync(join(dir, 'b.csv')))).toBe(true);
    expect(fa.equals(readFileSync(join(dir, 'c.csv')))).toBe(false);
    const lib = simulate(truthPreset('demy'), { n: 1000, seed: 7 });
    const back = readDatasetCsv(join(dir, 'a.csv'));
    expect(back.X).toEqual(lib.X);
    expect(back.y).toEqual(lib.y);
    expect(readDatasetCsv(join(dir, 'a.csv')).n).toBe(1000);
  });

  it('--out - into a reader that stops early (`| head`): exits quietly, no stack trace', async () => {
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('./run-gmoe.js');
    const r = await new Promise<{ code: number | null; stderr: string; head: string }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [BIN, 'simulate', '--truth', 'demy', '--n', '200000', '--seed', '1', '--out', '-'],
        {
          cwd: dir,
        },
      );
      let stderr = '';
      let head = '';
      child.stderr.on('data', (c) => (stderr += c));
      // read the first chunk, then close the pipe as `head` does
      child.stdout.once('data', (c) => {
        head = String(c).split('\n')[0]!;
        child.stdout.destroy();
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr, head }));
    });
    expect(r.head).toBe('x1,y');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('reads a model file, takes --design and --latent, and writes to stdout with --out -', async () => {
    writeModelFile(join(dir, 'k3.json'), truthPreset('k3'));
    const r = await gmoe(
      [
        'simulate',
        '--truth',
        'k3.json',
        '--n',
        '5',
        '--seed',
        '4294967295',
        '--design',
        'grid',
        '--latent',
        '--out',
        '-',
      ],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('x1,y,z');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['0', '0.25', '0.5', '0.75', '1']);
    const lib = simulate(truthPreset('k3'), { n: 5, seed: 4294967295, design: 'grid' });
    expect(lines.slice(1).map((l) => Number(l.split(',')[2]))).toEqual(Array.from(lib.z));
  });

  it('--help describes every option', async () => {
    const r = await gmoe(['simulate', '--help'], dir);
    expect(r.code).toBe(0);
    for (const flag of ['--truth', '--n', '--seed', '--design', '--latent', '--out']) expect(r.stdout).toContain(flag);
  });

  it('bad input: exit code 2, a one-line reason, and no file written', async () => {
    const j = modelToJSON(truthPreset('demy')) as { experts: { nu: number[] } };
    j.experts.nu[1] = -1;
    writeFileSync(join(dir, 'bad-model.json'), JSON.stringify(j));
    const big = modelToJSON(truthPreset('demy')) as { experts: { a: number[][]; b: number[] } };
    big.experts.a[0]![0] = 1.7e308;
    big.experts.b[0] = 1.7e308;
    writeFileSync(join(dir, 'overflow.json'), JSON.stringify(big));
    const base = ['simulate', '--truth', 'demy', '--n', '10', '--seed', '7'];
    const cases: [string[], RegExp][] = [
      [
        ['simulate', '--truth', 'demy', '--n', '0', '--seed', '7'],
        /^gmoe: --n must be an integer in \[1, 100000000\]. Value: 0$/,
      ],
      [['simulate', '--truth', 'demy', '--n', '2.5', '--seed', '7'], /--n must be an integer .* Value: 2.5$/],
      [['simulate', '--truth', 'demy', '--n', 'ten', '--seed', '7'], /--n must be an integer .* Value: ten$/],
      [
        ['simulate', '--truth', 'demy', '--n', '10', '--seed', '0'],
        /^gmoe: --seed must be an integer in \[1, 4294967295\]. Value: 0$/,
      ],
      [
        ['simulate', '--truth', 'demy', '--n', '10', '--seed', '4294967296'],
        /--seed must be an integer in \[1, 4294967295\]. Value: 4294967296$/,
      ],
      [[...base, '--design', 'sobol'], /^gmoe: --design must be one of uniform, grid, normal. Value: sobol$/],
      [
        ['simulate', '--truth', 'demyy', '--n', '10', '--seed', '7'],
        /^gmoe: --truth must be a truth preset \(demy, .*\) or a path to a model file. Value: demyy \(no such preset or file\)$/,
      ],
      [
        ['simulate', '--truth', 'bad-model.json', '--n', '10', '--seed', '7'],
        /^gmoe: bad-model.json: experts.nu\[1\] must be > 0 \(a variance\). Value: -1$/,
      ],
      [
        ['simulate', '--truth', 'overflow.json', '--n', '10', '--seed', '7'],
        /^gmoe: --truth overflow.json: sample \d+ drew y = -?Infinity \(the model's means or variances overflow a double\)$/,
      ],
      [
        ['simulate', '--truth', 'd2', '--n', '10', '--seed', '7', '--design', 'grid'],
        /^gmoe: --design grid needs a truth with d = 1/,
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => gmoe([...args, '--out', 'never.csv'], dir)));
    runs.forEach((r, t) => {
      expect(r.code, cases[t]![0].join(' ')).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr.trimEnd()).toMatch(cases[t]![1]);
      expect(r.stdout).toBe('');
    });
    expect(existsSync(join(dir, 'never.csv'))).toBe(false);

    // a missing directory and a missing required option
    const [noDir, noOut, overflowOut] = await Promise.all([
      gmoe([...base, '--out', join('no', 'such', 'x.csv')], dir),
      gmoe(base, dir),
      gmoe(['simulate', '--truth', 'overflow.json', '--n', '10', '--seed', '7', '--out', '-'], dir),
    ]);
    expect([overflowOut.code, overflowOut.stdout]).toEqual([2, '']); // not a header and Infinity cells
    expect(noDir.code).toBe(2);
    expect(noDir.stderr.trimEnd()).toMatch(/^gmoe: cannot write no\/such\/x.csv: directory no\/such does not exist$/);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/required option '--out <data.csv>' not specified/);
    expect(readdirSync(dir).filter((f) => f.includes('never') || f.endsWith('.tmp'))).toEqual([]);
  });
});
