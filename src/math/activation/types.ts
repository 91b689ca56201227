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
  /** Its WebAssembly SIMD kernels (gate pass, Hessian sums); absent: the JS kernels. */
  readonly simd?: ActivationSimd;
}

/**
 * The f64x2 operations an activation's SIMD emitter may use (src/em/backend/simd/gen supplies them):
 * each returns WebAssembly text; `let` binds an expression to a kernel local (named from `tag`) and
 * returns its read, `exp` is e^x per lane (expCore's bits; x a local read), `clamp(u, c)` is the JS
 * `u > c ? c : u < −c ? −c : u`.
 */
export interface SimdOps {
  c(v: number): string;
  add(a: string, b: string): string;
  sub(a: string, b: string): string;
  mul(a: string, b: string): string;
  div(a: string, b: string): string;
  neg(a: string): string;
  clamp(u: string, c: number): string;
  exp(x: string, tag: string): string;
  let(tag: string, expr: string): string;
}

/**
 * An activation's WebAssembly SIMD emitters, each the twin of its fused JS kernels
 * (src/em/backend/cpu/activation-gate.ts, activation-grad.ts) operation for operation.
 */
export interface ActivationSimd {
  /** export suffixes: dense<gate>{2,3}, densegrad3_<grad> */
  readonly gate: string;
  readonly grad: string;
  /** σ(u) for u = β1·x (a local read) */
  sigma(o: SimdOps, u: string, tag: string): string;
  /**
   * [J1, Jt, H1] = [σ′(u)·xt, −σ(u)·it, σ″(u)·x·xt] for u = b·x (xt = x·it, it = 1/τ; all local
   * reads), as the activation's coefficient pass computes them
   */
  coefs(o: SimdOps, b: string, x: string, xt: string, it: string, tag: string): [string, string, string];
}

/** A descriptor with its name kept as a literal type. */
export function defineActivation<N extends string>(a: ActivationDescriptor<N>): ActivationDescriptor<N> {
  return Object.freeze(a);
}
