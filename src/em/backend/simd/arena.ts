/**
 * The arena of a fit for the CPU backend's WebAssembly SIMD kernels (src/em/backend/simd/gen):
 * one WebAssembly.Memory that holds the kernels' tables, a parameter and an accumulator block,
 * and the fit's n × k buffers and data, so that the kernels read and write the same
 * Float64Arrays the rest of the fitter uses, with no copies per call.
 *
 * The memory never grows (growing would detach every view): its size is fixed at creation.
 * A kernel is used only when every array of a call lies in one arena ({@link arenaOf}); other
 * arrays take the JS kernels, so the arena is an optimisation that callers can ignore.
 */
import { ACC, ACC_LEN, GACC, GACC_LEN, GPAR, GPAR_LEN, HEAP, PAGE, PAR, PAR_LEN } from './layout.js';
import { KERNELS_WASM_BASE64, type KernelExports } from './module.js';

/** The part of the WebAssembly JS API used here (the project's lib has no DOM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (desc: { initial: number; maximum: number }) => WasmMemory;
  Instance: new (mod: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** arenas larger than this are not created (the fit takes the JS kernels) */
const MAX_BYTES = 2 ** 30;

/**
 * Memories of released arenas (finished fits), for the next arenas. Why: a fresh WebAssembly.Memory
 * costs its allocation and a page fault per page on first touch — 14 % of a demy hybrid fit at
 * n = 1e4 (≈ 35 → 30 ms). A reused memory is zeroed and instantiated again (the tables written anew),
 * so an arena on it starts exactly as on a fresh one. At most POOL_SIZE memories of ≤ POOL_MAX_BYTES
 * each are kept (a large fit's memory goes back to the system), one is taken when its size is within
 * [needed, 2 × needed] pages.
 */
const pool: WasmMemory[] = [];
const POOL_SIZE = 2;
const POOL_MAX_BYTES = 64 * 2 ** 20;

/** A pooled memory of [pages, 2·pages] pages, zeroed, or undefined. */
function pooledMemory(pages: number): WasmMemory | undefined {
  const i = pool.findIndex((m) => m.buffer.byteLength >= pages * PAGE && m.buffer.byteLength <= 2 * pages * PAGE);
  if (i < 0) return undefined;
  const m = pool.splice(i, 1)[0]!;
  new Uint8Array(m.buffer).fill(0);
  return m;
}

/** Keeps an arena's memory for a later arena (see `pool`); the arena must not be used after. */
export function releaseArena(A: Arena): void {
  if (A.memory.buffer.byteLength > POOL_MAX_BYTES || pool.includes(A.memory)) return;
  pool.push(A.memory);
  if (pool.length > POOL_SIZE) pool.shift();
}

/** How many memories the pool holds (tests). */
export const pooledArenas = (): number => pool.length;
/** Empties the pool (tests: a fit on fresh memory). */
export function clearArenaPool(): void {
  pool.length = 0;
}

export type { KernelExports };

export interface Arena {
  readonly memory: WasmMemory;
  readonly kernels: KernelExports;
  /** the parameter block (32 doubles) */
  readonly par: Float64Array;
  /** the accumulator block (32 doubles; the same bytes as accBits) */
  readonly acc: Float64Array;
  readonly accBits: BigInt64Array;
  /** the generic kernels' parameter block (GPAR_LEN doubles) */
  readonly gpar: Float64Array;
  /** the generic sum kernels' per-lane accumulators (GACC_LEN doubles: lane 0, lane 1 of each sum) */
  readonly gacc: Float64Array;
  /** a zeroed Float64Array of `len` in the arena (64-byte aligned); throws when the arena is full */
  alloc(len: number): Float64Array;
  /** a zeroed Uint8Array of `len` in the arena (64-byte aligned); throws when the arena is full */
  allocU8(len: number): Uint8Array;
  /** a copy of `src` in the arena */
  copy(src: Float64Array): Float64Array;
  /** the memory may serve a later arena ({@link releaseArena}); no array of this arena may be used after */
  release(): void;
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
  const memory = pooledMemory(pages) ?? new WA.Memory({ initial: pages, maximum: pages });
  const instance = new WA.Instance(mod, { env: { memory } });
  const buffer = memory.buffer;
  let top = HEAP;
  const arena: Arena = {
    memory,
    kernels: instance.exports as unknown as KernelExports,
    par: new Float64Array(buffer, PAR, PAR_LEN),
    acc: new Float64Array(buffer, ACC, ACC_LEN),
    accBits: new BigInt64Array(buffer, ACC, ACC_LEN),
    gpar: new Float64Array(buffer, GPAR, GPAR_LEN),
    gacc: new Float64Array(buffer, GACC, GACC_LEN),
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
    release: () => releaseArena(arena),
  };
  owners.set(buffer, arena);
  return arena;
}

/** The arena that holds `a`, if any. */
export function arenaOf(a: ArrayBufferView): Arena | undefined {
  return owners.get(a.buffer as ArrayBuffer);
}
