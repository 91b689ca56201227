/**
 * Top-K sparse softmax gate [TOPK]: softmax over the K experts with the largest score,
 * exactly 0 (log π = −∞) elsewhere. The score is β1_j·x ("slope": bias added after
 * selection) or the full logit β1_j·x + β0_j ("logit"). Ties go to the lower index.
 */
import type { Gate } from './gate.js';
import { slopeScores } from './gate.js';
import { linearDerivs, linearLogits } from './softmax.js';
import type { GateSpec, Model, TopKGateSpec } from '../types.js';
import { fail } from '../validate.js';
import { SOFTMAX_TABLE } from './exponents.js';
import { choiceField, cliNumber, rejectUnknownFields } from './parse.js';

const SELECT_ON = ['slope', 'logit'] as const;

function spec(g: GateSpec): TopKGateSpec {
  if (g.kind !== 'topk') throw new Error(`top-K gate used with gate.kind "${g.kind}"`);
  return g;
}

/**
 * Marks the active set: writes 1 into mask[i*k+j] for the K largest scores of row i, 0 elsewhere.
 * Ties are broken towards the lower index (a later equal score never displaces an earlier one).
 */
export function topKMask(scores: Float64Array, n: number, k: number, K: number, mask: Uint8Array): void {
  for (let i = 0, o = 0; i < n; i++, o += k) {
    for (let j = 0; j < k; j++) mask[o + j] = 0;
    for (let t = 0; t < K; t++) {
      let best = -1;
      let bv = -Infinity;
      for (let j = 0; j < k; j++) {
        if (mask[o + j]) continue;
        const v = scores[o + j]!;
        if (best < 0 || v > bv) {
          best = j;
          bv = v;
        }
      }
      mask[o + best] = 1;
    }
  }
}

/** The scores a top-K model ranks its experts by (linear in β0, β1), n × k. */
export function rankingScores(
  m: Model,
  X: Float64Array,
  n: number,
  out: Float64Array = new Float64Array(n * m.k),
): Float64Array {
  if (m.gate.kind !== 'topk') throw new Error(`rankingScores: gate.kind must be "topk". Value: ${m.gate.kind}`);
  if (m.gate.selectOn === 'logit') linearLogits(m, X, n, out);
  else slopeScores(m, X, n, out);
  return out;
}

/**
 * The active set S_K(x_i) of a top-K model, as an n × k 0/1 mask (the ranking scores left in `scores`):
 * rankingScores and topKMask in one pass over the rows, the same bits. Expert j is active when fewer
 * than K experts precede it in the order "higher score first, then lower index" (topKMask's rule),
 * counted without branches; a row with a NaN score takes topKMask's own loop. Why: the hybrid optimizer
 * checks every trial point's region with it (1 300 calls in a topk-over cell at n = 8·10^4, 4 ms each in
 * the two passes, mostly mispredicted branches; 0.8 ms here); k = 3, d = 1 (the presets' shape) unrolled.
 */
export function activeSet(
  m: Model,
  X: Float64Array,
  n: number,
  mask: Uint8Array = new Uint8Array(n * m.k),
  scores: Float64Array = new Float64Array(n * m.k),
): Uint8Array {
  if (m.gate.kind !== 'topk') throw new Error(`activeSet: gate.kind must be "topk". Value: ${m.gate.kind}`);
  const { k, d, beta0, beta1 } = m;
  const K = m.gate.K;
  const logit = m.gate.selectOn === 'logit';
  if (k === 3 && d === 1) {
    activeSet31(beta0, beta1, logit, X, n, K, mask, scores);
    return mask;
  }
  for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
    let finite = true;
    for (let j = 0; j < k; j++) {
      // slopeScores' sum, then linearLogits' + β0
      let u = 0;
      for (let l = 0; l < d; l++) u += beta1[j * d + l]! * X[xo + l]!;
      if (logit) u = u + beta0[j]!;
      scores[o + j] = u;
      finite &&= u === u;
    }
    if (!finite) {
      topKMask(scores.subarray(o, o + k), 1, k, K, mask.subarray(o, o + k));
      continue;
    }
    for (let j = 0; j < k; j++) {
      const v = scores[o + j]!;
      let before = 0;
      for (let l = 0; l < j; l++) before += +(scores[o + l]! >= v);
      for (let l = j + 1; l < k; l++) before += +(scores[o + l]! > v);
      mask[o + j] = +(before < K);
    }
  }
  return mask;
}

/** activeSet for k = 3, d = 1, unrolled (the same bits). */
function activeSet31(
  beta0: Float64Array,
  beta1: Float64Array,
  logit: boolean,
  X: Float64Array,
  n: number,
  K: number,
  mask: Uint8Array,
  scores: Float64Array,
): void {
  const [c0, c1, c2] = logit ? [beta0[0]!, beta0[1]!, beta0[2]!] : [0, 0, 0];
  const b0 = beta1[0]!,
    b1 = beta1[1]!,
    b2 = beta1[2]!;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const x = X[i]!;
    // 0 + β1 x as slopeScores sums it (−0 becomes +0), + β0 only when ranking on the logit
    let s0 = 0 + b0 * x,
      s1 = 0 + b1 * x,
      s2 = 0 + b2 * x;
    if (logit) {
      s0 = s0 + c0;
      s1 = s1 + c1;
      s2 = s2 + c2;
    }
    scores[o] = s0;
    scores[o + 1] = s1;
    scores[o + 2] = s2;
    if (s0 !== s0 || s1 !== s1 || s2 !== s2) {
      topKMask(scores.subarray(o, o + 3), 1, 3, K, mask.subarray(o, o + 3));
      continue;
    }
    mask[o] = +(+(s1 > s0) + +(s2 > s0) < K);
    mask[o + 1] = +(+(s0 >= s1) + +(s2 > s1) < K);
    mask[o + 2] = +(+(s0 >= s2) + +(s1 >= s2) < K);
  }
}

export const topkGate: Gate = {
  kind: 'topk',
  form: 'masked',
  hasTau: false,
  exponents: SOFTMAX_TABLE,
  parse(raw, ctx) {
    rejectUnknownFields(raw, ['kind', 'K', 'selectOn'], ctx, 'the topk gate');
    const { k } = ctx;
    const K = raw.K;
    if (typeof K !== 'number' || !Number.isInteger(K) || K < 1 || K > k)
      fail(ctx.field('K'), `must be an integer in [1, ${k}] (${ctx.kName} = ${k})`, K);
    return { kind: 'topk', K, selectOn: choiceField(raw, 'selectOn', SELECT_ON, 'slope', ctx) };
  },
  toJSON(g) {
    const { K, selectOn } = spec(g);
    return { kind: 'topk', K, selectOn };
  },
  cliSyntax: 'topk:K[:logit|slope]',
  cliField: (key) => (key === 'selectOn' ? '--select-on' : `--gate topk:${key}`),
  // the ranking defaults to the init model's when it has a top-K gate (near-truth:topk1 selects on the logit)
  // the rule in the syntax (topk:K:logit) or --select-on, else the init model's, else logit (issue 17)
  fromCli: (args, ctx) =>
    args.length === 1 || args.length === 2
      ? {
          kind: 'topk',
          K: cliNumber(args[0]!),
          selectOn: args[1] ?? ctx.selectOn ?? (ctx.init?.kind === 'topk' ? ctx.init.selectOn : 'logit'),
        }
      : undefined,
  cliString(g) {
    const { K, selectOn } = spec(g);
    return `topk:${K}:${selectOn}`;
  },
  describe(g) {
    const { K, selectOn } = spec(g);
    return `topk K=${K} on ${selectOn}`;
  },
  family: () => 'topk',
  lossTopK: (g) => spec(g).K,
  selection(g) {
    const { K, selectOn } = spec(g);
    return { K, selectOn };
  },
  // dividing β0 would move the ranking of a selection on the logit
  biasIsLogWeight: (g) => spec(g).selectOn !== 'logit',
  logits: linearLogits,
  logProbs(m, X, n, out) {
    const mask = activeSet(m, X, n);
    linearLogits(m, X, n, out);
    const k = m.k;
    for (let i = 0, o = 0; i < n; i++, o += k) {
      let mx = -Infinity;
      for (let j = 0; j < k; j++) if (mask[o + j] && out[o + j]! > mx) mx = out[o + j]!;
      let sum = 0;
      for (let j = 0; j < k; j++) if (mask[o + j]) sum += Math.exp(out[o + j]! - mx);
      const ls = Math.log(sum);
      for (let j = 0; j < k; j++) out[o + j] = mask[o + j] ? out[o + j]! - mx - ls : -Infinity;
    }
  },
  logitDerivs: linearDerivs,
  // a common shift of β0 or β1 shifts every score alike, so the ranking and the softmax are unchanged;
  // top-1 on the slope score is an indicator of argmax β1_j·x, which c·β1 (c > 0) leaves unchanged;
  // top-1 on either score is an indicator that c(β0, β1) leaves unchanged
  symmetries: (g) => ({
    translationBeta0: true,
    translationBeta1: true,
    scaling: g.kind === 'topk' && g.K === 1 && g.selectOn === 'slope',
    scalingWithBias: g.kind === 'topk' && g.K === 1,
  }),
  identifiable(g, k, d, free) {
    const { K, selectOn } = spec(g);
    if (K === 1 && selectOn === 'slope') {
      const count = Math.max(0, (k - 1) * d - 1);
      return {
        count,
        convention: `top-1 by slope, π = indicator of argmax β1_j·x: β0 has no effect, β1 counts up to scale: (k − 1)d − 1 = ${count}`,
      };
    }
    return { count: free, convention: `top-${K} counted like the softmax, (k − 1)(d + 1) = ${free}` };
  },
};
