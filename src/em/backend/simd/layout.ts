/**
 * The memory layout of the SIMD kernels' arena, declared once: the generators
 * (src/em/backend/simd/gen) bake these byte offsets into the module, and arena.ts allocates
 * around them. Changing one changes the generated module (`npm run build:wasm`).
 *
 *   [EXP_TABLE, +2048)  2^(j/128) as (hi, lo) pairs (src/math/exp.ts T_HI, T_LO)
 *   [LOG_TABLE, +2048)  log c_i as (hi, lo) pairs (src/math/log.ts LOGC_HI, LOGC_LO)
 *   [PAR, +PAR_LEN·8)   a call's parameters (coefficients, shifts), written by the driver
 *   [ACC, +ACC_LEN·8)   a call's running sums, read at entry and written at exit
 *   [GPAR, +GPAR_LEN·8) the generic (any k, d) kernels' parameters, written by their bindings
 *   [GACC, +GACC_LEN·8) the generic sum kernels' per-lane accumulators (two doubles per sum)
 *   [SCR, +SCR_LEN·8)   the generic kernels' per-pair scratch (k or d f64x2 values, monomials)
 *   [GBLK, +GBLK_LEN·8) the generic sum kernels' blocks of BLK row pairs (per-row weights, monomials)
 *   [HEAP, …)           the fit's arrays (arena.alloc), 64-byte aligned
 *
 * The generic regions are sized for SIMD_K_MAX experts and SIMD_D_MAX coordinates (registry.ts).
 */
export const EXP_TABLE = 0;
export const LOG_TABLE = 2048;
export const PAR = 4096;
export const PAR_LEN = 32;
export const ACC = 4352;
export const ACC_LEN = 32;
/** the most experts and coordinates the generic kernels take (registry.ts simdShape) */
export const SIMD_K_MAX = 16;
export const SIMD_D_MAX = 8;
/** the d the generic E-step, gate and moments kernels are also specialised to (exports `<name>_d<d>`: coordinate loops unrolled) */
export const SPECIALISED_D = [1, 2, 3, 4] as const;
const Q_MAX = SIMD_D_MAX + 1;
const NM_MAX = (Q_MAX * (Q_MAX + 1)) / 2;
/** the most experts and coordinates of the activation gates' Hessian kernel (kernels-acthess.ts: its scratch) */
export const ACTHESS_K_MAX = 8;
export const ACTHESS_D_MAX = 4;
export const GPAR = 4608;
/** a (k·d), b, c, h (k each), or β0 (k), β1 (k·d), or shifts, or free experts' offsets */
export const GPAR_LEN = SIMD_K_MAX * (SIMD_D_MAX + 3);
export const GACC = GPAR + 8 * GPAR_LEN;
const PAIRS_MAX = (SIMD_K_MAX * (SIMD_K_MAX + 1)) / 2;
/** the linear gate's sums: gradient (k·(d+1)) and curvature (k(k+1)/2 pairs × (d+1)(d+2)/2 monomials) */
const LINEAR_SUMS = SIMD_K_MAX * Q_MAX + PAIRS_MAX * NM_MAX;
/**
 * the activation gates' weights (kernels-densegradg.ts): 2k + 2 + k(k+1)/2 of one term, k + k² + k of
 * d terms (x), k(k+1)/2 + k of d(d+1)/2 terms (x_a x_b)
 */
const DENSE_W1 = 2 * SIMD_K_MAX + 2 + PAIRS_MAX;
const DENSE_WX = 2 * SIMD_K_MAX + SIMD_K_MAX * SIMD_K_MAX;
const DENSE_WXX = PAIRS_MAX + SIMD_K_MAX;
const DENSE_SUMS = DENSE_W1 + DENSE_WX * SIMD_D_MAX + (DENSE_WXX * SIMD_D_MAX * (SIMD_D_MAX + 1)) / 2;
/** the generic sum kernels' sums, two lanes each */
export const GACC_LEN = 2 * Math.max(LINEAR_SUMS, DENSE_SUMS);
export const SCR = GACC + 8 * GACC_LEN;
/** per-pair scratch (2 KiB: the generic kernels' regions, kernels-generic.ts) */
export const SCR_LEN = 256;
/** row pairs per block of the generic sum kernels (their per-block dot products are unrolled over it) */
export const BLK = 8;
/** weights (linear gate: k gradient rows and k(k+1)/2 expert pairs; activation gates: above); monomials: (d+1)(d+2)/2; BLK f64x2 each */
export const GBLK_W_MAX = Math.max(SIMD_K_MAX + PAIRS_MAX, DENSE_W1 + DENSE_WX + DENSE_WXX);
export const GBLK_Z_MAX = NM_MAX;
export const GBLK = SCR + 8 * SCR_LEN;
export const GBLK_LEN = 2 * BLK * (GBLK_W_MAX + GBLK_Z_MAX);
export const HEAP = Math.ceil((GBLK + 8 * GBLK_LEN) / 64) * 64;
/** what topkll3 adds to the pair it returns when topk3 would have refused that pair (pairs stay below it: arenas ≤ 1 GiB) */
export const TOPK_REFUSED = 2 ** 30;
/** WebAssembly page size */
export const PAGE = 65536;
