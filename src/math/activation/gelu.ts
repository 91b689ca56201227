/** gelu, the exact u·Φ(u) (not the tanh approximation). */
import erf from '@stdlib/math-base-special-erf';
import { defineActivation } from './types.js';

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export const gelu = defineActivation({
  name: 'gelu',
  code: -1,
  sigma: (u) => 0.5 * u * (1 + erf(u * SQRT1_2)),
  d1: (u) => 0.5 * (1 + erf(u * SQRT1_2)) + u * INV_SQRT_2PI * Math.exp(-0.5 * u * u),
  // φ(u)(2 − u²)
  d2: (u) => INV_SQRT_2PI * Math.exp(-0.5 * u * u) * (2 - u * u),
  linear: false,
  positivelyHomogeneous: false,
  // x·Φ(x) with erfc(z) from Abramowitz & Stegun 7.1.26 (|error in erf| ≤ 1.5e-7): the device has no erf.
  // Using erfc directly for u < 0 avoids the cancellation 1 + erf(z) ≈ 0.
  gpu: (F) => `var z = ${F('Math.abs(u) * 0.7071067811865476')};
    var tt = ${F(`1.0 / ${F(`1.0 + ${F('0.3275911 * z')}`)}`)};
    var poly = ${F('-1.453152027 + ' + F('tt * 1.061405429'))};
    poly = ${F(`1.421413741 + ${F('tt * poly')}`)};
    poly = ${F(`-0.284496736 + ${F('tt * poly')}`)};
    poly = ${F(`0.254829592 + ${F('tt * poly')}`)};
    poly = ${F('tt * poly')};
    var q = ${F(`poly * ${F(`Math.exp(${F('-z * z')})`)}`)};
    var sg = ${F(`${F('0.5 * u')} * q`)};
    if (u >= 0.0) { sg = ${F(`${F('0.5 * u')} * ${F('2.0 - q')}`)}; }`,
});
