/**
 * Experiment presets: the papers' simulation set-ups (THEORY.md §7) with the rates of §5 as
 * predictions. Each has the paper's full size and a `quick` size (a minute or so on 2 cores)
 * whose n-grid and replications were tuned to still show the rate (see docs/experiments.md).
 *
 * Metric names follow types.ts: "D1", "D2", "loss", "hellinger" and `${param}|m=${m}`;
 * the temperature presets fit three gates on their own truths and prefix `${label}:`.
 */
import type { ExperimentSpec, FittedModelSpec, NGrid, Prediction } from './types.js';
import { SpecError, validateSpec } from './spec.js';

export interface ExperimentPreset {
  name: string;
  /** one line for `gmoe presets` */
  description: string;
}

const HALF: Prediction = { exponent: -0.5 };
const SLOW: Prediction = { law: '1/log n', note: '[TEMP]: slower than any polynomial rate' };
const PARAMS_M1 = ['beta1', 'a', 'b', 'nu', 'beta0'];

/**
 * Predictions of the exact-specified fit: every loss and single-atom parameter at n^-1/2.
 * @param params the parameters with a prediction (all by default)
 */
function exactTheory(mainLoss: 'D1' | 'loss', params = PARAMS_M1): Record<string, Prediction> {
  const t: Record<string, Prediction> = { [mainLoss]: HALF, hellinger: HALF };
  if (mainLoss === 'D1') t.loss = HALF;
  else t.D1 = HALF;
  for (const p of params) t[`${p}|m=1`] = HALF;
  return t;
}

/**
 * Over-specified fits are read on the median curve: at these n a few replications in ten land on
 * optima with a spurious atom (e.g. a copy of the reference expert switched on only near the edge
 * of the design, with a gate slope of ±50..300), whose D2 is 3–5 decades above the rest and
 * decides the per-n mean.
 */
function medianOf(t: Record<string, Prediction>): Record<string, Prediction> {
  return Object.fromEntries(Object.entries(t).map(([key, p]) => [key, { ...p, statistic: 'median' as const }]));
}

/**
 * The summed weight of a multi-atom cell, |W_j − w*_j|, is exactly 0 in most replications (the
 * translation t0 that minimises the loss matches it), so its median is 0 and only its mean has a slope.
 */
const WEIGHT_M2: Prediction = {
  exponent: -1 / 2,
  note: 'mean curve: the median is 0 (t0 matches this weight exactly in most replications)',
};

/**
 * Over-specified fit with one true atom approximated by m = 2 fitted atoms (k = 3, k* = 2):
 * single-atom cells n^-1/2; in the two-atom cell β1 and b at n^{-1/(2 r̄)} = n^-1/8, a and ν at
 * n^{-1/r̄} = n^-1/4 (r̄(2) = 4), the summed weight at n^-1/2 (it enters D2 linearly).
 */
function overTheory(params = PARAMS_M1, weighted = false): Record<string, Prediction> {
  const t: Record<string, Prediction> = { D2: HALF, loss: HALF, hellinger: HALF };
  for (const p of params) t[`${p}|m=1`] = HALF;
  for (const w of weighted ? ['', '_w'] : ['']) {
    const form = w ? ", D2's weighted form" : '';
    t[`beta1${w}|m=2`] = { exponent: -1 / 8, note: `n^{-1/(2 r̄(2))}${form}` };
    t[`b${w}|m=2`] = { exponent: -1 / 8, note: `n^{-1/(2 r̄(2))}${form}` };
    t[`a${w}|m=2`] = { exponent: -1 / 4, note: `n^{-1/r̄(2)}${form}` };
    t[`nu${w}|m=2`] = { exponent: -1 / 4, note: `n^{-1/r̄(2)}${form}` };
  }
  return { ...medianOf(t), 'beta0|m=2': WEIGHT_M2 };
}

/**
 * Activation (tanh / sigmoid) gates [TEMP, U]: single-atom n^-1/2 (τ included); in a two-atom cell β1, a at
 * n^-1/4, b at n^-1/8, ν at n^-1/4 — the rates D2's exponents (β1 2, a 2, b r̄, ν r̄/2) give its weighted
 * form, which the max over the pair may fall more slowly than (src/voronoi/weighted-errors.ts).
 */
function activationTheory(over: boolean): Record<string, Prediction> {
  const t: Record<string, Prediction> = { [over ? 'D2' : 'D1']: HALF, loss: HALF, hellinger: HALF };
  for (const p of [...PARAMS_M1, 'tau']) t[`${p}|m=1`] = HALF;
  if (over) {
    for (const w of ['', '_w']) {
      const form = w ? ", D2's weighted form" : '';
      t[`beta1${w}|m=2`] = { exponent: -1 / 4, note: `[TEMP, U]${form}` };
      t[`a${w}|m=2`] = { exponent: -1 / 4, note: `[TEMP, U]${form}` };
      t[`b${w}|m=2`] = { exponent: -1 / 8, note: `[TEMP, U] n^{-1/(2 r̄(2))}${form}` };
      t[`nu${w}|m=2`] = { exponent: -1 / 4, note: `[TEMP, U] n^{-1/r̄(2)}${form}` };
    }
    t['tau|m=2'] = HALF;
    return { ...medianOf(t), 'beta0|m=2': WEIGHT_M2 };
  }
  return t;
}

/**
 * Identity (temperature) gate [TEMP]: parameters slower than any polynomial; the density still at n^-1/2.
 * The identified slope β1/τ is a softmax slope (THEORY.md §5, [A]): n^-1/2 in a single-atom cell, and in a
 * two-atom cell the softmax gate's n^-1/8 [DEMY] (medians there, as the other over-specified rows).
 */
function temperatureTheory(over: boolean): Record<string, Prediction> {
  const t: Record<string, Prediction> = { [over ? 'D2' : 'D1']: SLOW, loss: SLOW, hellinger: HALF };
  for (const p of ['beta1', 'tau']) t[`${p}|m=1`] = SLOW;
  const ratio: Record<string, Prediction> = {
    'beta1tau|m=1': { exponent: -0.5, note: '[A] the identified slope β1/τ: a softmax slope' },
  };
  if (!over) return { ...t, ...ratio };
  ratio['beta1tau|m=2'] = { exponent: -1 / 8, note: '[A] the identified slope β1/τ: softmax n^{-1/(2 r̄(2))}' };
  ratio['beta1tau_w|m=2'] = {
    exponent: -1 / 8,
    note: "[A] the identified slope β1/τ: softmax n^{-1/(2 r̄(2))}, D2's weighted form",
  };
  return { ...t, ...medianOf(ratio) };
}

function prefixed(label: string, t: Record<string, Prediction>): Record<string, Prediction> {
  return Object.fromEntries(Object.entries(t).map(([key, p]) => [`${label}:${key}`, p]));
}

/** A preset's size; `quick` may also lighten the fit (fewer starts, EM options). */
interface Sizes {
  n: NGrid;
  replications: number;
  restarts?: number;
  em?: ExperimentSpec['em'];
}

interface PresetDef extends ExperimentPreset {
  full: Sizes;
  quick: Sizes;
  build: () => Omit<ExperimentSpec, 'name' | 'n' | 'replications' | 'seed'>;
}

const NEAR_TRUTH = { kind: 'near-truth', noise: 'shrinking', noiseScale: 1 } as const;
/**
 * The temperature presets start from the authors' near-truth scheme with fixed (not shrinking)
 * noise ×10 (gate sd 0.05, experts 0.5): the identity gate's (β1, τ) are identified only up to the
 * scaling (cβ1, cτ), so its estimate along that direction stays near its start; noise that shrinks
 * with n would turn that into an apparent rate (THEORY §6), and the authors' sd 0.005 would hide it
 * below the statistical error at these n. tanh and sigmoid gates identify τ and must recover from it.
 */
const NEAR_TRUTH_FIXED = { kind: 'near-truth', noise: 'fixed', noiseScale: 10 } as const;
/**
 * τ free for every temperature preset. The identity gate's M-step holds τ where the start put it
 * (Q is exactly flat along (β1, τ) → (cβ1, cτ), src/em/gates/dense.ts) and the near-truth start
 * perturbs τ (init.tau 'perturbed'), so its β1 and τ errors show the start's position along the
 * non-identified direction, whatever n; tanh and sigmoid identify τ and must recover it.
 */
const TEMPERATURE_EM: ExperimentSpec['em'] = { tauMode: 'free' };
/*
 * Over-specified quick sizes run EM to convergence (fitMoE's default tol, SQUAREM-accelerated), from
 * one start: stopping by the authors' rule (tol 1e-6, ≤ 2000 iterations) leaves the fit near its
 * shrinking start and shows slopes faster than the theory's (THEORY §6).
 */
// [DEMY]: 200 sizes in [1e2, 1e5] (exact) or [1e4, 1e5] (over), 40 replications; [TOPK]/[TEMP] grids are not public: the same
const FULL_EXACT: Sizes = { n: { from: 100, to: 100000, count: 200, spacing: 'log' }, replications: 40 };
const FULL_OVER: Sizes = { n: { from: 10000, to: 100000, count: 200, spacing: 'log' }, replications: 40 };

function temperatureModels(k: number): FittedModelSpec[] {
  return [
    { label: 'identity', gate: { kind: 'temperature' }, k, truth: 'temp' },
    { label: 'tanh', gate: { kind: 'activation', activation: 'tanh', bias: 'outside' }, k, truth: 'temp-tanh' },
    {
      label: 'sigmoid',
      gate: { kind: 'activation', activation: 'sigmoid', bias: 'outside' },
      k,
      truth: 'temp-sigmoid',
    },
  ];
}

function temperatureSpecTheory(over: boolean): Record<string, Prediction> {
  return {
    ...prefixed('identity', temperatureTheory(over)),
    ...prefixed('tanh', activationTheory(over)),
    ...prefixed('sigmoid', activationTheory(over)),
  };
}

const PRESETS: PresetDef[] = [
  {
    name: 'demy-exact',
    description: '[DEMY] softmax gate, exact fit k = 2 on the demy truth: D1 and every parameter at n^-1/2',
    full: FULL_EXACT,
    quick: { n: { from: 500, to: 100000, count: 8, spacing: 'log' }, replications: 12 },
    build: () => ({
      description: '[DEMY] exact-specified softmax Gaussian MoE: k = k* = 2, near-truth initialisation, 1 start',
      truth: 'demy',
      design: 'uniform',
      models: [{ label: 'softmax', gate: { kind: 'softmax' }, k: 2 }],
      init: { ...NEAR_TRUTH },
      restarts: 1,
      em: {},
      loss: 'D1',
      theory: exactTheory('D1'),
    }),
  },
  {
    name: 'demy-over',
    description:
      '[DEMY] softmax gate, over-specified fit k = 3: D2 at n^-1/2, the two-atom cell slower (β1, b: n^-1/8; a, ν: n^-1/4)',
    full: FULL_OVER,
    quick: {
      n: { from: 1000, to: 20000, count: 5, spacing: 'log' },
      replications: 16,
      restarts: 1,
      em: { maxIter: 3000 },
    },
    build: () => ({
      description:
        '[DEMY] over-specified softmax Gaussian MoE: k = 3 > k* = 2, near-truth initialisation, best of 5 starts',
      truth: 'demy',
      design: 'uniform',
      models: [{ label: 'softmax', gate: { kind: 'softmax' }, k: 3 }],
      init: { ...NEAR_TRUTH },
      restarts: 5,
      // EM / SQUAREM crawls near the over-specified optimum and stops on its tol before reaching it;
      // the hybrid converges (Newton decrement ≤ 1e-8 nats) at ≈ 1/5 of the CPU (docs/experiments.md)
      em: { optimizer: 'hybrid' },
      loss: 'D2',
      // the two-atom rates bound D2's weighted form, not the max over the pair (src/voronoi/weighted-errors.ts)
      record: { weighted: true },
      theory: overTheory(PARAMS_M1, true),
    }),
  },
  {
    name: 'topk-exact',
    // selecting on the slope score alone collapses this truth (25x > 0 for all x > 0): select on the full logit
    description:
      '[TOPK] top-1 sparse softmax (selection on the full logit), exact fit k = 2, K = 1: loss and parameters at n^-1/2',
    full: FULL_EXACT,
    quick: { n: { from: 500, to: 100000, count: 8, spacing: 'log' }, replications: 12 },
    build: () => ({
      description:
        '[TOPK] exact-specified top-K sparse softmax MoE: k = k* = 2, K = 1 selecting on the full logit (the slope score would collapse this truth)',
      truth: 'topk1',
      design: 'uniform',
      models: [{ label: 'topk', gate: { kind: 'topk', K: 1, selectOn: 'logit' }, k: 2 }],
      init: { ...NEAR_TRUTH },
      restarts: 1,
      em: {},
      loss: 'auto',
      // a top-1 gate is a hard switch at x = −β0/β1: (β0, β1) → c(β0, β1) leaves it unchanged, so the
      // gate's β1 and weights exp(β0) are not identified (only their ratio is): no prediction for them
      theory: exactTheory('loss', ['a', 'b', 'nu']),
    }),
  },
  {
    name: 'topk-over',
    description:
      '[TOPK] top-K sparse softmax, over-specified fit k = 3, K = 2 (= K̄): loss at n^-1/2, the two-atom cell slower',
    full: FULL_OVER,
    // smaller n, one start: a top-K fit costs several times a softmax one
    quick: { n: { from: 1000, to: 5000, count: 3, spacing: 'log' }, replications: 10, restarts: 1 },
    build: () => ({
      description:
        '[TOPK] over-specified top-K sparse softmax MoE: k = 3, K = K̄ = 2 (largest size of one true Voronoi cell), selecting on the full logit, best of 5 starts',
      truth: 'topk1',
      design: 'uniform',
      models: [{ label: 'topk', gate: { kind: 'topk', K: 2, selectOn: 'logit' }, k: 3 }],
      init: { ...NEAR_TRUTH },
      restarts: 5,
      // SQUAREM stops on its tol while the switch still sharpens, below the optimum; the hybrid (crossings
      // cut at the region's boundary, pinned switches) ends 0.5–5 nats higher at ≈ 1/5 of the CPU on
      // full-size cells (docs/performance.md, "Seventh pass")
      em: { optimizer: 'hybrid' },
      loss: 'auto',
      // the truth is a top-1 switch: its gate is seen only through the switch point x = −β0/β1, and
      // the top-2 fit sharpens that switch without bound (β1 grows with the iterations, converged
      // fits: slope +0.49) — no prediction for the single-atom β1 and β0, as in topk-exact
      theory: overTheory(['a', 'b', 'nu']),
    }),
  },
  {
    name: 'temp-exact',
    description:
      '[TEMP] identity (temperature) gate vs tanh and sigmoid activation gates, exact fit k = 2: identity slower than polynomial, tanh/sigmoid n^-1/2',
    full: FULL_EXACT,
    quick: { n: { from: 2000, to: 100000, count: 5, spacing: 'log' }, replications: 6 },
    build: () => ({
      description:
        '[TEMP] temperature (identity activation) gate vs tanh and sigmoid activation gates, each fitted (k = 2, τ free) on data from its own truth (temp, temp-tanh, temp-sigmoid)',
      truth: 'temp',
      design: 'uniform',
      models: temperatureModels(2),
      init: { ...NEAR_TRUTH_FIXED },
      restarts: 1,
      em: TEMPERATURE_EM,
      loss: 'D1',
      theory: temperatureSpecTheory(false),
    }),
  },
  {
    name: 'temp-over',
    description:
      '[TEMP] identity gate vs tanh and sigmoid activation gates, over-specified fit k = 3: identity slower than polynomial, tanh/sigmoid D2 at n^-1/2',
    full: FULL_OVER,
    quick: { n: { from: 1000, to: 10000, count: 4, spacing: 'log' }, replications: 8, restarts: 1 },
    build: () => ({
      description:
        '[TEMP] temperature vs tanh/sigmoid activation gates, over-specified (k = 3, τ free), each on data from its own truth, best of 5 starts',
      truth: 'temp',
      design: 'uniform',
      models: temperatureModels(3),
      init: { ...NEAR_TRUTH_FIXED },
      restarts: 5,
      // as demy-over: EM / SQUAREM crawls near the over-specified optimum; the hybrid converges (or says
      // it crawls on a runaway ridge) at ≈ 1/7 of the CPU on the quick grid (docs/experiments.md)
      em: { ...TEMPERATURE_EM, optimizer: 'hybrid' },
      loss: 'D2',
      // as demy-over: the two-atom rates bound D2's weighted form (tanh, sigmoid; the identity gate's are recorded)
      record: { weighted: true },
      theory: temperatureSpecTheory(true),
    }),
  },
];

/** The experiment presets, in listing order, with one line each. */
export function listExperimentPresets(): ExperimentPreset[] {
  return PRESETS.map(({ name, description }) => ({ name, description }));
}

/** True when `name` is an experiment preset. */
export function isExperimentPreset(name: string): boolean {
  return PRESETS.some((p) => p.name === name);
}

/**
 * The (normalised) spec of an experiment preset.
 * @param options.quick the quick size (about a minute on 2 cores) instead of the paper's
 * @throws SpecError listing the presets when `name` is not one
 * @example presetSpec('demy-exact', { quick: true }).n // [500, 1066, 2272, ...]
 */
export function presetSpec(name: string, options: { quick?: boolean } = {}): ExperimentSpec {
  const p = PRESETS.find((q) => q.name === name);
  if (!p) {
    throw new SpecError(
      `preset must be one of ${PRESETS.map((q) => q.name).join(', ')} (or a spec file). Value: ${name}`,
      'preset',
      name,
    );
  }
  const size = options.quick ? p.quick : p.full;
  const built = p.build();
  const restarts = size.restarts ?? built.restarts;
  // the built description names the full size's starts ("best of 5 starts"); a quick size with fewer says its own
  const description =
    built.description && restarts !== built.restarts
      ? built.description.replace(
          `best of ${built.restarts} starts`,
          restarts === 1 ? '1 start' : `best of ${restarts} starts`,
        )
      : built.description;
  const spec: ExperimentSpec = {
    name: p.name,
    ...built,
    ...(description !== undefined ? { description } : {}),
    n: size.n,
    replications: size.replications,
    restarts,
    em: { ...built.em, ...size.em },
    seed: 1,
  };
  if (options.quick) spec.quick = true;
  return validateSpec(spec);
}
