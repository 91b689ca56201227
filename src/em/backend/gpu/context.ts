/**
 * The state of one gpu.js backend and the plumbing every operation shares: centred float32 copies
 * of X and y (cached by array identity), chunk lengths, the kernel cache (least recently used
 * evicted), checked kernel calls, and the device parameter buffers.
 */
import type { Backend } from '../types.js';
import { mom2Stats } from '../gpu-kernels.js';
import type { GpuJsInstance, GpuJsKernel } from '../gpu-probe.js';

/** Kernels kept per backend (a sweep over many n builds new shapes; the stalest are released). */
const MAX_KERNELS = 64;
/** Magnitude beyond which an input is not sent to the device (float32 overflow in products). */
export const SAFE = 1e30;
/** float32 unit roundoff */
export const U32 = 2 ** -24;
/**
 * The resolution of a float32 log-likelihood total, in units of u·sqrt(Σ κ_i²): the per-sample
 * errors (|δ| ≤ u κ_i, first order) change between EM iterations like independent draws, and
 * two of those standard deviations keep the EM loop from reading rounding noise as progress.
 */
export const RESOLUTION_SIGMAS = 2;

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

export interface Centred {
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

/** One backend's state (module-level functions take it, see cpu.ts on closures). */
export interface GpuContext {
  gpu: GpuJsInstance;
  /** the gpu.js mode the kernels must keep running in */
  runMode: string;
  /** samples per device-side partial sum */
  B: number;
  maxChunk: number;
  /** most device values per kernel call */
  maxValues: number;
  /** the Float64 reference every unsafe call is delegated to */
  cpu: Backend;
  cache: Map<string, Entry>;
  stats: GpuBackendStats;
  xCache: WeakMap<Float64Array, Centred>;
  yCache: WeakMap<Float64Array, Centred>;
  buf: Float32Array;
  /** device gate parameters */
  gP: Float32Array;
  /** device expert parameters */
  eP: Float32Array;
  /** expert means of the second moment pass */
  mn: Float32Array;
  pairs: Map<number, Float32Array>;
  /** per-expert logit rounding bounds (units of u) */
  sig: Float64Array;
  destroyed: boolean;
  /** float32 resolution of the last log-likelihood total / gate Q */
  resolution: number;
  qResolution: number;
}

export function createContext(
  gpu: GpuJsInstance,
  runMode: string,
  B: number,
  maxChunk: number,
  maxValues: number,
  cpu: Backend,
): GpuContext {
  return {
    gpu,
    runMode,
    B,
    maxChunk,
    maxValues,
    cpu,
    cache: new Map(),
    stats: { kernelsBuilt: 0, kernelCalls: 0, rebuilds: 0, cpuDelegations: 0, keys: [] },
    xCache: new WeakMap(),
    yCache: new WeakMap(),
    buf: new Float32Array(0),
    gP: new Float32Array(0),
    eP: new Float32Array(0),
    mn: new Float32Array(0),
    pairs: new Map(),
    sig: new Float64Array(8),
    destroyed: false,
    resolution: 0,
    qResolution: 0,
  };
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
export function ok32(v: number): boolean {
  return Math.abs(v) <= SAFE;
}

export function centredX(g: GpuContext, X: Float64Array, n: number, d: number): Centred {
  let e = g.xCache.get(X);
  if (!e || e.n !== n || e.d !== d) {
    e = centre(X, n, d);
    g.xCache.set(X, e);
  }
  return e;
}

export function centredY(g: GpuContext, y: Float64Array, n: number): Centred {
  let e = g.yCache.get(y);
  if (!e || e.n !== n) {
    e = centre(y, n, 1);
    g.yCache.set(y, e);
  }
  return e;
}

export function scratch(g: GpuContext, len: number): Float32Array {
  if (g.buf.length < len) g.buf = new Float32Array(len);
  return g.buf;
}

/** Samples per kernel call for this shape: every input and output ≤ maxValues, a multiple of B. */
export function chunkLength(g: GpuContext, n: number, k: number, d: number): number {
  const B = g.B;
  // values per sample of the widest input or output: gate (2k out), estep (k + 2 out), X (d in), block sums
  const widest = Math.max(2 * k, k + 2, d, Math.ceil((k * Math.max(d + 2, mom2Stats(d))) / B));
  let c = Math.floor(g.maxValues / widest);
  c = Math.min(c, g.maxChunk);
  if (c > B) c -= c % B;
  return Math.max(1, Math.min(n, c));
}

/** The kernel for `key`, built from `source()` on first use (evicting the stalest beyond MAX_KERNELS). */
export function kernel(g: GpuContext, key: string, length: number, args: string[], source: () => string): Entry {
  if (g.destroyed) throw new Error('the gpu backend was destroyed');
  const cache = g.cache;
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
    const fn = g.gpu.createKernel(source(), {
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

/** Calls a kernel; refuses a silent change of device and an output of the wrong shape. */
export function run(g: GpuContext, e: Entry, key: string, args: unknown[]): Float32Array {
  const { stats, runMode } = g;
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

/** Releases the kernels and the GPU context (idempotent). */
export function destroyContext(g: GpuContext): void {
  if (g.destroyed) return;
  g.destroyed = true;
  for (const e of g.cache.values()) {
    try {
      e.fn.destroy?.();
    } catch {
      /* already gone */
    }
  }
  g.cache.clear();
  try {
    g.gpu.destroy();
  } catch {
    /* nothing to release */
  }
}
