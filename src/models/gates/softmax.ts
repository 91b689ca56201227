/** Softmax gate [DEMY]: s_j(x) = β1_j·x + β0_j, π = softmax(s). */
import type { Gate } from './gate.js';
import { logSoftmaxRows, slopeScores } from './gate.js';
import type { Model } from '../types.js';
import { SOFTMAX_TABLE } from './exponents.js';
import { rejectUnknownFields } from './parse.js';

export function linearLogits(m: Model, X: Float64Array, n: number, out: Float64Array): void {
  slopeScores(m, X, n, out);
  const { k, beta0 } = m;
  for (let i = 0, o = 0; i < n; i++, o += k) for (let j = 0; j < k; j++) out[o + j] = out[o + j]! + beta0[j]!;
}

export function linearDerivs(
  m: Model,
  _X: Float64Array,
  n: number,
  dB0: Float64Array,
  dU: Float64Array,
  dTau: Float64Array,
): void {
  const len = n * m.k;
  dB0.fill(1, 0, len);
  dU.fill(1, 0, len);
  dTau.fill(0, 0, len);
}

export const softmaxGate: Gate = {
  kind: 'softmax',
  form: 'linear',
  hasTau: false,
  exponents: SOFTMAX_TABLE,
  parse(raw, ctx) {
    rejectUnknownFields(raw, ['kind'], ctx, 'the softmax gate');
    return { kind: 'softmax' };
  },
  toJSON: () => ({ kind: 'softmax' }),
  cliSyntax: 'softmax',
  cliField: (key) => `--gate softmax ${key}`,
  fromCli: (args) => (args.length === 0 ? { kind: 'softmax' } : undefined),
  cliString: () => 'softmax',
  describe: () => 'softmax',
  family: () => 'softmax',
  lossTopK: () => false,
  biasIsLogWeight: () => true,
  logits: linearLogits,
  logProbs(m, X, n, out) {
    linearLogits(m, X, n, out);
    logSoftmaxRows(out, n, m.k);
  },
  logitDerivs: linearDerivs,
  symmetries: () => ({ translationBeta0: true, translationBeta1: true, scaling: false, scalingWithBias: false }),
  identifiable: (_spec, k, _d, free) => ({
    count: free,
    convention: `(k − 1)(d + 1) = ${free}, reference expert ${k - 1} fixed at β0 = 0, β1 = 0`,
  }),
};
