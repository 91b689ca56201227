/**
 * Truth presets (THEORY.md section 7). The [DEMY]/[TOPK] truth has k* = 2, d = 1:
 *   expert 1: β0 = −8, β1 = 25, a = −20, b = 15,  ν = 0.09
 *   expert 2 (reference): β0 = 0, β1 = 0, a = 20, b = −5, ν = 0.16
 */
import { ValidationError } from './validation-error.js';
import { modelFromParams, type GateSpec, type Model, type ModelParams } from './types.js';

export interface TruthPreset {
  name: string;
  description: string;
  model: () => Model;
}

const DEMY: ModelParams = { beta0: [-8, 0], beta1: [[25], [0]], a: [[-20], [20]], b: [15, -5], nu: [0.09, 0.16] };

/**
 * Issue 17's k* = 3, d = 2 truth (docs/fitting.md): three experts on [0, 1]², gate rows that switch
 * inside the square; used with a top-2-on-the-slope gate and a tanh gate.
 */
const K3D2: ModelParams = {
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

const presets: TruthPreset[] = [
  {
    name: 'demy',
    description:
      '[DEMY] softmax truth, k* = 2, d = 1 (β0 = (−8, 0), β1 = (25, 0), a = (−20, 20), b = (15, −5), ν = (0.09, 0.16))',
    model: () => modelFromParams({ kind: 'softmax' }, DEMY),
  },
  {
    name: 'topk1',
    // selecting on the slope score alone would pick expert 1 for every x > 0 (25x > 0) and collapse the truth
    description: '[TOPK] the demy truth with a top-1 gate selecting on the full logit (switch at x = 0.32)',
    model: () => modelFromParams({ kind: 'topk', K: 1, selectOn: 'logit' }, DEMY),
  },
  {
    name: 'temp',
    description: '[TEMP] the demy truth with a temperature gate, τ* = 1 (identity activation)',
    model: () => modelFromParams({ kind: 'temperature' }, { ...DEMY, tau: 1 }),
  },
  {
    name: 'temp-inside',
    description:
      '[TEMP] the temp truth written with the bias inside, (β1·x + β0)/τ (identity activation, τ* = 1): the same density',
    model: () => modelFromParams({ kind: 'activation', activation: 'identity', bias: 'inside' }, { ...DEMY, tau: 1 }),
  },
  {
    name: 'temp-tanh',
    // |tanh| ≤ 1, so the demy gate (β0 = −8) would leave expert 1 with weight ≈ e^-7 everywhere:
    // the experts are demy's, the gate is rescaled to switch inside [0, 1] (our choice; [TEMP]'s set-up is not public)
    description: '[TEMP] demy experts with a tanh activation gate (bias outside), β0 = (−0.5, 0), β1 = (4, 0), τ* = 1',
    model: () =>
      modelFromParams(
        { kind: 'activation', activation: 'tanh', bias: 'outside' },
        { ...DEMY, beta0: [-0.5, 0], beta1: [[4], [0]], tau: 1 },
      ),
  },
  {
    name: 'temp-sigmoid',
    description:
      '[TEMP] demy experts with a sigmoid activation gate (bias outside), β0 = (−0.25, 0), β1 = (8, 0), τ* = 1',
    model: () =>
      modelFromParams(
        { kind: 'activation', activation: 'sigmoid', bias: 'outside' },
        { ...DEMY, beta0: [-0.25, 0], beta1: [[8], [0]], tau: 1 },
      ),
  },
  {
    name: 'd2',
    description: 'test truth: softmax, k* = 2, d = 2',
    model: () =>
      modelFromParams(
        { kind: 'softmax' },
        {
          beta0: [-1, 0],
          beta1: [
            [4, -3],
            [0, 0],
          ],
          a: [
            [-2, 1],
            [3, 2],
          ],
          b: [1, -1],
          nu: [0.05, 0.08],
        },
      ),
  },
  {
    name: 'top2-d2',
    description:
      'k* = 3, d = 2, top-2 gate selecting on the slope (β0 = (0.5, −0.5, 0), β1 = ((3, −2), (−2, 3), 0), docs/fitting.md)',
    model: () => modelFromParams({ kind: 'topk', K: 2, selectOn: 'slope' }, K3D2),
  },
  {
    name: 'tanh-d2',
    description: 'the top2-d2 experts and gate rows with a tanh activation gate (bias outside), τ* = 1',
    model: () => modelFromParams({ kind: 'activation', activation: 'tanh', bias: 'outside' }, K3D2),
  },
  {
    name: 'k3',
    description: 'test truth: softmax, k* = 3, d = 1, well separated experts',
    model: () =>
      modelFromParams(
        { kind: 'softmax' },
        {
          beta0: [-2, 2, 0],
          beta1: [[6], [-6], [0]],
          a: [[-4], [4], [0]],
          b: [3, -3, 0.5],
          nu: [0.04, 0.06, 0.05],
        },
      ),
  },
];

/** All truth presets, in listing order. */
export function listTruthPresets(): readonly TruthPreset[] {
  return presets;
}

/** A fresh copy of a truth preset's model. @throws naming the known presets. */
export function truthPreset(name: string): Model {
  const p = presets.find((q) => q.name === name);
  if (!p)
    throw new ValidationError(
      `truthPreset: name must be one of ${presets.map((q) => q.name).join(', ')} (resolveModel takes a preset name or a model file). Value: ${name}`,
      'name',
      name,
    );
  return p.model();
}

/** The same truth parameters under another gate (used by the temperature experiments). */
export function withGate(m: Model, gate: GateSpec, tau = m.tau): Model {
  return { ...m, gate: { ...gate }, tau };
}
