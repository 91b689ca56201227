/**
 * Choosing the backend: what counts as a real GPU (classifyGpu, gatherGpuFacts on fake gpu.js
 * modules), what 'gpu' and 'auto' do on this machine, and that nothing loads gpu.js unless the
 * GPU backend is asked for.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';
import {
  AUTO_GPU_MIN_VALUES,
  GpuUnavailableError,
  autoBackendName,
  classifyGpu,
  createBackend,
  createGpuBackend,
  probeGpu,
} from '../../src/em/backend/index.js';
import { gatherGpuFacts, type GpuFacts, type GpuJsModule } from '../../src/em/backend/gpu-probe.js';
import { fitMoE } from '../../src/em/fit.js';
import { simulate } from '../../src/models/sample.js';
import { writeDatasetCsv } from '../../src/models/dataset-io.js';
import { truthPreset } from '../../src/models/presets.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const facts = (f: Partial<GpuFacts>): GpuFacts => ({
  version: '2.24.1',
  loadError: null,
  mode: 'headlessgl',
  renderer: 'NVIDIA Corporation / NVIDIA H100 80GB HBM3/PCIe/SSE2',
  probeError: null,
  ...f,
});

describe('classifyGpu: what a real GPU mode is', () => {
  it('accepts a GL backend on a hardware renderer whose probe kernel was exact', () => {
    const p = classifyGpu(facts({}));
    expect(p.available).toBe(true);
    expect(p.reason).toContain('NVIDIA H100');
  });

  it.each([
    ['webasm', 'WebAssembly on the CPU'],
    ['cpu', 'JavaScript on the CPU'],
    ['webgpu', '"webgpu"'],
  ])('rejects gpu.js backend %s', (mode, words) => {
    const p = classifyGpu(facts({ mode, renderer: null }));
    expect(p.available).toBe(false);
    expect(p.reason).toContain(words);
  });

  it.each([
    'Mesa / llvmpipe (LLVM 15.0.6, 256 bits)',
    'Google Inc. (Google) / ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)',
    'Mesa/X.org / softpipe',
    'Microsoft Corporation / Microsoft Basic Render Driver',
  ])('rejects the software renderer %s', (renderer) => {
    const p = classifyGpu(facts({ renderer }));
    expect(p.available).toBe(false);
    expect(p.reason).toContain('renders in software');
  });

  it('rejects a missing gpu.js, a failed probe kernel and an unknown renderer, saying why', () => {
    expect(classifyGpu(facts({ loadError: 'gpu.js is not installed', mode: null })).reason).toBe(
      'gpu.js is not installed',
    );
    const bad = classifyGpu(facts({ probeError: 'probe kernel returned 0.5 for 1.8333' }));
    expect(bad.available).toBe(false);
    expect(bad.reason).toContain('failed its probe kernel: probe kernel returned 0.5');
    expect(classifyGpu(facts({ renderer: null })).reason).toContain('does not report its GL renderer');
  });
});

/** A stand-in for gpu.js whose automatic backend is `mode`, with a GL context reporting `renderer`. */
function fakeGpuJs(mode: string, renderer: string, result: (a: Float32Array) => number[], runMode = mode): GpuJsModule {
  class Ctor {
    mode = mode;
  }
  const context = {
    RENDERER: 0x1f01,
    VENDOR: 0x1f00,
    getExtension: (name: string) =>
      name === 'WEBGL_debug_renderer_info' ? { UNMASKED_VENDOR_WEBGL: 0x9245, UNMASKED_RENDERER_WEBGL: 0x9246 } : null,
    getParameter: (p: number) =>
      p === 0x9246 || p === 0x1f01 ? renderer : p === 0x9245 || p === 0x1f00 ? 'Vendor' : null,
  };
  class GPU {
    mode = mode;
    Kernel = { mode, name: 'Fake' };
    createKernel() {
      const fn = Object.assign((a: unknown) => Float32Array.from(result(a as Float32Array)), {
        kernel: { constructor: Object.assign(Ctor, { mode: runMode }), context },
      });
      return fn as never;
    }
    destroy() {}
  }
  return { GPU } as unknown as GpuJsModule;
}
const exact = (a: Float32Array) => Array.from(a, (x) => Math.fround(Math.fround(x * 3) + Math.fround(0.333333343267)));

describe('gatherGpuFacts: probing a gpu.js instance', () => {
  it("reads the renderer through the probe kernel's GL context", () => {
    const f = gatherGpuFacts(fakeGpuJs('headlessgl', 'NVIDIA H100', exact), '2.24.1');
    expect(f).toMatchObject({ mode: 'headlessgl', probeError: null });
    expect(f.renderer).toContain('NVIDIA H100');
    expect(classifyGpu(f).available).toBe(true);
  });

  it('catches a software rasteriser, lossy float textures and a silent fallback to the CPU kernel', () => {
    expect(
      classifyGpu(gatherGpuFacts(fakeGpuJs('headlessgl', 'llvmpipe (LLVM 15.0.6, 256 bits)', exact), '2.24.1'))
        .available,
    ).toBe(false);
    // 8-bit packed output ("unsigned" precision) is off by far more than an ulp
    const lossy = gatherGpuFacts(
      fakeGpuJs('headlessgl', 'NVIDIA H100', (a) => exact(a).map((v) => Math.round(v * 255) / 255)),
      '2.24.1',
    );
    expect(lossy.probeError).toMatch(/probe kernel returned/);
    const fellBack = gatherGpuFacts(fakeGpuJs('headlessgl', 'NVIDIA H100', exact, 'cpu'), '2.24.1');
    expect(fellBack.probeError).toMatch(/fell back to its "cpu" kernel/);
  });

  it('does not probe a backend that is not GL', () => {
    const f = gatherGpuFacts(
      fakeGpuJs('webasm', 'n/a', () => {
        throw new Error('must not run');
      }),
      '2.24.1',
    );
    expect(f).toMatchObject({ mode: 'webasm', renderer: null, probeError: null });
  });
});

describe('backend selection on this machine', () => {
  const probe = probeGpu();

  it('probes consistently', () => {
    expect(probe.version).toBe('2.24.1');
    expect(probe.reason.length).toBeGreaterThan(0);
    if (probe.available) expect(['headlessgl', 'webgl2', 'webgl']).toContain(probe.mode);
    expect(probeGpu()).toBe(probe); // cached
  });

  it('"auto" stays on the CPU for small problems, and for large ones without a GPU', () => {
    expect(autoBackendName()).toBe('cpu');
    expect(autoBackendName({ n: AUTO_GPU_MIN_VALUES / 2 - 1, k: 2 })).toBe('cpu');
    expect(autoBackendName({ n: AUTO_GPU_MIN_VALUES, k: 2 })).toBe(probe.available ? 'gpu' : 'cpu');
    expect(createBackend('auto', { n: 100, k: 2 }).name).toBe('cpu');
  });

  it.runIf(!probe.available)('"gpu" without a GPU fails, naming what gpu.js found and the alternatives', () => {
    let err: unknown;
    try {
      createBackend('gpu');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GpuUnavailableError);
    const msg = (err as Error).message;
    expect(msg).toContain('backend "gpu" needs a GPU through gpu.js, and there is none here');
    expect(msg).toContain(probe.reason);
    expect(msg).toContain('Use backend "auto" (falls back to the CPU) or "cpu"');
    const data = simulate(truthPreset('demy'), { n: 200, seed: 1 });
    expect(() => fitMoE(data, { gate: { kind: 'softmax' }, k: 2, backend: 'gpu' })).toThrow(GpuUnavailableError);
    const auto = fitMoE(data, { gate: { kind: 'softmax' }, k: 2, backend: 'auto', maxIter: 2 });
    expect(auto.backend).toBe('cpu');
    expect(auto.options.backend).toBe('cpu');
  });

  it('rejects bad options of createGpuBackend by name', () => {
    expect(() => createGpuBackend({ mode: 'gl' as never })).toThrow('mode must be one of gpu, cpu, webasm. Value: gl');
    expect(() => createGpuBackend({ mode: 'cpu', blockSize: 0 })).toThrow(
      'blockSize must be an integer in [1, 4096]. Value: 0',
    );
    expect(() => createGpuBackend({ mode: 'cpu', maxChunk: 1.5 })).toThrow(
      'maxChunk must be an integer ≥ 1. Value: 1.5',
    );
    expect(() => createBackend('tpu' as never)).toThrow(
      'backend must be one of cpu, gpu, auto (or a Backend object). Value: tpu',
    );
  });

  it('accepts a Backend object as the fit option and reports its name', () => {
    const data = simulate(truthPreset('demy'), { n: 200, seed: 2 });
    const be = createGpuBackend({ mode: 'cpu' });
    const fit = fitMoE(data, { gate: { kind: 'softmax' }, k: 2, backend: be, maxIter: 1 });
    expect(fit.backend).toBe('gpu');
    expect(fit.options.backend).toBe('gpu');
    be.destroy();
    expect(() => be.logLik(fit.model, data.X, data.y, data.n, new Float64Array(400))).toThrow(
      'the gpu backend was destroyed',
    );
  });
});

describe('gmoe fit --backend', () => {
  it.runIf(!probeGpu().available)(
    '"gpu" without a GPU exits 2 with the reason on one line; "auto" fits on the CPU',
    () => {
      const dir = tempDir('backend');
      const data = simulate(truthPreset('demy'), { n: 300, seed: 4 });
      writeDatasetCsv(join(dir, 'd.csv'), data);
      const bin = join(root, 'bin/gmoe.js');
      const args = [
        'fit',
        '--data',
        'd.csv',
        '--gate',
        'softmax',
        '--k',
        '2',
        '--init',
        'near-truth:demy',
        '--no-progress',
      ];
      const gpu = spawnSync(process.execPath, [bin, ...args, '--backend', 'gpu', '--out', 'g.json'], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(gpu.status).toBe(2);
      expect(gpu.stderr).toMatch(
        /^gmoe: backend "gpu" needs a GPU through gpu\.js, and there is none here: .+ Use backend "auto" \(falls back to the CPU\) or "cpu"\n$/,
      );
      expect(existsSync(join(dir, 'g.json'))).toBe(false);
      const auto = spawnSync(process.execPath, [bin, ...args, '--backend', 'auto', '--out', 'a.json'], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(auto.status, auto.stderr).toBe(0);
      expect(auto.stdout).toMatch(/ s on cpu\n/);
    },
  );
});

describe('lazy loading', () => {
  it('importing gmoe and fitting with "cpu" or a small "auto" never loads gpu.js; the GPU backend does', () => {
    const dir = tempDir('lazy');
    const script = join(dir, 'lazy.ts');
    const src = (p: string) => JSON.stringify(join(root, p));
    writeFileSync(
      script,
      `
import { createRequire } from 'node:module';
import { fitMoE, createBackend } from ${src('src/index.ts')};
import { simulate, truthPreset } from ${src('src/models/index.ts')};
import { createGpuBackend } from ${src('src/em/backend/gpu.ts')};
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((p) => /[\\\\/]gpu\\.js[\\\\/]/.test(p));
const data = simulate(truthPreset('demy'), { n: 300, seed: 1 });
fitMoE(data, { gate: { kind: 'softmax' }, k: 2, maxIter: 2 });
fitMoE(data, { gate: { kind: 'softmax' }, k: 2, maxIter: 2, backend: 'auto' });
createBackend('auto');
const before = loaded();
createGpuBackend({ mode: 'cpu' });
console.log(JSON.stringify({ before, after: loaded() }));
`,
    );
    const r = spawnSync(join(root, 'node_modules/.bin/tsx'), [script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({ before: false, after: true });
  });
});
