/** The benchmarks' truths (bench/em.ts, bench/kernels.ts). */
import { modelFromParams, type Model } from '../src/models/types.js';
import { truthPreset } from '../src/models/presets.js';
import { createRng } from '../src/random/rng.js';

/** A random well-posed softmax truth with k experts in d dimensions (the demy truth for k = 2, d = 1). */
export function truthFor(k: number, d: number): Model {
  if (k === 2 && d === 1) return truthPreset('demy');
  const rng = createRng(1000 + 31 * k + d);
  const row = (s: number) => Array.from({ length: d }, () => s * rng.normal());
  return modelFromParams(
    { kind: 'softmax' },
    {
      beta0: Array.from({ length: k }, (_, j) => (j === k - 1 ? 0 : rng.normal())),
      beta1: Array.from({ length: k }, (_, j) => (j === k - 1 ? new Array(d).fill(0) : row(4 / Math.sqrt(d)))),
      a: Array.from({ length: k }, () => row(4 / Math.sqrt(d))),
      b: Array.from({ length: k }, () => 3 * rng.normal()),
      nu: Array.from({ length: k }, () => 0.05 + 0.1 * rng.uniform()),
    },
  );
}
