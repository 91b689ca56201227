/** Backend selection. */
import { createCpuBackend, type CpuBackendOptions } from './cpu.js';
import { autoBackendName, sharedGpuBackend } from './gpu.js';
import type { Backend } from './types.js';

export type { Backend, BackendName, BufferStore, EStepStats, ExpertMoments, GateLayout, MaskMode } from './types.js';
export { expertMoments } from './types.js';
export { createCpuBackend, type CpuBackendOptions } from './cpu.js';
export { simdShape } from './registry.js';
export {
  createGpuBackend,
  sharedGpuBackend,
  autoBackendName,
  GpuUnavailableError,
  AUTO_GPU_MIN_VALUES,
  MAX_DEVICE_VALUES,
  type GpuBackend,
  type GpuBackendOptions,
  type GpuBackendStats,
  type GpuJsMode,
} from './gpu.js';
export { probeGpu, classifyGpu, type GpuProbe, type GpuFacts } from './gpu-probe.js';

/** The size of the problem a backend is chosen for ("auto" needs it). */
export interface BackendProblem {
  n: number;
  k: number;
}

/** True for an object that implements {@link Backend} (e.g. from createGpuBackend). */
export function isBackend(v: unknown): v is Backend {
  if (typeof v !== 'object' || v === null) return false;
  const b = v as Record<string, unknown>;
  return (
    (b.name === 'cpu' || b.name === 'gpu') &&
    ['gateProbs', 'eStep', 'logLik', 'gateQ', 'gateGradCurv', 'expertMoments', 'expertResiduals'].every(
      (f) => typeof b[f] === 'function',
    )
  );
}

/**
 * The backend for a `backend` option.
 * - 'cpu': the Float64 reference.
 * - 'gpu': gpu.js on a real GPU (see probeGpu for what counts), shared by successive fits so that
 *   compiled kernels are reused. Without one it **fails** with GpuUnavailableError, whose message
 *   says what gpu.js found; it never falls back silently.
 * - 'auto': the GPU when there is a real one and n·k ≥ AUTO_GPU_MIN_VALUES, otherwise the CPU
 *   (gpu.js is not even loaded when the problem is small or `problem` is not given).
 * - a Backend object is used as it is (e.g. createGpuBackend({ mode: 'cpu' }) in tests).
 * @param cpu options of a CPU backend created here (e.g. { simd: false }: the plain JS kernels)
 * @throws GpuUnavailableError for 'gpu' without a GPU; Error for an unknown name
 */
export function createBackend(
  name: 'cpu' | 'gpu' | 'auto' | Backend = 'cpu',
  problem?: BackendProblem,
  cpu?: CpuBackendOptions,
): Backend {
  if (isBackend(name)) return name;
  if (name === 'cpu') return createCpuBackend(cpu);
  if (name === 'gpu') return sharedGpuBackend();
  if (name === 'auto') return autoBackendName(problem) === 'gpu' ? sharedGpuBackend() : createCpuBackend(cpu);
  throw new Error(`backend must be one of cpu, gpu, auto (or a Backend object). Value: ${String(name)}`);
}
