/**
 * Finding a real GPU through gpu.js, without ever loading gpu.js unless asked.
 *
 * What gpu.js 2.24 reports in Node, and why none of it can be taken at face value:
 * - `GPU.isGPUSupported` is true whenever WebAssembly exists: its WebAssembly backend ("webasm")
 *   counts as a GPU backend, yet it runs float32 SIMD on the CPU.
 * - `new GPU({ mode: 'gpu' }).mode` is the string "gpu" whatever backend it lands on (a requested
 *   mode is echoed back); only `gpu.Kernel.mode` says which backend runs the kernels.
 * - The WebGPU backend ("webgpu", Dawn through the `webgpu` package) is never chosen automatically,
 *   its kernels only return Promises (the synchronous fitter cannot use them), and the Dawn binary
 *   of webgpu 0.2.9 does not even load on Debian 12 (it needs GLIBCXX_3.4.32).
 * - The headless-gl backend ("headlessgl", the optional native `gl` package) may get a context from
 *   a software rasteriser (Mesa llvmpipe under Xvfb, SwiftShader through ANGLE): a GL mode is not
 *   a GPU either.
 *
 * So "a real GPU mode" here means all of: gpu.js loads; its automatic choice is a synchronous GL
 * backend (headlessgl, webgl2 or webgl); a probe kernel returns exact single-precision values
 * on that backend (float textures work, no fallback to gpu.js's CPU kernel); and the GL renderer
 * is not a known software rasteriser.
 */
import { createRequire } from 'node:module';

/** The part of a gpu.js kernel function the backend uses. */
export interface GpuJsKernel {
  (...args: unknown[]): unknown;
  /** the backend kernel currently behind the function (replaced when gpu.js switches or falls back) */
  kernel: { constructor: { mode?: string; name: string }; context?: unknown; fallbackReason?: string };
  destroy?(removeCanvasReferences?: boolean): void;
}

/** The part of a gpu.js GPU instance the backend uses. */
export interface GpuJsInstance {
  mode: string;
  Kernel: { mode: string; name: string } | null;
  createKernel(source: string, settings: Record<string, unknown>): GpuJsKernel;
  destroy(): unknown;
}

/** The part of the gpu.js module the backend uses. */
export interface GpuJsModule {
  GPU: { new (settings?: { mode?: string }): GpuJsInstance };
}

/** The gpu.js backends that run kernels synchronously on a GPU (when the renderer is hardware). */
export const GL_MODES: readonly string[] = ['headlessgl', 'webgl2', 'webgl'];

/** Renderer strings of software rasterisers (GL contexts without a GPU). */
export const SOFTWARE_RENDERER =
  /llvmpipe|softpipe|swiftshader|subzero|swrast|software|lavapipe|basic render|offscreen|gdi generic/i;

export interface GpuProbe {
  /** true when gpu.js runs kernels synchronously on a hardware GPU here */
  available: boolean;
  /** installed gpu.js version, or null when gpu.js is not installed */
  version: string | null;
  /** the backend gpu.js picks automatically (headlessgl, webgl2, webgl, webasm, cpu), or null */
  mode: string | null;
  /** the GL renderer (unmasked when the driver allows), or null when there is no GL context */
  renderer: string | null;
  /** GL MAX_TEXTURE_SIZE (a kernel's inputs and outputs are textures of at most its square), or null */
  maxTextureSize: number | null;
  /** in words: what was found, and why it is (not) a GPU */
  reason: string;
}

/** The facts {@link classifyGpu} decides on. */
export interface GpuFacts {
  version: string | null;
  /** why gpu.js could not be loaded (null when it loaded) */
  loadError: string | null;
  mode: string | null;
  renderer: string | null;
  maxTextureSize?: number | null;
  /** why the probe kernel failed (null when it returned the exact values) */
  probeError: string | null;
}

/**
 * The definition of "a real GPU mode" (see the module documentation), as a pure function of the
 * facts gathered by {@link probeGpu}.
 */
export function classifyGpu(f: GpuFacts): GpuProbe {
  const base = { version: f.version, mode: f.mode, renderer: f.renderer, maxTextureSize: f.maxTextureSize ?? null };
  if (f.loadError !== null) return { ...base, available: false, reason: f.loadError };
  const v = `gpu.js ${f.version ?? '(unknown version)'}`;
  if (f.mode === null || !GL_MODES.includes(f.mode)) {
    const what =
      f.mode === 'webasm'
        ? '"webasm" (WebAssembly on the CPU)'
        : f.mode === 'cpu'
          ? '"cpu" (JavaScript on the CPU)'
          : `"${f.mode}"`;
    return {
      ...base,
      available: false,
      reason: `${v} found no GPU: its automatic backend is ${what}, not a GL backend (headless-gl needs the optional native package "gl" and a GL context; WebGPU kernels are asynchronous only)`,
    };
  }
  if (f.probeError !== null)
    return { ...base, available: false, reason: `${v} backend "${f.mode}" failed its probe kernel: ${f.probeError}` };
  if (f.renderer === null)
    return {
      ...base,
      available: false,
      reason: `${v} backend "${f.mode}" does not report its GL renderer, so a software rasteriser cannot be ruled out`,
    };
  if (SOFTWARE_RENDERER.test(f.renderer)) {
    return {
      ...base,
      available: false,
      reason: `${v} backend "${f.mode}" renders in software ("${f.renderer}"), not on a GPU`,
    };
  }
  return { ...base, available: true, reason: `${v} backend "${f.mode}" on "${f.renderer}"` };
}

const nodeRequire = createRequire(import.meta.url);
let loaded: { mod: GpuJsModule | null; version: string | null; error: string | null } | null = null;

/**
 * Loads gpu.js (an optional dependency, CommonJS) on first use; later calls return the same module.
 * @returns the module and its version, or the reason it cannot be loaded
 */
export function loadGpuJs(): { mod: GpuJsModule | null; version: string | null; error: string | null } {
  if (loaded) return loaded;
  try {
    const mod = nodeRequire('gpu.js') as GpuJsModule;
    let version: string | null = null;
    try {
      version = (nodeRequire('gpu.js/package.json') as { version?: string }).version ?? null;
    } catch {
      /* version is informative only */
    }
    loaded = { mod, version, error: null };
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    loaded = {
      mod: null,
      version: null,
      error:
        code === 'MODULE_NOT_FOUND' && /'gpu\.js'/.test(msg)
          ? 'gpu.js is not installed (it is an optional dependency: npm install gpu.js@2.24.1)'
          : `gpu.js could not be loaded: ${msg}`,
    };
  }
  return loaded;
}

const PROBE_SOURCE = 'function probe(a) { return a[this.thread.x] * 3.0 + 0.333333343267; }';

/** The GL renderer of a GL context, unmasked when the driver allows. */
function glRenderer(ctx: unknown): string | null {
  const gl = ctx as {
    getExtension?(name: string): unknown;
    getParameter?(p: number): unknown;
    RENDERER?: number;
    VENDOR?: number;
  } | null;
  if (!gl || typeof gl.getParameter !== 'function') return null;
  try {
    const ext = gl.getExtension?.('WEBGL_debug_renderer_info') as {
      UNMASKED_RENDERER_WEBGL?: number;
      UNMASKED_VENDOR_WEBGL?: number;
    } | null;
    const parts: string[] = [];
    if (ext && ext.UNMASKED_RENDERER_WEBGL !== undefined) {
      parts.push(
        String(gl.getParameter(ext.UNMASKED_VENDOR_WEBGL ?? 0x9245) ?? ''),
        String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) ?? ''),
      );
    }
    parts.push(
      String(gl.getParameter(gl.VENDOR ?? 0x1f00) ?? ''),
      String(gl.getParameter(gl.RENDERER ?? 0x1f01) ?? ''),
    );
    const s = parts.filter((p) => p.length > 0).join(' / ');
    return s.length > 0 ? s : null;
  } catch {
    return null;
  }
}

function glMaxTexture(ctx: unknown): number | null {
  const gl = ctx as { getParameter?(p: number): unknown; MAX_TEXTURE_SIZE?: number } | null;
  try {
    const v = gl?.getParameter?.(gl.MAX_TEXTURE_SIZE ?? 0x0d33);
    return typeof v === 'number' && v > 0 ? v : null;
  } catch {
    return null;
  }
}

/** Gathers the facts for {@link classifyGpu} from a loaded gpu.js. */
export function gatherGpuFacts(mod: GpuJsModule, version: string | null): GpuFacts {
  let gpu: GpuJsInstance | null = null;
  const facts: GpuFacts = {
    version,
    loadError: null,
    mode: null,
    renderer: null,
    maxTextureSize: null,
    probeError: null,
  };
  try {
    gpu = new mod.GPU();
    facts.mode = gpu.Kernel?.mode ?? null;
    if (facts.mode === null || !GL_MODES.includes(facts.mode)) return facts;
    const probe = gpu.createKernel(PROBE_SOURCE, {
      output: [4],
      precision: 'single',
      argumentTypes: { a: 'Array' },
      tactic: 'precision',
    });
    const input = Float32Array.of(0.5, -1.25, 1e-3, 12345.5);
    const out = probe(input) as ArrayLike<number>;
    const runMode = probe.kernel.constructor.mode;
    facts.renderer = glRenderer(probe.kernel.context);
    facts.maxTextureSize = glMaxTexture(probe.kernel.context);
    if (runMode !== facts.mode) {
      facts.probeError = `gpu.js fell back to its "${runMode ?? probe.kernel.constructor.name}" kernel${probe.kernel.fallbackReason ? ` (${probe.kernel.fallbackReason})` : ''}`;
    } else {
      for (let t = 0; t < 4; t++) {
        const want = Math.fround(Math.fround(input[t]! * 3) + Math.fround(0.333333343267));
        // one ulp of slack for a fused multiply-add
        if (!(Math.abs(out[t]! - want) <= 2 ** -23 * Math.abs(want))) {
          facts.probeError = `probe kernel returned ${out[t]} for ${want} (no single-precision float textures?)`;
          break;
        }
      }
    }
    probe.destroy?.();
  } catch (e) {
    facts.probeError = e instanceof Error ? e.message.split('\n')[0]! : String(e);
  } finally {
    try {
      gpu?.destroy();
    } catch {
      /* nothing to release */
    }
  }
  return facts;
}

let probed: GpuProbe | null = null;

/**
 * Whether gpu.js offers a real GPU here (see the module documentation for what counts).
 * Loads gpu.js and creates a GL context on the first call only; the answer is cached for the process.
 * Never throws.
 */
export function probeGpu(): GpuProbe {
  if (probed) return probed;
  const { mod, version, error } = loadGpuJs();
  probed =
    mod === null
      ? classifyGpu({ version, loadError: error, mode: null, renderer: null, probeError: null })
      : classifyGpu(gatherGpuFacts(mod, version));
  return probed;
}
