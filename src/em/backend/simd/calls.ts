/**
 * Calls that took a SIMD kernel, per kernel family, and the row pairs the kernels handed back to the
 * JS kernels (for tests: that the fast path was taken, and where it was not).
 */
export const wasmCalls = { eStep: 0, gate: 0, sums: 0, logLik: 0, hessian: 0, refusedPairs: 0 };
