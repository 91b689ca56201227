/** The default Voronoi exponent tables the gate descriptors own (THEORY.md §4), frozen all the way down. */
import type { ExponentTable } from './gate.js';

/** softmax [DEMY, V]: (β1, b) get r̄, (a, ν) get r̄/2; the τ term is first order. */
export const SOFTMAX_TABLE: ExponentTable = Object.freeze({
  beta1: Object.freeze({ r: 1 }),
  a: Object.freeze({ r: 0.5 }),
  b: Object.freeze({ r: 1 }),
  nu: Object.freeze({ r: 0.5 }),
  tau: 1,
});
/** activation dense-to-sparse [TEMP, U]: β1 and a get 2, b gets r̄, ν gets r̄/2. */
export const ACTIVATION_TABLE: ExponentTable = Object.freeze({
  beta1: 2,
  a: 2,
  b: Object.freeze({ r: 1 }),
  nu: Object.freeze({ r: 0.5 }),
  tau: 1,
});
