import { describe, expect, it } from 'vitest';
import { activate } from '../../src/math/activations.js';
import { gateProbs, logGateProbs } from '../../src/models/density.js';
import { activeSet, getGate, topKMask } from '../../src/models/gates/index.js';
import { rankingScores } from '../../src/models/gates/topk.js';
import { cloneModel, type GateSpec, type Model } from '../../src/models/types.js';
import { allGateSpecs, createRng, gateLabel, maxAbsDiff, randomModel, randomX } from './helpers.js';

const EPS = Number.EPSILON;
const K_EXPERTS = 4;
const D = 2;
const N = 64;

/** Logits straight from THEORY.md §2, written independently of src/models/gates. */
function referenceLogits(m: Model, x: ArrayLike<number>): number[] {
  const s: number[] = [];
  for (let j = 0; j < m.k; j++) {
    let u = 0;
    for (let l = 0; l < m.d; l++) u += m.beta1[j * m.d + l]! * x[l]!;
    const g = m.gate;
    if (g.kind === 'softmax' || g.kind === 'topk') s.push(u + m.beta0[j]!);
    else if (g.kind === 'temperature') s.push(u / m.tau + m.beta0[j]!);
    else if (g.bias === 'outside') s.push(activate(g.activation, u) / m.tau + m.beta0[j]!);
    else s.push(activate(g.activation, u + m.beta0[j]!) / m.tau);
  }
  return s;
}

/** π(x) from the reference logits: top-K by sorting (ties → lower index), then a plain softmax. */
function referenceProbs(m: Model, x: ArrayLike<number>): number[] {
  const s = referenceLogits(m, x);
  let active = s.map(() => true);
  const g = m.gate;
  if (g.kind === 'topk') {
    const score = s.map((v, j) => (g.selectOn === 'logit' ? v : v - m.beta0[j]!));
    const order = score.map((v, j) => j).sort((i, j) => score[j]! - score[i]! || i - j);
    const keep = new Set(order.slice(0, g.K));
    active = s.map((_, j) => keep.has(j));
  }
  const mx = Math.max(...s.filter((_, j) => active[j]));
  const e = s.map((v, j) => (active[j] ? Math.exp(v - mx) : 0));
  const z = e.reduce((p, q) => p + q, 0);
  return e.map((v) => v / z);
}

function probsOf(m: Model, X: Float64Array, n: number): Float64Array {
  return gateProbs(m, X, n);
}

describe('gate probabilities π(x)', () => {
  const rng = createRng(11);
  for (const spec of allGateSpecs(K_EXPERTS)) {
    it(`${gateLabel(spec)}: rows sum to 1 and match the formula of THEORY.md §2`, () => {
      const m = randomModel(spec, K_EXPERTS, D, rng);
      const X = randomX(N, D, rng);
      const p = probsOf(m, X, N);
      for (let i = 0; i < N; i++) {
        const row = p.subarray(i * K_EXPERTS, (i + 1) * K_EXPERTS);
        let sum = 0;
        for (const v of row) {
          expect(v).toBeGreaterThanOrEqual(0);
          sum += v;
        }
        // each π_j carries a few ulps of rounding from exp and the normalisation
        expect(Math.abs(sum - 1)).toBeLessThanOrEqual(4 * K_EXPERTS * EPS);
        const ref = referenceProbs(m, X.subarray(i * D, (i + 1) * D));
        const scale = 1 + Math.max(...referenceLogits(m, X.subarray(i * D, (i + 1) * D)).map(Math.abs));
        expect(maxAbsDiff(row, ref)).toBeLessThanOrEqual(16 * scale * EPS);
      }
    });
  }
});

describe('top-K gate', () => {
  const rng = createRng(12);
  for (let K = 1; K <= K_EXPERTS; K++) {
    for (const selectOn of ['slope', 'logit'] as const) {
      it(`K = ${K}, ${selectOn}: exactly K non-zero weights, on the K largest scores`, () => {
        const m = randomModel({ kind: 'topk', K, selectOn }, K_EXPERTS, D, rng);
        const X = randomX(N, D, rng);
        const p = probsOf(m, X, N);
        const logp = logGateProbs(m, X, N);
        const mask = activeSet(m, X, N);
        for (let i = 0; i < N; i++) {
          let nonZero = 0;
          let minActive = Infinity;
          let maxInactive = -Infinity;
          const s = referenceLogits(m, X.subarray(i * D, (i + 1) * D));
          for (let j = 0; j < K_EXPERTS; j++) {
            const score = selectOn === 'logit' ? s[j]! : s[j]! - m.beta0[j]!;
            if (p[i * K_EXPERTS + j]! > 0) {
              nonZero++;
              minActive = Math.min(minActive, score);
              expect(mask[i * K_EXPERTS + j]).toBe(1);
            } else {
              // inactive experts are exactly 0 (log π = −∞), not merely tiny
              expect(p[i * K_EXPERTS + j]).toBe(0);
              expect(logp[i * K_EXPERTS + j]).toBe(-Infinity);
              expect(mask[i * K_EXPERTS + j]).toBe(0);
              maxInactive = Math.max(maxInactive, score);
            }
          }
          expect(nonZero).toBe(K);
          expect(minActive).toBeGreaterThanOrEqual(maxInactive);
        }
      });
    }
  }

  it('activeSet (one pass) gives rankingScores + topKMask bit for bit: ties, ±0, ±∞ and NaN scores', () => {
    const r = createRng(31);
    for (const K of [1, 2, 3])
      for (const selectOn of ['slope', 'logit'] as const)
        for (const [k, d] of [
          [4, 1],
          [4, 2],
          [3, 1],
          [3, 2],
        ] as const) {
          const m = randomModel({ kind: 'topk', K, selectOn }, k, d, r);
          // equal rows of β give exact ties; special values in β0 and X reach every comparison
          m.beta1.set(m.beta1.subarray(0, d), d);
          m.beta0[1] = m.beta0[0]!;
          const X = randomX(64, d, r);
          X[3] = 0;
          X[5] = -0;
          X[7] = Infinity;
          X[9] = -Infinity;
          X[11] = NaN;
          if (selectOn === 'logit') m.beta0[2] = -0;
          m.beta1[d] = -m.beta1[d]!; // and −0 products
          const scores = new Float64Array(64 * k);
          const mask = activeSet(m, X, 64, new Uint8Array(64 * k).fill(7), scores);
          const refScores = rankingScores(m, X, 64);
          const refMask = new Uint8Array(64 * k);
          topKMask(refScores, 64, k, K, refMask);
          expect(Array.from(mask)).toEqual(Array.from(refMask));
          for (let t = 0; t < scores.length; t++) expect(Object.is(scores[t], refScores[t])).toBe(true);
        }
  });

  it('breaks ties towards the lower index', () => {
    const scores = Float64Array.of(1, 3, 3, 3, 0, 0, 0, 0);
    const mask = new Uint8Array(8);
    topKMask(scores, 2, 4, 2, mask);
    expect(Array.from(mask)).toEqual([0, 1, 1, 0, 1, 1, 0, 0]);
  });

  it('the topk1 preset selects on the full logit: expert 0 active exactly where 25x − 8 > 0', () => {
    const m: Model = {
      gate: { kind: 'topk', K: 1, selectOn: 'logit' },
      k: 2,
      d: 1,
      beta0: Float64Array.of(-8, 0),
      beta1: Float64Array.of(25, 0),
      a: Float64Array.of(-20, 20),
      b: Float64Array.of(15, -5),
      nu: Float64Array.of(0.09, 0.16),
      tau: 1,
    };
    const X = Float64Array.of(0, 0.3, 0.319, 0.321, 0.5, 1);
    const p = probsOf(m, X, X.length);
    expect(Array.from({ length: X.length }, (_, i) => p[2 * i])).toEqual([0, 0, 0, 1, 1, 1]);
    // on the slope score alone expert 0 wins for every x > 0 — why the preset does not use it
    const slope = probsOf({ ...m, gate: { kind: 'topk', K: 1, selectOn: 'slope' } }, X, X.length);
    expect(Array.from({ length: X.length }, (_, i) => slope[2 * i])).toEqual([1, 1, 1, 1, 1, 1]);
  });
});

type Transform = (m: Model) => Model;
const t0 = 0.7;
const t1 = [0.9, -1.3];
const c = 2.5;
const translate0: Transform = (m) => {
  const q = cloneModel(m);
  for (let j = 0; j < q.k; j++) q.beta0[j] = q.beta0[j]! + t0;
  return q;
};
const translate1: Transform = (m) => {
  const q = cloneModel(m);
  for (let j = 0; j < q.k; j++) for (let l = 0; l < q.d; l++) q.beta1[j * q.d + l] = q.beta1[j * q.d + l]! + t1[l]!;
  return q;
};
const scale: Transform = (m) => {
  const q = cloneModel(m);
  for (let t = 0; t < q.beta1.length; t++) q.beta1[t] = c * q.beta1[t]!;
  q.tau = c * q.tau;
  return q;
};
const scaleWithBias: Transform = (m) => {
  const q = scale(m);
  for (let j = 0; j < q.k; j++) q.beta0[j] = c * q.beta0[j]!;
  return q;
};

/** max |π(x) − π'(x)| over a random design, for a transform of a random model. */
function change(spec: GateSpec, f: Transform, seed: number): number {
  const rng = createRng(seed);
  const m = randomModel(spec, K_EXPERTS, D, rng);
  const X = randomX(N, D, rng);
  return maxAbsDiff(probsOf(m, X, N), probsOf(f(m), X, N));
}

describe('gate symmetries', () => {
  // an exact symmetry moves π only by rounding; a broken one by far more on a generic model
  const SAME = 64 * EPS * 10;
  const DIFFERENT = 1e-4;

  it('softmax is unchanged by translating all gates (β0 + t0, β1 + t1)', () => {
    expect(change({ kind: 'softmax' }, (m) => translate1(translate0(m)), 21)).toBeLessThanOrEqual(SAME);
  });

  it('temperature is unchanged by (β1, τ) → (cβ1, cτ)', () => {
    expect(change({ kind: 'temperature' }, scale, 22)).toBeLessThanOrEqual(SAME);
  });

  it('tanh activation is changed by (β1, τ) → (cβ1, cτ)', () => {
    expect(change({ kind: 'activation', activation: 'tanh', bias: 'outside' }, scale, 23)).toBeGreaterThan(DIFFERENT);
    expect(change({ kind: 'activation', activation: 'tanh', bias: 'inside' }, scale, 24)).toBeGreaterThan(DIFFERENT);
  });

  const transforms = [
    ['translationBeta0', translate0],
    ['translationBeta1', translate1],
    ['scaling', scale],
    ['scalingWithBias', scaleWithBias],
  ] as const;
  let seed = 100;
  for (const spec of allGateSpecs(K_EXPERTS)) {
    it(`${gateLabel(spec)}: symmetries() matches what the transforms do to π`, () => {
      const sym = getGate(spec).symmetries(spec);
      for (const [name, f] of transforms) {
        const delta = change(spec, f, ++seed);
        if (sym[name]) expect(delta, `${name} claimed`).toBeLessThanOrEqual(SAME);
        else expect(delta, `${name} denied`).toBeGreaterThan(DIFFERENT);
      }
    });
  }
});

describe('logit derivatives', () => {
  const rng = createRng(31);
  for (const spec of allGateSpecs(3)) {
    it(`${gateLabel(spec)}: match central finite differences`, () => {
      const k = 3;
      const n = 16;
      const m = randomModel(spec, k, D, rng, 1);
      const X = randomX(n, D, rng);
      const gate = getGate(spec);
      const dB0 = new Float64Array(n * k);
      const dU = new Float64Array(n * k);
      const dTau = new Float64Array(n * k);
      gate.logitDerivs(m, X, n, dB0, dU, dTau);
      const logits = (q: Model) => {
        const s = new Float64Array(n * k);
        gate.logits(q, X, n, s);
        return s;
      };
      const h = 1e-6;
      // central differences: truncation O(h²·|s'''|) plus rounding O(EPS·|s|/h)
      const tol = 1e-6;
      const fd = (perturb: (q: Model, e: number) => void, exact: (i: number, j: number) => number) => {
        const up = cloneModel(m);
        perturb(up, h);
        const dn = cloneModel(m);
        perturb(dn, -h);
        const su = logits(up);
        const sd = logits(dn);
        for (let i = 0; i < n; i++)
          for (let j = 0; j < k; j++) {
            const num = (su[i * k + j]! - sd[i * k + j]!) / (2 * h);
            expect(Math.abs(num - exact(i, j))).toBeLessThanOrEqual(tol * (1 + Math.abs(num)));
          }
      };
      for (let jj = 0; jj < k; jj++) {
        fd(
          (q, e) => {
            q.beta0[jj] = q.beta0[jj]! + e;
          },
          (i, j) => (j === jj ? dB0[i * k + j]! : 0),
        );
        for (let l = 0; l < D; l++) {
          fd(
            (q, e) => {
              q.beta1[jj * D + l] = q.beta1[jj * D + l]! + e;
            },
            (i, j) => (j === jj ? dU[i * k + j]! * X[i * D + l]! : 0),
          );
        }
      }
      if (spec.kind === 'temperature' || spec.kind === 'activation')
        fd(
          (q, e) => {
            q.tau += e;
          },
          (i, j) => dTau[i * k + j]!,
        );
      else expect(maxAbsDiff(dTau, new Float64Array(n * k))).toBe(0);
    });
  }
});
