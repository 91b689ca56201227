/**
 * The committed WebAssembly module (src/em/backend/simd/module.ts, GENERATED) is the build of
 * src/em/backend/simd/gen: a kernel, constant or layout edited without `npm run build:wasm` fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { moduleBase64 } from '../../src/em/backend/simd/gen/compile.js';
import { MODULE_PATH, exportsType, renderModule, sourceHash } from '../../src/em/backend/simd/gen/build.js';
import { moduleText } from '../../src/em/backend/simd/gen/kernels.js';
import { KERNELS_SOURCE_HASH, KERNELS_WASM_BASE64 } from '../../src/em/backend/simd/module.js';
import { hex } from '../../src/em/backend/simd/gen/wat.js';

describe('WebAssembly kernels: build', () => {
  it('the committed module carries the hash of the current sources (else: npm run build:wasm)', () => {
    expect(KERNELS_SOURCE_HASH).toBe(sourceHash());
  });

  it('the committed module is the build of src/em/backend/simd/gen (binary, hash and exports type)', async () => {
    expect(KERNELS_WASM_BASE64).toBe(await moduleBase64());
    expect(readFileSync(MODULE_PATH, 'utf8')).toBe(await renderModule());
  });

  it('KernelExports lists every exported kernel with its parameters', () => {
    const type = exportsType(moduleText());
    expect(type).toContain('estep3(x: number, y: number, lp: number, r: number, start: number, end: number): number;');
    expect(type).toContain('moments2(x: number, y: number, r: number, start: number, end: number): void;');
    expect(type.match(/^ {2}\w+\(/gm)?.length).toBe((moduleText().match(/\(export "/g) ?? []).length);
  });

  it('hex() writes every double exactly', () => {
    const v = new DataView(new ArrayBuffer(8));
    for (const c of [1, -1, 0.1, 1 / 3, 2 ** -1022, 5e-324, 2 ** -1074 * 3, Number.MAX_VALUE, 128 / Math.LN2, -0]) {
      const s = hex(c);
      // parse the hex literal back: sign, 0x<d>.<13 hex>p<e>
      const m = /^(-?)0x([01])\.([0-9a-f]{13})p([-+]?\d+)$/.exec(s) ?? /^(-?)0x([01])p([-+]?\d+)$/.exec(s);
      expect(m, s).not.toBeNull();
      const sign = m![1] === '-' ? -1 : 1;
      const lead = Number(m![2]);
      const frac = m!.length === 5 ? Number(BigInt('0x' + m![3])) / 2 ** 52 : 0;
      const e = Number(m![m!.length - 1]);
      const back = sign * (lead + frac) * 2 ** e;
      v.setFloat64(0, back);
      expect(Object.is(back, c) || (c === 0 && back === 0), `${c} → ${s} → ${back}`).toBe(true);
    }
  });
});
