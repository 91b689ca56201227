/**
 * Activation functions σ for the activation dense-to-sparse gate, with derivatives.
 * gelu is the exact x·Φ(x) (not the tanh approximation).
 */
import erf from '@stdlib/math-base-special-erf';

export const ACTIVATIONS = ['tanh', 'sigmoid', 'gelu', 'relu', 'identity'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** The logistic σ(u) = 1/(1 + e^{−u}), without overflow for large |u|. */
export function sigmoid(u: number): number {
  // branch keeps exp's argument ≤ 0: no overflow for |u| ~ 1000
  if (u >= 0) return 1 / (1 + Math.exp(-u));
  const e = Math.exp(u);
  return e / (1 + e);
}

/** σ(u) */
export function activate(kind: Activation, u: number): number {
  switch (kind) {
    case 'identity': return u;
    case 'tanh': return Math.tanh(u);
    case 'sigmoid': return sigmoid(u);
    case 'relu': return u > 0 ? u : 0;
    case 'gelu': return 0.5 * u * (1 + erf(u * SQRT1_2));
  }
}

/** σ'(u) (relu: 0 at u = 0) */
export function activateDeriv(kind: Activation, u: number): number {
  switch (kind) {
    case 'identity': return 1;
    case 'tanh': { const t = Math.tanh(u); return 1 - t * t; }
    case 'sigmoid': { const s = sigmoid(u); return s * (1 - s); }
    case 'relu': return u > 0 ? 1 : 0;
    case 'gelu': return 0.5 * (1 + erf(u * SQRT1_2)) + u * INV_SQRT_2PI * Math.exp(-0.5 * u * u);
  }
}

/** True when σ(cu) = cσ(u) for c > 0: such σ keep the (β1, τ) scaling symmetry. */
export function isPositivelyHomogeneous(kind: Activation): boolean {
  return kind === 'identity' || kind === 'relu';
}
