/**
 * A PNG with nothing but Node: with Debian's Chromium hidden (GMOE_HIDE_SYSTEM_CHROMIUM), figures render
 * through the Chromium inside the npm package @sparticuz/chromium (an optional dependency, x64 Linux).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { summarise } from '../../src/experiments/analysis/index.js';
import { chooseBrowser, HIDE_SYSTEM_CHROMIUM_ENV } from '../../src/experiments/plot/browser.js';
import { buildFigure, renderPng } from '../../src/experiments/plot/index.js';
import { syntheticRecords, syntheticSpec } from './analysis-helpers.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('png-bundled');
afterEach(() => vi.unstubAllEnvs());

const installed = (() => {
  try {
    createRequire(import.meta.url).resolve('@sparticuz/chromium');
    return true;
  } catch {
    return false;
  }
})();
// the package ships an x64 Linux build; elsewhere npm may skip the optional dependency
const supported = process.platform === 'linux' && process.arch === 'x64';
if (!installed || !supported)
  console.warn(
    `png-bundled: skipped (${!supported ? `${process.platform}/${process.arch} is not x64 Linux` : '@sparticuz/chromium not installed'})`,
  );

const records = syntheticRecords({
  ns: [100, 1000, 10000],
  reps: 6,
  metrics: { D1: (n) => 2 * n ** -0.5, hellinger: (n) => 0.3 * n ** -0.5 },
});
const figure = buildFigure(summarise(records, syntheticSpec({ D1: { exponent: -0.5 } }), { bootstrap: 50 }));

describe('PNG without the system browser', () => {
  it('the system browser is chosen first, and hidden by the environment variable', async () => {
    vi.stubEnv(HIDE_SYSTEM_CHROMIUM_ENV, '1');
    const hidden = await chooseBrowser().catch((e: Error) => e);
    if (hidden instanceof Error) expect(hidden.message).toMatch(/hidden by GMOE_HIDE_SYSTEM_CHROMIUM/);
    else expect(hidden.source).toBe('bundled');
    vi.stubEnv(HIDE_SYSTEM_CHROMIUM_ENV, '0');
    if (existsSync('/usr/bin/chromium')) expect((await chooseBrowser()).source).toBe('system');
  }, 180_000);

  it.skipIf(!installed || !supported)(
    'renders a valid, non-empty PNG through @sparticuz/chromium',
    async () => {
      vi.stubEnv(HIDE_SYSTEM_CHROMIUM_ENV, '1');
      const browser = await chooseBrowser();
      expect(browser.source).toBe('bundled');
      expect(browser.executablePath).not.toBe('/usr/bin/chromium');
      const p = join(dir, 'plot.png');
      const r = await renderPng(figure, p, { scale: 1 });
      expect(r).toEqual({ ok: true });
      const png = readFileSync(p);
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(png.readUInt32BE(16)).toBe(figure.layout.width);
      expect(png.readUInt32BE(20)).toBe(figure.layout.height);
      expect(statSync(p).size).toBeGreaterThan(20_000); // curves and text, not a blank page
      expect(readdirSync(dir)).toEqual(['plot.png']); // no temporary file left
    },
    300_000,
  );
});
