/**
 * An activation σ of the dense-to-sparse gate, described by itself: its values and derivatives,
 * the properties the gate's symmetries and M-step read, and its fast paths (kernel code, GPU
 * source, SIMD kernels). Nothing outside these descriptors tests an activation by name.
 */
export interface ActivationDescriptor<N extends string = string> {
  readonly name: N;
  /**
   * Code of the hand-fused dense gate kernels (JS and WebAssembly, bias outside σ): one code per
   * activation that has such kernels, −1 for none (the generic JS path through sigma / d1).
   */
  readonly code: number;
  /** σ(u) */
  sigma(u: number): number;
  /** σ′(u) */
  d1(u: number): number;
  /** σ″(u) */
  d2(u: number): number;
  /** σ′(u) given s = σ(u) (one evaluation of σ for both); must equal d1(u) bit for bit */
  d1At?(s: number, u: number): number;
  /** σ(u) = u */
  readonly linear: boolean;
  /** σ(cu) = cσ(u) for c > 0: such σ keep the (β1, τ) scaling symmetry */
  readonly positivelyHomogeneous: boolean;
  /**
   * gpu.js statements declaring `sg` = σ(u) in float32 from a declared `u`; `F(e)` wraps an
   * expression in Math.fround. Absent: no GPU kernel (the GPU backend refuses the gate).
   */
  gpu?(F: (e: string) => string): string;
  /** Suffixes of its WebAssembly SIMD kernels (gate pass, Hessian sums); absent: the JS kernels. */
  readonly simd?: { gate: string; grad: string };
}

/** A descriptor with its name kept as a literal type. */
export function defineActivation<N extends string>(a: ActivationDescriptor<N>): ActivationDescriptor<N> {
  return Object.freeze(a);
}
