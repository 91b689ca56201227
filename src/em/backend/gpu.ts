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
 *
 * This file opens the device and assembles the backend; the operations live in gpu/ (like cpu/):
 * context.ts (state, centring, chunking, kernel cache and checked calls), pack.ts (parameters and
 * uploads), gate.ts (gateProbs), density.ts (eStep, logLik), moments.ts (expert sums).
 */
import { createCpuBackend } from './cpu.js';
import { loadGpuJs, probeGpu, type GpuJsInstance, type GpuProbe } from './gpu-probe.js';
import { createContext, destroyContext, type GpuBackendStats } from './gpu/context.js';
import { gpuDensity } from './gpu/density.js';
import { gpuGateProbs } from './gpu/gate.js';
import { gpuExpertMoments, gpuExpertResiduals } from './gpu/moments.js';
import type { Backend } from './types.js';

export type { GpuBackendStats } from './gpu/context.js';

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

const GPUJS_MODES: readonly GpuJsMode[] = ['gpu', 'cpu', 'webasm'];

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
  const { gpu, device, maxValues } = openDevice(mode);
  const runMode = gpu.Kernel?.mode ?? mode;
  const cpu = createCpuBackend();
  const g = createContext(gpu, runMode, B, maxChunk, maxValues, cpu);
  return {
    name: 'gpu',
    gpuJsMode: runMode,
    device,
    logLikResolution: () => g.resolution,
    gateQResolution: () => g.qResolution,
    gateProbs: (m, X, n, logPi, pi, mask, maskMode, resp) => gpuGateProbs(g, m, X, n, logPi, pi, mask, maskMode, resp),
    eStep: (m, X, y, n, logPi, resp) => gpuDensity(g, m, X, y, n, logPi, resp),
    logLik: (m, X, y, n, logPi) => gpuDensity(g, m, X, y, n, logPi, null),
    // Q, gradient and curvature need π on the host anyway: Float64 on the CPU
    gateQ: (resp, logPi, n, k) => cpu.gateQ(resp, logPi, n, k),
    gateGradCurv: (L, X, n, resp, pi, dB0, dU, dTau, tau, grad, curv) =>
      cpu.gateGradCurv(L, X, n, resp, pi, dB0, dU, dTau, tau, grad, curv),
    expertMoments: (X, y, n, d, k, resp, out) => gpuExpertMoments(g, X, y, n, d, k, resp, out),
    expertResiduals: (m, X, y, n, resp, out) => gpuExpertResiduals(g, m, X, y, n, resp, out),
    stats: () => ({ ...g.stats, keys: [...g.cache.keys()] }),
    destroy: () => destroyContext(g),
  };
}

/** The gpu.js instance for a mode: a real GPU validated by the probe (or GpuUnavailableError), or gpu.js on the CPU. */
function openDevice(mode: GpuJsMode): { gpu: GpuJsInstance; device: string; maxValues: number } {
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
  return { gpu, device, maxValues };
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
