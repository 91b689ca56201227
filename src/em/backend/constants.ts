/**
 * The numerical constants shared by the CPU backend's JS kernels and their WebAssembly SIMD twins
 * (src/em/backend/simd/gen): one definition each, so that both sides take the same branches and
 * give the same bits per row. Changing one changes the generated module (`npm run build:wasm`).
 */
import { EXP_FAST_MIN } from '../../math/exp.js';

export { LN2_HI, LN2_LO } from '../../math/log.js';

/**
 * exp(u) of a term u relative to its row's maximum is taken as 0 below −EXP_CUTOFF: e^-708 ≈ 3e-308,
 * near the smallest normal double; equal to −EXP_FAST_MIN, where expCore's domain starts.
 */
export const EXP_CUTOFF = -EXP_FAST_MIN;
/** logits within ±GATE_DIRECT are exponentiated without subtracting the row maximum (spread ≤ 700) */
export const GATE_DIRECT = 350;
/** the activations' clamps (their descriptors own them, with their SIMD emitters) */
export { TANH_CLAMP } from '../../math/activation/tanh.js';
export { SIG_CLAMP } from '../../math/activation/sigmoid.js';
/**
 * The E-step's branch-free shift (a + b + |a − b|)/2 is off the row maximum by a few u·Σ|v|
 * (u = 2^-53): below Σ|v| = 2^40 that is < 1e-3, so the largest term stays near 1 and no e^u
 * overflows or loses a term to the cutoff that the maximum would keep (beyond that rounding).
 * Larger log-densities (a far, very narrow expert: −1e20 absorbs −1000 in a + b) take Math.max.
 */
export const SHIFT_EXACT_BELOW = 2 ** 40;
/** log of the product of the row sums is taken once it exceeds this (each sum is ≤ k, so no overflow) */
export const PROD_FLUSH = 1e200;
