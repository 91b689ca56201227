/** `gmoe loss` end to end: spawns `node bin/gmoe.js` as a user would run it. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelToJSON, writeModelFile } from '../../src/models/io.js';
import { truthPreset } from '../../src/models/presets.js';
import { modelFromParams } from '../../src/models/types.js';
import { hellinger, voronoiLoss } from '../../src/voronoi/index.js';
import { gmoe } from './run-gmoe.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('cli-loss');

// the demy truth with its reference expert split in two (an over-specified fit), plus a "fit" block as `gmoe fit` writes
const over = modelFromParams(
  { kind: 'softmax' },
  {
    beta0: [-8 + Math.LN2, 0, 0],
    beta1: [[25.1], [0.01], [-0.01]],
    a: [[-20.05], [20.02], [19.98]],
    b: [15, -5.01, -4.99],
    nu: [0.1, 0.16, 0.15],
  },
);

beforeAll(() => {
  writeModelFile(join(dir, 'truth.json'), truthPreset('demy'));
  writeModelFile(join(dir, 'over.json'), over, { fit: { logLik: -123.4, iterations: 17, converged: true } });
  writeModelFile(join(dir, 'd2.json'), truthPreset('d2'));
  const j = modelToJSON(truthPreset('demy')) as { experts: { nu: number[] } };
  j.experts.nu[1] = -1;
  writeFileSync(join(dir, 'bad.json'), JSON.stringify(j));
  writeModelFile(
    join(dir, 'five.json'),
    modelFromParams(
      { kind: 'softmax' },
      {
        beta0: [-9, -9, -9, -9, 0],
        beta1: [[25], [25.1], [24.9], [25.2], [0]],
        a: [[-20], [-20.1], [-19.9], [-20], [20]],
        b: [15, 15, 15.1, 14.9, -5],
        nu: [0.09, 0.1, 0.08, 0.09, 0.16],
      },
    ),
  );
});

describe('gmoe loss', () => {
  it('--fit <truth file> --truth demy prints a loss of 0', async () => {
    const r = await gmoe(['loss', '--fit', 'truth.json', '--truth', 'demy'], dir);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.loss).toBe(0);
    expect(out.kind).toBe('D1');
    expect(out.t0).toBe(0);
    expect(out.t1).toEqual([0]);
    expect(out.cells).toEqual([
      { true: 0, fitted: [0], errors: { beta1: 0, a: 0, b: 0, nu: 0, weight: 0 }, term: 0 },
      { true: 1, fitted: [1], errors: { beta1: 0, a: 0, b: 0, nu: 0, weight: 0 }, term: 0 },
    ]);
    expect(r.stderr).toBe('');
  });

  it('loads a fit result (model file with a "fit" block) and agrees with the library', async () => {
    const r = await gmoe(
      ['loss', '--fit', 'over.json', '--truth', 'truth.json', '--hellinger', '--hellinger-n', '300'],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const lib = voronoiLoss(over, truthPreset('demy'));
    expect(out.kind).toBe('D2');
    expect(out.loss).toBe(lib.loss);
    expect(out.cells.map((c: { fitted: number[] }) => c.fitted)).toEqual([[0], [1, 2]]);
    expect(out.t0).toBe(lib.t0);
    expect(out.hellinger).toBe(hellinger(over, truthPreset('demy'), { n: 300, seed: 1 }));
    const d1 = JSON.parse((await gmoe(['loss', '--fit', 'over.json', '--truth', 'demy', '--loss', 'D1'], dir)).stdout);
    expect(d1.kind).toBe('D1');
    expect(d1.loss).toBe(voronoiLoss(over, truthPreset('demy'), { loss: 'D1' }).loss);
  });

  it('prints top-K fields for a top-K truth and null for undefined numbers', async () => {
    writeModelFile(
      join(dir, 'one.json'),
      modelFromParams(
        { kind: 'topk', K: 1, selectOn: 'logit' },
        { beta0: [0], beta1: [[0]], a: [[20]], b: [-5], nu: [0.16] },
      ),
    );
    const r = await gmoe(['loss', '--fit', 'one.json', '--truth', 'topk1'], dir);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.topK).toBe(true);
    expect(out.K).toBe(1);
    expect(out.cells[0].fitted).toEqual([]);
    expect(out.cells[0].errors.a).toBeNull();
    const none = JSON.parse(
      (await gmoe(['loss', '--fit', 'one.json', '--truth', 'topk1', '--top-k', 'none'], dir)).stdout,
    );
    expect(none.topK).toBeUndefined();
  });

  it('--help describes every option', async () => {
    const r = await gmoe(['loss', '--help'], dir);
    expect(r.code).toBe(0);
    for (const flag of ['--fit', '--truth', '--loss', '--top-k', '--no-translation', '--hellinger'])
      expect(r.stdout).toContain(flag);
  });

  it('bad input: exit code 2 and a one-line reason', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['loss', '--fit', 'truth.json', '--truth', 'demy', '--loss', 'D3'],
        /^gmoe: --loss must be one of D1, D2, auto\. Value: D3$/,
      ],
      [
        ['loss', '--fit', 'nope.json', '--truth', 'demy'],
        /^gmoe: --fit must be a truth preset \(.*\) or a path to a model file\. Value: nope\.json \(no such preset or file\)$/,
      ],
      [
        ['loss', '--fit', 'bad.json', '--truth', 'demy'],
        /^gmoe: bad\.json: experts\.nu\[1\] must be > 0 \(a variance\)\. Value: -1$/,
      ],
      [
        ['loss', '--fit', 'd2.json', '--truth', 'demy'],
        /^gmoe: fit and truth must have the same input dimension d\. Value: fit d = 2, truth d = 1$/,
      ],
      [
        ['loss', '--fit', 'truth.json', '--truth', 'topk1'],
        /^gmoe: fit and truth must have the same gate family\. Value: fit gate softmax, truth gate topk$/,
      ],
      [['loss', '--fit', 'five.json', '--truth', 'demy'], /^gmoe: r̄\(4\) is unknown/],
      [
        ['loss', '--fit', 'truth.json', '--truth', 'demy', '--top-k', '0'],
        /^gmoe: --top-k must be an integer in \[1, 1000000\]\. Value: 0$/,
      ],
      [
        ['loss', '--fit', 'truth.json', '--truth', 'demy', '--hellinger', '--hellinger-design', 'sobol'],
        /^gmoe: --hellinger-design must be one of uniform, grid, normal\. Value: sobol$/,
      ],
      [['loss', '--truth', 'demy'], /required option '--fit <model\.json>' not specified/],
    ];
    const results = await Promise.all(cases.map(([args]) => gmoe(args, dir)));
    results.forEach((r, s) => {
      expect(r.code, cases[s]![0].join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(cases[s]![1]);
    });
    // every reason written by gmoe itself is exactly one line
    results.slice(0, -1).forEach((r) => expect(r.stderr.trimEnd().split('\n')).toHaveLength(1));
  });
});
