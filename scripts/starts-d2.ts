/**
 * Issue 17's k = 3, d = 2 truths (docs/fitting.md): top-2 of 3 selecting on the slope and tanh (bias
 * outside, τ* = 1), n = 1e4, data seed 1. `npx tsx scripts/starts-d2.ts DIR` writes DIR/<name>.csv
 * (the data) and DIR/<name>-truth.json (the truth, for `gmoe fit --init near-truth:DIR/<name>-truth.json`);
 * then compare `gmoe fit --data DIR/<name>.csv --gate G --k 3` (the defaults) with the near-truth fit.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { modelFromParams, simulate, type GateSpec } from '../src/models/index.js';
import { writeDatasetCsv } from '../src/models/dataset-io.js';
import { writeModelFile } from '../src/models/io.js';

const PARAMS = {
  beta0: [0.5, -0.5, 0],
  beta1: [
    [3, -2],
    [-2, 3],
    [0, 0],
  ],
  a: [
    [-2, 1],
    [2, -1],
    [0.5, 2],
  ],
  b: [1, -1, 0],
  nu: [0.05, 0.08, 0.06],
  tau: 1,
};
const GATES: [string, GateSpec][] = [
  ['topk2-slope', { kind: 'topk', K: 2, selectOn: 'slope' }],
  ['tanh', { kind: 'activation', activation: 'tanh', bias: 'outside' }],
];

const dir = process.argv[2] ?? 'results/starts-d2';
mkdirSync(dir, { recursive: true });
for (const [name, gate] of GATES) {
  const truth = modelFromParams(gate, PARAMS);
  const s = simulate(truth, { n: 10_000, seed: 1 });
  writeDatasetCsv(join(dir, `${name}.csv`), { n: s.n, d: s.d, X: s.X, y: s.y });
  writeModelFile(join(dir, `${name}-truth.json`), truth);
  process.stdout.write(`wrote ${join(dir, `${name}.csv`)}, ${join(dir, `${name}-truth.json`)}\n`);
}
