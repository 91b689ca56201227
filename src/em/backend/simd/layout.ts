/**
 * The memory layout of the SIMD kernels' arena, declared once: the generators
 * (src/em/backend/simd/gen) bake these byte offsets into the module, and arena.ts allocates
 * around them. Changing one changes the generated module (`npm run build:wasm`).
 *
 *   [EXP_TABLE, +2048)  2^(j/128) as (hi, lo) pairs (src/math/exp.ts T_HI, T_LO)
 *   [LOG_TABLE, +2048)  log c_i as (hi, lo) pairs (src/math/log.ts LOGC_HI, LOGC_LO)
 *   [PAR, +PAR_LEN·8)   a call's parameters (coefficients, shifts), written by the driver
 *   [ACC, +ACC_LEN·8)   a call's running sums, read at entry and written at exit
 *   [HEAP, …)           the fit's arrays (arena.alloc), 64-byte aligned
 */
export const EXP_TABLE = 0;
export const LOG_TABLE = 2048;
export const PAR = 4096;
export const PAR_LEN = 32;
export const ACC = 4352;
export const ACC_LEN = 32;
export const HEAP = 4608;
/** WebAssembly page size */
export const PAGE = 65536;
