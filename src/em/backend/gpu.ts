/**
 * The gpu.js backend: the per-sample work (gate log-probabilities, responsibilities, per-sample
 * log-likelihoods) and the experts' weighted sums run as gpu.js kernels in float32; everything
 * that decides convergence is summed on the host in Float64.
 *
 * Precision (float32 on the device, unit roundoff u = 2^-24 ≈ 6e-8):
 * - x and y are centred on the host (in Float64) before rounding to float32, and the parameters
 *   that meet them are shifted in Float64 to match, so rounding errors scale with the spread of
 *   the data, not with its offset.
 * - Each sample's log-sum-exp is taken over its own maximum, on the device.
 * - Per-sample log-likelihoods come back one by one and are added on the host in Float64 with
 *   Neumaier compensation; weighted sums come back as float32 sums over blocks of `blockSize`
 *   samples and are added in Float64.
 * - What stays in float32 is each per-sample term: about 1e-7 relative for a well-scaled sample,
 *   up to ~u·|y − ȳ|·|residual|/ν for one whose residual is small against the spread of y
 *   (the cancellation in y − (b + a·x)). test/em/gpu.test.ts derives and checks the bounds.
 * - Top-K active sets are computed on the host in Float64 exactly as the CPU backend does (a
 *   float32 ranking could flip near-ties, and a flipped set is an infinite difference in log π).
 * - The gate M-step's Q, gradient and curvature sums (gateQ, gateGradCurv) run on the host in
 *   Float64 through the CPU backend: they need π on the host anyway.
 * - Any call with parameters or inputs outside float32's safe range (non-finite, |v| > 1e30,
 *   ν so small that 1/ν overflows) is delegated to the CPU backend, so NaN and −Infinity come out
 *   exactly as the reference says.
 *
 * Kernels are compiled once per shape: one per (operation, gate form, chunk length, k, d),
 * cached for the backend's lifetime, never per iteration. Samples are processed in chunks of at
 * most 2^22 device values per kernel call (every index stays an exact float32 integer).
 */
import { getGate, slopeScores, topKMask } from '../../models/gates/index.js';
import type { Model } from '../../models/types.js';
import { createCpuBackend } from './cpu.js';
import {
  LOGPI_INACTIVE,
  NO_DENSITY_THRESHOLD,
  estepSource,
  expertStride,
  gateCode,
  gateParamLength,
  gateSource,
  mom1Source,
  mom2Pairs,
  mom2Source,
  mom2Stats,
  resSource,
  type GateCode,
} from './gpu-kernels.js';
import { loadGpuJs, probeGpu, type GpuJsInstance, type GpuJsKernel, type GpuProbe } from './gpu-probe.js';
import type { Backend, ExpertMoments, GateLayout, MaskMode } from './types.js';

/** Which gpu.js backend runs the kernels. */
export type GpuJsMode = 'gpu' | 'cpu' | 'webasm';

export interface GpuBackendOptions {
  /**
   * 'gpu' (default): a real GPU as defined by {@link probeGpu}; throws {@link GpuUnavailableError}
   * without one. 'cpu': gpu.js's JavaScript kernels on the CPU, with float32 rounding emulated —
   * the same kernel sources, for tests and CI. 'webasm': gpu.js's WebAssembly kernels on the CPU
   * (for benchmarks only: slower than the Float64 CPU backend).
   */
  mode?: GpuJsMode;
  /** samples per device-side partial sum (default 32, an integer in [1, 4096]) */
  blockSize?: number;
  /** most samples per kernel call (default and cap: 2^22 device values per call) */
  maxChunk?: number;
}

/** Counters of the backend's kernels (for tests and benchmarks). */
export interface GpuBackendStats {
  /** kernels built (one per cache key; a key evicted and needed again is built again) */
  kernelsBuilt: number;
  /** kernel calls */
  kernelCalls: number;
  /** times gpu.js replaced a built kernel (an argument type change: should stay 0) */
  rebuilds: number;
  /** calls handed to the CPU backend because an input was outside float32's safe range */
  cpuDelegations: number;
  /** the kernels held now (least recently used first), e.g. "estep|c=1000|k=2|d=1" */
  keys: string[];
}

export interface GpuBackend extends Backend {
  readonly name: 'gpu';
  /** the gpu.js backend running the kernels (headlessgl, webgl2, webgl, webasm or cpu) */
  readonly gpuJsMode: string;
  /** what runs the kernels, in words */
  readonly device: string;
  stats(): GpuBackendStats;
  /** Releases the kernels and the GPU context. The backend must not be used afterwards. */
  destroy(): void;
}

/** Thrown for backend "gpu" when gpu.js offers no real GPU; `probe` says what was found. */
export class GpuUnavailableError extends Error {
  constructor(readonly probe: GpuProbe) {
    super(
      `backend "gpu" needs a GPU through gpu.js, and there is none here: ${probe.reason}. Use backend "auto" (falls back to the CPU) or "cpu"`,
    );
    this.name = 'GpuUnavailableError';
  }
}

/** Most device values (outputs or inputs) per kernel call: indices stay exact float32 integers. */
export const MAX_DEVICE_VALUES = 2 ** 22;
/** Kernels kept per backend (a sweep over many n builds new shapes; the stalest are released). */
const MAX_KERNELS = 64;
/** Magnitude beyond which an input is not sent to the device (float32 overflow in products). */
const SAFE = 1e30;
const LOG_2PI = Math.log(2 * Math.PI);
/** float32 unit roundoff */
const U32 = 2 ** -24;
/**
 * The resolution of a float32 log-likelihood total, in units of u·sqrt(Σ κ_i²): the per-sample
 * errors (|δ| ≤ u κ_i, first order) change between EM iterations like independent draws, and
 * two of those standard deviations keep the EM loop from reading rounding noise as progress.
 */
const RESOLUTION_SIGMAS = 2;

const GPUJS_MODES: readonly GpuJsMode[] = ['gpu', 'cpu', 'webasm'];

interface Centred {
  n: number;
  d: number;
  /** Float64 means (d values, or 1 for y) */
  mu: Float64Array;
  /** centred, rounded to float32 */
  c: Float32Array;
  /** every centred value within ±SAFE */
  safe: boolean;
  /** largest |centred value| per column */
  maxAbs: Float64Array;
}

interface Entry {
  fn: GpuJsKernel;
  length: number;
  inner: unknown;
}

function centre(v: Float64Array, n: number, d: number): Centred {
  const mu = new Float64Array(d);
  for (let i = 0, o = 0; i < n; i++, o += d) for (let a = 0; a < d; a++) mu[a] = mu[a]! + v[o + a]!;
  for (let a = 0; a < d; a++) mu[a] = mu[a]! / n;
  const c = new Float32Array(n * d);
  const maxAbs = new Float64Array(d);
  let safe = true;
  for (let i = 0, o = 0; i < n; i++, o += d) {
    for (let a = 0; a < d; a++) {
      const x = v[o + a]! - mu[a]!;
      c[o + a] = x;
      if (!(Math.abs(x) <= SAFE)) safe = false;
      else if (Math.abs(x) > maxAbs[a]!) maxAbs[a] = Math.abs(x);
    }
  }
  return { n, d, mu, c, safe, maxAbs };
}

/** Float32 value within ±SAFE (and not NaN). */
function ok32(v: number): boolean {
  return Math.abs(v) <= SAFE;
}

/**
 * Creates a gpu.js backend. gpu.js is loaded here (lazily, on first use in the process), never
 * by importing gmoe.
 *
 * X and y are treated as immutable: their centred float32 copies are cached by array identity
 * (a WeakMap), so an array modified in place between calls would be served stale.
 *
 * @throws GpuUnavailableError for mode 'gpu' without a real GPU; Error when gpu.js cannot be
 *   loaded (mode 'cpu' / 'webasm') or an option is invalid
 * @example
 * const be = createGpuBackend({ mode: 'cpu' }); // the GPU code path on gpu.js's CPU kernels
 * fitMoE(data, { gate: { kind: 'softmax' }, k: 2, backend: be });
 */
export function createGpuBackend(options: GpuBackendOptions = {}): GpuBackend {
  const mode = options.mode ?? 'gpu';
  if (!GPUJS_MODES.includes(mode))
    throw new Error(`mode must be one of ${GPUJS_MODES.join(', ')}. Value: ${String(mode)}`);
  const B = options.blockSize ?? 32;
  if (!Number.isInteger(B) || B < 1 || B > 4096)
    throw new Error(`blockSize must be an integer in [1, 4096]. Value: ${String(B)}`);
  const maxChunk = options.maxChunk ?? Infinity;
  if (!(maxChunk === Infinity || (Number.isInteger(maxChunk) && maxChunk >= 1)))
    throw new Error(`maxChunk must be an integer ≥ 1. Value: ${String(maxChunk)}`);

  let device: string;
  let maxValues = MAX_DEVICE_VALUES;
  let gpuJsSetting: string = mode;
  if (mode === 'gpu') {
    const probe = probeGpu();
    if (!probe.available) throw new GpuUnavailableError(probe);
    device = probe.reason;
    gpuJsSetting = probe.mode!; // the GL backend the probe validated
    // one value per texel: a kernel's largest input or output must fit one texture
    if (probe.maxTextureSize !== null) maxValues = Math.min(maxValues, probe.maxTextureSize ** 2);
  } else {
    const { mod, version, error } = loadGpuJs();
    if (!mod) throw new Error(`the gpu.js backend in mode "${mode}" needs gpu.js: ${error}`);
    device = `gpu.js ${version ?? ''} ${mode === 'cpu' ? 'CPU kernels (JavaScript, float32 rounding emulated)' : 'WebAssembly kernels on the CPU (float32)'}`;
  }
  const gpu: GpuJsInstance = new (loadGpuJs().mod!.GPU)({ mode: gpuJsSetting });
  const runMode = gpu.Kernel?.mode ?? mode;

  const cpu = createCpuBackend();
  const cache = new Map<string, Entry>();
  const stats: GpuBackendStats = { kernelsBuilt: 0, kernelCalls: 0, rebuilds: 0, cpuDelegations: 0, keys: [] };
  const xCache = new WeakMap<Float64Array, Centred>();
  const yCache = new WeakMap<Float64Array, Centred>();
  let buf = new Float32Array(0);
  let gP = new Float32Array(0);
  let eP = new Float32Array(0);
  let mn = new Float32Array(0);
  const pairs = new Map<number, Float32Array>();
  let destroyed = false;
  let resolution = 0;
  let qResolution = 0;

  function centredX(X: Float64Array, n: number, d: number): Centred {
    let e = xCache.get(X);
    if (!e || e.n !== n || e.d !== d) {
      e = centre(X, n, d);
      xCache.set(X, e);
    }
    return e;
  }
  function centredY(y: Float64Array, n: number): Centred {
    let e = yCache.get(y);
    if (!e || e.n !== n) {
      e = centre(y, n, 1);
      yCache.set(y, e);
    }
    return e;
  }
  function scratch(len: number): Float32Array {
    if (buf.length < len) buf = new Float32Array(len);
    return buf;
  }

  /** Samples per kernel call for this shape: every input and output ≤ MAX_DEVICE_VALUES, a multiple of B. */
  function chunkLength(n: number, k: number, d: number): number {
    // values per sample of the widest input or output: gate (2k out), estep (k + 2 out), X (d in), block sums
    const widest = Math.max(2 * k, k + 2, d, Math.ceil((k * Math.max(d + 2, mom2Stats(d))) / B));
    let c = Math.floor(maxValues / widest);
    c = Math.min(c, maxChunk);
    if (c > B) c -= c % B;
    return Math.max(1, Math.min(n, c));
  }

  function kernel(key: string, length: number, args: string[], source: () => string): Entry {
    if (destroyed) throw new Error('the gpu backend was destroyed');
    let e = cache.get(key);
    if (e) {
      // most recently used last, so that eviction takes the stalest shape
      cache.delete(key);
      cache.set(key, e);
    } else {
      if (cache.size >= MAX_KERNELS) {
        const [oldKey, old] = cache.entries().next().value as [string, Entry];
        cache.delete(oldKey);
        try {
          old.fn.destroy?.();
        } catch {
          /* already gone */
        }
      }
      const argumentTypes: Record<string, string> = {};
      for (const a of args) argumentTypes[a] = 'Array';
      const fn = gpu.createKernel(source(), {
        output: [length],
        precision: 'single',
        tactic: 'precision',
        argumentTypes,
        dynamicOutput: false,
        dynamicArguments: false,
        pipeline: false,
        immutable: false,
      });
      e = { fn, length, inner: null };
      cache.set(key, e);
    }
    return e;
  }

  function run(e: Entry, key: string, args: unknown[]): Float32Array {
    let out: Float32Array;
    try {
      out = e.fn(...args) as Float32Array;
    } catch (err) {
      throw new Error(
        `gpu.js kernel "${key}" (${runMode}) failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
      );
    }
    stats.kernelCalls++;
    const inner = e.fn.kernel;
    if (e.inner === null) {
      e.inner = inner;
      stats.kernelsBuilt++;
    } else if (inner !== e.inner) {
      e.inner = inner;
      stats.rebuilds++;
    }
    const m = inner.constructor.mode;
    if (m !== runMode) {
      throw new Error(
        `gpu.js replaced its "${runMode}" kernel by a "${m ?? inner.constructor.name}" one${inner.fallbackReason ? ` (${inner.fallbackReason})` : ''}: refusing to go on silently on another device`,
      );
    }
    if (!(out instanceof Float32Array) || out.length !== e.length) {
      throw new Error(
        `gpu.js returned ${out === null || out === undefined ? String(out) : out.constructor.name} of length ${(out as { length?: number })?.length} where ${e.length} float32 values were expected`,
      );
    }
    return out;
  }

  /** Packs the gate's device parameters (shifted to centred x); false when not float32-safe. */
  function packGate(m: Model, code: GateCode, mu: Float64Array): boolean {
    const { k, d, beta0, beta1, tau } = m;
    const len = gateParamLength(code, k);
    if (gP.length !== len) gP = new Float32Array(len);
    const S = code.stride;
    const gate = getGate(m.gate);
    const inside = gate.activation?.(m.gate).inside ?? false;
    const scaled = gate.hasTau; // 1/τ in play
    const it = scaled ? 1 / tau : 1;
    for (let j = 0; j < k; j++) {
      let sh = 0;
      for (let a = 0; a < d; a++) sh += beta1[j * d + a]! * mu[a]!;
      if (code.act === 'linear') {
        // s = β0 + β1·x (softmax, top-K); β1·x/τ + β0 (outside); (β1·x + β0)/τ (inside)
        gP[j * S] = inside ? (beta0[j]! + sh) * it : beta0[j]! + sh * it;
        for (let a = 0; a < d; a++) gP[j * S + 1 + a] = beta1[j * d + a]! * it;
      } else {
        gP[j * S] = inside ? sh + beta0[j]! : sh;
        for (let a = 0; a < d; a++) gP[j * S + 1 + a] = beta1[j * d + a]!;
        gP[j * S + d + 1] = inside ? 0 : beta0[j]!;
      }
    }
    if (code.act !== 'linear') gP[k * S] = it;
    for (let t = 0; t < len; t++) if (!ok32(gP[t]!)) return false;
    return true;
  }

  /** Packs the experts' device parameters (b shifted to centred x and y); false when not float32-safe. */
  function packExperts(m: Model, muX: Float64Array, muY: number): boolean {
    const { k, d, a, b, nu } = m;
    const S = expertStride(d);
    if (eP.length !== k * S) eP = new Float32Array(k * S);
    for (let j = 0; j < k; j++) {
      let bj = b[j]! - muY;
      for (let l = 0; l < d; l++) {
        bj += a[j * d + l]! * muX[l]!;
        eP[j * S + 1 + l] = a[j * d + l]!;
      }
      eP[j * S] = bj;
      const v = nu[j]!;
      if (!(v > 0)) return false;
      eP[j * S + d + 1] = -0.5 * (LOG_2PI + Math.log(v));
      eP[j * S + d + 2] = -0.5 / v;
    }
    for (let t = 0; t < k * S; t++) if (!ok32(eP[t]!)) return false;
    return true;
  }

  function gateProbs(
    m: Model,
    X: Float64Array,
    n: number,
    logPi: Float64Array,
    pi: Float64Array,
    mask: Uint8Array | null,
    maskMode: MaskMode,
    resp?: Float64Array,
  ): number {
    const { k, d } = m;
    const code = gateCode(m.gate, d);
    const xe = centredX(X, n, d);
    if (code === null || !xe.safe || !packGate(m, code, xe.mu)) {
      stats.cpuDelegations++;
      qResolution = 0;
      return cpu.gateProbs(m, X, n, logPi, pi, mask, maskMode, resp);
    }
    logitRounding(code, k, d, xe.maxAbs);
    if (maskMode === 'compute') {
      const sel = getGate(m.gate).selection?.(m.gate);
      if (!mask || !sel) throw new Error('gateProbs: maskMode "compute" needs a top-K gate and a mask buffer');
      // Float64 scores and ranking, exactly as the CPU backend: the active sets must agree bit for bit
      if (sel.selectOn === 'logit') getGate(m.gate).logits(m, X, n, pi);
      else slopeScores(m, X, n, pi);
      topKMask(pi, n, k, sel.K, mask);
    }
    const masked = maskMode !== 'none' && mask !== null;
    let mf: Float32Array | null = null;
    if (masked) {
      mf = scratch(n * k);
      for (let t = 0; t < n * k; t++) mf[t] = mask![t]!;
    }
    const C = chunkLength(n, k, d);
    let q = 0;
    let q2 = 0;
    for (let s0 = 0; s0 < n; s0 += C) {
      const c = Math.min(C, n - s0);
      const ck = c * k;
      const key = `gate|${code.key}|${masked ? 'masked' : 'dense'}|c=${c}|k=${k}|d=${d}`;
      const e = kernel(key, 2 * ck, masked ? ['X', 'G', 'M'] : ['X', 'G'], () => gateSource(code, c, k, d, masked));
      const args: unknown[] = [xe.c.subarray(s0 * d, (s0 + c) * d), gP];
      if (mf) args.push(mf.subarray(s0 * k, (s0 + c) * k));
      const out = run(e, key, args);
      for (let t = 0, o = s0 * k; t < ck; t++, o++) {
        if (masked && !mask![o]) {
          logPi[o] = -Infinity;
          pi[o] = 0;
          if (resp && resp[o]! !== 0) q = -Infinity;
          continue;
        }
        const lp = out[t]!;
        logPi[o] = lp;
        pi[o] = out[ck + t]!;
        if (resp) {
          const r = resp[o]!;
          if (r !== 0) q += r * lp;
        }
      }
      // Q's float32 noise, first order per sample: δQ_i = Σ_j (r_ij − π_ij) δs_ij plus the log-sum-exp's
      // roundings, u(Σ_j r_ij(|log π_ij| + 2) + 4); r = π when no responsibilities are given
      for (let i = 0, o = s0 * k; i < c; i++, o += k) {
        let e = 4;
        for (let j = 0; j < k; j++) {
          const p = pi[o + j]!;
          if (p === 0 && !(resp && resp[o + j]! !== 0)) continue;
          const r = resp ? resp[o + j]! : p;
          e += Math.abs(r - p) * sig[j]! + r * (Math.abs(logPi[o + j]!) + 2);
        }
        q2 += e * e;
      }
    }
    qResolution = RESOLUTION_SIGMAS * U32 * Math.sqrt(q2);
    return resp ? q : NaN;
  }

  /**
   * Per-expert bound σ_j on a logit's float32 rounding (in units of u): (d + 3)(|c0_j| + Σ|β_j||x|max),
   * through σ′ ≤ 1.2 for activations, into `sig`.
   */
  let sig = new Float64Array(8);
  function logitRounding(code: GateCode, k: number, d: number, maxAbs: Float64Array): void {
    if (sig.length < k) sig = new Float64Array(k);
    const S = code.stride;
    const it = code.act === 'linear' ? 1 : Math.abs(gP[k * S]!);
    for (let j = 0; j < k; j++) {
      let s = Math.abs(gP[j * S]!);
      for (let a = 0; a < d; a++) s += Math.abs(gP[j * S + 1 + a]!) * maxAbs[a]!;
      if (code.act !== 'linear') s = 1.2 * s * it + Math.abs(gP[j * S + d + 1]!) + it;
      sig[j] = (d + 3) * s;
    }
  }

  /** log π to float32 (inactive → LOGPI_INACTIVE); false when some value is not float32-safe. */
  function uploadLogPi(logPi: Float64Array, len: number): Float32Array | null {
    const f = scratch(len);
    for (let t = 0; t < len; t++) {
      const v = logPi[t]!;
      if (v === -Infinity) f[t] = LOGPI_INACTIVE;
      else if (ok32(v)) f[t] = v;
      else return null;
    }
    return f;
  }

  /** Shared by eStep and logLik: Σ_i log p(y_i | x_i), responsibilities into resp when given. */
  function density(
    m: Model,
    X: Float64Array,
    y: Float64Array,
    n: number,
    logPi: Float64Array,
    resp: Float64Array | null,
  ): number {
    const { k, d } = m;
    const xe = centredX(X, n, d);
    const ye = centredY(y, n);
    const lp = xe.safe && ye.safe && packExperts(m, xe.mu, ye.mu[0]!) ? uploadLogPi(logPi, n * k) : null;
    if (lp === null) {
      stats.cpuDelegations++;
      resolution = 0;
      return resp ? cpu.eStep(m, X, y, n, logPi, resp) : cpu.logLik(m, X, y, n, logPi);
    }
    const row = resp ? k + 2 : 2;
    const C = chunkLength(n, k, d);
    // Neumaier-compensated Float64 sum of the float32 per-sample values
    let sum = 0;
    let comp = 0;
    let bad = 0; // −Infinity or NaN, as the CPU backend would return
    let kap2 = 0;
    for (let s0 = 0; s0 < n; s0 += C) {
      const c = Math.min(C, n - s0);
      const key = `${resp ? 'estep' : 'loglik'}|c=${c}|k=${k}|d=${d}`;
      const e = kernel(key, c * row, ['X', 'Y', 'LP', 'E'], () => estepSource(c, k, d, resp !== null));
      const out = run(e, key, [
        xe.c.subarray(s0 * d, (s0 + c) * d),
        ye.c.subarray(s0, s0 + c),
        lp.subarray(s0 * k, (s0 + c) * k),
        eP,
      ]);
      for (let i = 0, p = 0; i < c; i++, p += row) {
        const ll = out[p + row - 2]!;
        const o = (s0 + i) * k;
        if (!(ll > NO_DENSITY_THRESHOLD)) {
          bad += ll === ll ? -Infinity : NaN;
          if (resp) for (let j = 0; j < k; j++) resp[o + j] = NaN;
          continue;
        }
        if (resp) for (let j = 0; j < k; j++) resp[o + j] = out[p + j]!;
        const t = sum + ll;
        comp += Math.abs(sum) >= Math.abs(ll) ? sum - t + ll : ll - t + sum;
        sum = t;
        const kap = out[p + row - 1]!;
        kap2 += kap * kap;
      }
    }
    resolution = RESOLUTION_SIGMAS * U32 * Math.sqrt(kap2);
    return bad !== 0 ? bad : sum + comp;
  }

  function eStep(
    m: Model,
    X: Float64Array,
    y: Float64Array,
    n: number,
    logPi: Float64Array,
    resp: Float64Array,
  ): number {
    return density(m, X, y, n, logPi, resp);
  }

  function logLik(m: Model, X: Float64Array, y: Float64Array, n: number, logPi: Float64Array): number {
    return density(m, X, y, n, logPi, null);
  }

  /** Responsibilities to float32; null when some value is not finite (the CPU path then says what it means). */
  function uploadResp(resp: Float64Array, len: number): Float32Array | null {
    const f = scratch(len);
    for (let t = 0; t < len; t++) {
      const v = resp[t]!;
      if (!ok32(v)) return null;
      f[t] = v;
    }
    return f;
  }

  function expertMomentsImpl(
    X: Float64Array,
    y: Float64Array,
    n: number,
    d: number,
    k: number,
    resp: Float64Array,
    out: ExpertMoments,
  ): void {
    const xe = centredX(X, n, d);
    const ye = centredY(y, n);
    const R = xe.safe && ye.safe ? uploadResp(resp, n * k) : null;
    if (R === null) {
      stats.cpuDelegations++;
      cpu.expertMoments(X, y, n, d, k, resp, out);
      return;
    }
    const { N, xbar, ybar, Sxx, Sxy } = out;
    N.fill(0, 0, k);
    xbar.fill(0, 0, k * d);
    ybar.fill(0, 0, k);
    Sxx.fill(0, 0, k * d * d);
    Sxy.fill(0, 0, k * d);
    const C = chunkLength(n, k, d);
    const S1 = d + 2;
    // pass 1: Σ r, Σ r·(y − ȳ), Σ r·(x − x̄) per expert (ybar, xbar hold the centred sums for now)
    for (let s0 = 0; s0 < n; s0 += C) {
      const c = Math.min(C, n - s0);
      const nb = Math.ceil(c / B);
      const key = `mom1|c=${c}|k=${k}|d=${d}|B=${B}`;
      const e = kernel(key, nb * k * S1, ['X', 'Y', 'R'], () => mom1Source(c, k, d, B));
      const o = run(e, key, [
        xe.c.subarray(s0 * d, (s0 + c) * d),
        ye.c.subarray(s0, s0 + c),
        R!.subarray(s0 * k, (s0 + c) * k),
      ]);
      for (let b = 0, p = 0; b < nb; b++) {
        for (let j = 0; j < k; j++, p += S1) {
          N[j] = N[j]! + o[p]!;
          ybar[j] = ybar[j]! + o[p + 1]!;
          for (let a = 0; a < d; a++) xbar[j * d + a] = xbar[j * d + a]! + o[p + 2 + a]!;
        }
      }
    }
    if (mn.length !== k * (d + 1)) mn = new Float32Array(k * (d + 1));
    for (let j = 0; j < k; j++) {
      const inv = N[j]! > 0 ? 1 / N[j]! : 0;
      for (let a = 0; a < d; a++) {
        const m = xbar[j * d + a]! * inv;
        mn[j * (d + 1) + a] = m;
        xbar[j * d + a] = m;
      }
      const my = ybar[j]! * inv;
      mn[j * (d + 1) + d] = my;
      ybar[j] = my;
    }
    // pass 2: centred cross-products around the (float32-rounded) expert means; rounding the
    // centre changes them only at second order, N·δ² with δ ≤ u·|mean|
    let PI = pairs.get(d);
    if (!PI) {
      PI = mom2Pairs(d);
      pairs.set(d, PI);
    }
    const S2 = mom2Stats(d);
    for (let s0 = 0; s0 < n; s0 += C) {
      const c = Math.min(C, n - s0);
      const nb = Math.ceil(c / B);
      const key = `mom2|c=${c}|k=${k}|d=${d}|B=${B}`;
      const e = kernel(key, nb * k * S2, ['X', 'Y', 'R', 'MN', 'PI'], () => mom2Source(c, k, d, B));
      const o = run(e, key, [
        xe.c.subarray(s0 * d, (s0 + c) * d),
        ye.c.subarray(s0, s0 + c),
        R!.subarray(s0 * k, (s0 + c) * k),
        mn,
        PI,
      ]);
      for (let b = 0, p = 0; b < nb; b++) {
        for (let j = 0; j < k; j++, p += S2) {
          let s = 0;
          const so = j * d * d;
          for (let a = 0; a < d; a++)
            for (let c2 = a; c2 < d; c2++, s++) Sxx[so + a * d + c2] = Sxx[so + a * d + c2]! + o[p + s]!;
          for (let a = 0; a < d; a++, s++) Sxy[j * d + a] = Sxy[j * d + a]! + o[p + s]!;
        }
      }
    }
    for (let j = 0; j < k; j++) {
      const so = j * d * d;
      for (let a = 0; a < d; a++) for (let c2 = a + 1; c2 < d; c2++) Sxx[so + c2 * d + a] = Sxx[so + a * d + c2]!;
      for (let a = 0; a < d; a++) xbar[j * d + a] = xbar[j * d + a]! + xe.mu[a]!;
      ybar[j] = ybar[j]! + ye.mu[0]!;
    }
  }

  function expertResiduals(
    m: Model,
    X: Float64Array,
    y: Float64Array,
    n: number,
    resp: Float64Array,
    out: Float64Array,
  ): void {
    const { k, d } = m;
    const xe = centredX(X, n, d);
    const ye = centredY(y, n);
    const R = xe.safe && ye.safe && packExperts(m, xe.mu, ye.mu[0]!) ? uploadResp(resp, n * k) : null;
    if (R === null) {
      stats.cpuDelegations++;
      cpu.expertResiduals(m, X, y, n, resp, out);
      return;
    }
    out.fill(0, 0, k);
    const C = chunkLength(n, k, d);
    for (let s0 = 0; s0 < n; s0 += C) {
      const c = Math.min(C, n - s0);
      const nb = Math.ceil(c / B);
      const key = `res|c=${c}|k=${k}|d=${d}|B=${B}`;
      const e = kernel(key, nb * k, ['X', 'Y', 'R', 'E'], () => resSource(c, k, d, B));
      const o = run(e, key, [
        xe.c.subarray(s0 * d, (s0 + c) * d),
        ye.c.subarray(s0, s0 + c),
        R.subarray(s0 * k, (s0 + c) * k),
        eP,
      ]);
      for (let b = 0, p = 0; b < nb; b++) for (let j = 0; j < k; j++, p++) out[j] = out[j]! + o[p]!;
    }
  }

  function gateQ(resp: Float64Array, logPi: Float64Array, n: number, k: number): number {
    return cpu.gateQ(resp, logPi, n, k);
  }

  function gateGradCurv(
    L: GateLayout,
    X: Float64Array,
    n: number,
    resp: Float64Array,
    pi: Float64Array,
    dB0: Float64Array,
    dU: Float64Array,
    dTau: Float64Array,
    tau: number,
    grad: Float64Array,
    curv: Float64Array,
  ): void {
    cpu.gateGradCurv(L, X, n, resp, pi, dB0, dU, dTau, tau, grad, curv);
  }

  function destroy(): void {
    if (destroyed) return;
    destroyed = true;
    for (const e of cache.values()) {
      try {
        e.fn.destroy?.();
      } catch {
        /* already gone */
      }
    }
    cache.clear();
    try {
      gpu.destroy();
    } catch {
      /* nothing to release */
    }
  }

  return {
    name: 'gpu',
    gpuJsMode: runMode,
    device,
    logLikResolution: () => resolution,
    gateQResolution: () => qResolution,
    gateProbs,
    eStep,
    logLik,
    gateQ,
    gateGradCurv,
    expertMoments: expertMomentsImpl,
    expertResiduals,
    stats: () => ({ ...stats, keys: [...cache.keys()] }),
    destroy,
  };
}

/**
 * Backend "auto" picks the GPU only for problems with at least this many sample·expert values
 * (n·k): below it, the fixed cost of each kernel call (uploads, launch, read-back, the host-side
 * float32 ↔ Float64 copies) cannot be won back. An estimate: the GPU speed is unmeasured (see
 * docs/performance.md, `npm run bench:gpu` measures the crossover on a machine with a GPU).
 */
export const AUTO_GPU_MIN_VALUES = 2 ** 20;

let shared: GpuBackend | null = null;

/**
 * The process-wide gpu.js backend on the real GPU (mode 'gpu'), created on first use so that
 * successive fits of the same shape reuse its compiled kernels.
 * @throws GpuUnavailableError without a real GPU
 */
export function sharedGpuBackend(): GpuBackend {
  if (!shared) {
    const b = createGpuBackend();
    const release = b.destroy;
    b.destroy = () => {
      if (shared === b) shared = null;
      release();
    };
    shared = b;
  }
  return shared;
}

/**
 * What backend "auto" runs for a problem: the GPU when {@link probeGpu} finds a real one and
 * n·k ≥ {@link AUTO_GPU_MIN_VALUES}, else the CPU (without loading gpu.js when the problem is small
 * or its size is unknown).
 */
export function autoBackendName(problem?: { n: number; k: number }): 'cpu' | 'gpu' {
  if (!problem || !(problem.n * problem.k >= AUTO_GPU_MIN_VALUES)) return 'cpu';
  return probeGpu().available ? 'gpu' : 'cpu';
}
