/** Gate-probability kernels (d = 1, k = 2, 3): see scripts/wasm/kernels.ts for the conventions. */
export function gateKernels(): string[] {
  return [];
}
