/**
 * The arena of a fit for the CPU backend's WebAssembly SIMD kernels (scripts/wasm/kernels.ts):
 * one WebAssembly.Memory that holds the kernels' tables, a parameter and an accumulator block,
 * and the fit's n × k buffers and data, so that the kernels read and write the same
 * Float64Arrays the rest of the fitter uses, with no copies per call.
 *
 * The memory never grows (growing would detach every view): its size is fixed at creation.
 * A kernel is used only when every array of a call lies in one arena ({@link arenaOf}); other
 * arrays take the JS kernels, so the arena is an optimisation that callers can ignore.
 */
import { KERNELS_WASM_BASE64 } from './module.js';

/** The part of the WebAssembly JS API used here (the project's lib has no DOM types). */
interface WasmMemory { readonly buffer: ArrayBuffer }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (desc: { initial: number; maximum: number }) => WasmMemory;
  Instance: new (mod: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Layout of the memory below the heap (scripts/wasm/kernels.ts: PAR, ACC, HEAP). */
const PAR = 4096;
const ACC = 4352;
const HEAP = 4608;
const PAGE = 65536;
/** arenas larger than this are not created (the fit takes the JS kernels) */
const MAX_BYTES = 2 ** 30;

export interface KernelExports {
  /** E-step over row pairs [start, end) (d = 1, k = 2); returns the pair it stopped at */
  estep2(x: number, y: number, lp: number, r: number, start: number, end: number): number;
  /** E-step over row pairs [start, end) (d = 1, k = 3); returns the pair it stopped at */
  estep3(x: number, y: number, lp: number, r: number, start: number, end: number): number;
  /** observed log-likelihood over row pairs [start, end) (d = 1, k = 2); returns the pair it stopped at */
  loglik2(x: number, y: number, lp: number, start: number, end: number): number;
  /** observed log-likelihood over row pairs [start, end) (d = 1, k = 3); returns the pair it stopped at */
  loglik3(x: number, y: number, lp: number, start: number, end: number): number;
  /** moments over row pairs [start, end) (d = 1, k = 2): shifts in par, the 12 sums (lane 0 + lane 1) into acc */
  moments2(x: number, y: number, r: number, start: number, end: number): void;
  /** moments over row pairs [start, end) (d = 1, k = 3): shifts in par, the 18 sums (lane 0 + lane 1) into acc */
  moments3(x: number, y: number, r: number, start: number, end: number): void;
  /** gate gradient / curvature sums, k = 2, free expert 0 (resp. 1): the 5 sums into acc */
  gradcurv2_0(x: number, r: number, pi: number, start: number, end: number): void;
  gradcurv2_1(x: number, r: number, pi: number, start: number, end: number): void;
  /** gate gradient / curvature sums, k = 3, free experts (0, 1), (0, 2), (1, 2): the 13 sums into acc */
  gradcurv3_01(x: number, r: number, pi: number, start: number, end: number): void;
  gradcurv3_02(x: number, r: number, pi: number, start: number, end: number): void;
  gradcurv3_12(x: number, r: number, pi: number, start: number, end: number): void;
  /**
   * dense-to-sparse gate gradient / curvature / Hessian sums, d = 1, k = 3 (identity, tanh, sigmoid):
   * β1 (3) and 1/τ in par, the 30 sums of cpu-dense.ts denseSums1k3 (lane 0 + lane 1) into acc
   */
  densegrad3_id(x: number, r: number, pi: number, start: number, end: number): void;
  densegrad3_tanh(x: number, r: number, pi: number, start: number, end: number): void;
  densegrad3_sig(x: number, r: number, pi: number, start: number, end: number): void;
  /** softmax gate over row pairs [start, end) (d = 1, k = 2); Q into acc when withQ ≠ 0; returns the pair it stopped at */
  gate2(x: number, lp: number, pi: number, r: number, withQ: number, start: number, end: number): number;
  /** softmax gate over row pairs [start, end) (d = 1, k = 3); Q into acc when withQ ≠ 0; returns the pair it stopped at */
  gate3(x: number, lp: number, pi: number, r: number, withQ: number, start: number, end: number): number;
  /**
   * top-K gate over row pairs [start, end) (d = 1, k = 3; mask 3 bytes per row, computed when compute ≠ 0);
   * Q into acc when withQ ≠ 0; returns the pair it stopped at
   */
  topk3(x: number, lp: number, pi: number, mask: number, r: number, compute: number, K: number, slope: number,
    withQ: number, start: number, end: number): number;
  /**
   * dense-to-sparse gate (identity / tanh / sigmoid activation, bias outside) over row pairs
   * [start, end) (d = 1, k = 2, 3; par: β0, β1, 1/τ); Q into acc when withQ ≠ 0; returns the pair it stopped at
   */
  denseidentity2(x: number, lp: number, pi: number, r: number, withQ: number, start: number, end: number): number;
  denseidentity3(x: number, lp: number, pi: number, r: number, withQ: number, start: number, end: number): number;
  densetanh2(x: number, lp: number, pi: number, r: number, withQ: number, start: number, end: number): number;
  densetanh3(x: number, lp: number, pi: number, r: number, withQ: number, start: number, end: number): number;
  densesigmoid2(x: number, lp: number, pi: number, r: number, withQ: number, start: number, end: number): number;
  densesigmoid3(x: number, lp: number, pi: number, r: number, withQ: number, start: number, end: number): number;
}

export interface Arena {
  readonly memory: WasmMemory;
  readonly kernels: KernelExports;
  /** the parameter block (32 doubles) */
  readonly par: Float64Array;
  /** the accumulator block (32 doubles; the same bytes as accBits) */
  readonly acc: Float64Array;
  readonly accBits: BigInt64Array;
  /** a zeroed Float64Array of `len` in the arena (64-byte aligned); throws when the arena is full */
  alloc(len: number): Float64Array;
  /** a zeroed Uint8Array of `len` in the arena (64-byte aligned); throws when the arena is full */
  allocU8(len: number): Uint8Array;
  /** a copy of `src` in the arena */
  copy(src: Float64Array): Float64Array;
}

let compiled: object | null | undefined;

/** The compiled kernels, or null where this runtime has no WebAssembly SIMD. */
function kernelModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = new WA.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
    } catch {
      compiled = null;
    }
  }
  return compiled ?? null;
}

const owners = new WeakMap<ArrayBuffer, Arena>();

/**
 * Bytes an arena needs for Float64Arrays of these lengths and Uint8Arrays of `byteLengths`
 * (each rounded up to 64 bytes).
 */
export function arenaBytes(lengths: readonly number[], byteLengths: readonly number[] = []): number {
  let bytes = HEAP;
  for (const len of lengths) bytes += Math.ceil((len * 8) / 64) * 64;
  for (const len of byteLengths) bytes += Math.ceil(len / 64) * 64;
  return bytes;
}

/**
 * A new arena with room for Float64Arrays of these lengths (and Uint8Arrays of byteLengths), or
 * null when WebAssembly SIMD is not available or the arena would exceed 1 GiB.
 */
export function createArena(lengths: readonly number[], byteLengths: readonly number[] = []): Arena | null {
  const bytes = arenaBytes(lengths, byteLengths);
  if (bytes > MAX_BYTES) return null;
  const mod = kernelModule();
  if (mod === null) return null;
  const pages = Math.ceil(bytes / PAGE);
  const memory = new WA.Memory({ initial: pages, maximum: pages });
  const instance = new WA.Instance(mod, { env: { memory } });
  const buffer = memory.buffer;
  let top = HEAP;
  const arena: Arena = {
    memory,
    kernels: instance.exports as unknown as KernelExports,
    par: new Float64Array(buffer, PAR, 32),
    acc: new Float64Array(buffer, ACC, 32),
    accBits: new BigInt64Array(buffer, ACC, 32),
    alloc(len: number): Float64Array {
      const size = Math.ceil((len * 8) / 64) * 64;
      if (top + size > buffer.byteLength) throw new Error(`wasm arena: no room for ${len} doubles`);
      const a = new Float64Array(buffer, top, len);
      top += size;
      return a;
    },
    allocU8(len: number): Uint8Array {
      const size = Math.ceil(len / 64) * 64;
      if (top + size > buffer.byteLength) throw new Error(`wasm arena: no room for ${len} bytes`);
      const a = new Uint8Array(buffer, top, len);
      top += size;
      return a;
    },
    copy(src: Float64Array): Float64Array {
      const a = arena.alloc(src.length);
      a.set(src);
      return a;
    },
  };
  owners.set(buffer, arena);
  return arena;
}

/** The arena that holds `a`, if any. */
export function arenaOf(a: Float64Array): Arena | undefined {
  return owners.get(a.buffer as ArrayBuffer);
}
