/**
 * The committed WebAssembly module (src/em/backend/wasm/module.ts, GENERATED) is the binary of
 * scripts/wasm/kernels.ts: a kernel edited without `npx tsx scripts/build-wasm.ts` fails here.
 */
import { describe, expect, it } from 'vitest';
import { moduleBase64 } from '../../scripts/wasm/compile.js';
import { KERNELS_WASM_BASE64 } from '../../src/em/backend/wasm/module.js';
import { hex } from '../../scripts/wasm/wat.js';

describe('WebAssembly kernels: build', () => {
  it('the committed module is the build of scripts/wasm/kernels.ts', async () => {
    expect(KERNELS_WASM_BASE64).toBe(await moduleBase64());
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
