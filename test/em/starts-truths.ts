/** Truths shared by the starts tests (issue 17): k = 2 and 3 with d = 2. */
import { modelFromParams, truthPreset, withGate, type GateSpec, type Model } from '../../src/models/index.js';

/** Issue 17's k = 3, d = 2 truth (the top2-d2 preset, docs/fitting.md), with any gate. */
export const k3d2 = (gate: GateSpec): Model => withGate(truthPreset('top2-d2'), gate);

/** k = 2, d = 2: expert 1 on the side 3x1 − 2x2 > 0 of a line through the origin (top-1 on the slope). */
export const top1SlopeK2D2 = (): Model =>
  modelFromParams(
    { kind: 'topk', K: 1, selectOn: 'slope' },
    {
      beta0: [0.3, 0],
      beta1: [
        [3, -2],
        [0, 0],
      ],
      a: [
        [-2, 1],
        [2, -1],
      ],
      b: [1, -1],
      nu: [0.05, 0.08],
      tau: 1,
    },
  );
