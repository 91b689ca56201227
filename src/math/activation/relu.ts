/** σ(u) = max(u, 0) (σ′(0) = 0). */
import { defineActivation } from './types.js';

export const relu = defineActivation({
  name: 'relu',
  code: -1,
  sigma: (u) => (u > 0 ? u : 0),
  d1: (u) => (u > 0 ? 1 : 0),
  d2: () => 0,
  linear: false,
  positivelyHomogeneous: true,
  gpu: () => 'var sg = Math.max(u, 0.0);',
});
