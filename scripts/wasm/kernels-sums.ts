/** Experts' moments and gate gradient / curvature kernels (d = 1, k = 2, 3): see scripts/wasm/kernels.ts. */
export function sumKernels(): string[] {
  return [];
}
