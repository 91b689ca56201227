/**
 * PNG rendering of a figure: plotly.js's own Plotly.toImage in headless Chromium, driven by
 * playwright-core. The browser is Debian's (/usr/bin/chromium) where it exists, else the one inside
 * the npm package @sparticuz/chromium (browser.ts) — nothing is ever downloaded — and runs with a
 * fresh temporary profile, removed afterwards, with no network (the page is built from inlined
 * content and every request is refused).
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Figure } from './figure.js';
import { chooseBrowser } from './browser.js';
import { plotlyBundle } from './html.js';

export { CHROMIUM_PATH, HIDE_SYSTEM_CHROMIUM_ENV } from './browser.js';

/** Flags: headless, no sandbox (containers), no GPU, and none of the browser's own network traffic. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface PngOptions {
  /** image size in CSS px (default: the figure's layout.width / height, else 1200 × 800) */
  width?: number;
  height?: number;
  /** device pixels per CSS px (default 2: sharp in print) */
  scale?: number;
  /** browser binary (default: /usr/bin/chromium, else the bundled @sparticuz/chromium) */
  executablePath?: string;
  /** give up after this many ms (default 120000) */
  timeoutMs?: number;
}

function sizeOf(figure: Figure, options: PngOptions): { width: number; height: number; scale: number } {
  const lw = figure.layout.width;
  const lh = figure.layout.height;
  const width = options.width ?? (typeof lw === 'number' ? lw : 1200);
  const height = options.height ?? (typeof lh === 'number' ? lh : 800);
  const scale = options.scale ?? 2;
  for (const [k, v] of [
    ['width', width],
    ['height', height],
    ['scale', scale],
  ] as const) {
    if (!(Number.isFinite(v) && v > 0)) throw new Error(`png ${k} must be a positive number. Value: ${v}`);
  }
  return { width, height, scale };
}

/** The image formats Plotly.toImage renders here: PNG (raster, `scale` device px per CSS px) and SVG (vector). */
export type ImageFormat = 'png' | 'svg';

/**
 * Renders a figure to PNG bytes (for notebooks: display the Buffer, or its base64).
 * @throws Error when no Chromium is found or rendering fails (the message says which)
 */
export async function figureToPng(figure: Figure, options: PngOptions = {}): Promise<Buffer> {
  return (await figureToImages(figure, ['png'], options)).png!;
}

/**
 * Renders a figure in each of `formats` with one browser launch: PNG bytes, SVG text as UTF-8 bytes.
 * @throws Error when no Chromium is found or rendering fails (the message says which)
 */
export async function figureToImages(
  figure: Figure,
  formats: readonly ImageFormat[],
  options: PngOptions = {},
): Promise<Partial<Record<ImageFormat, Buffer>>> {
  const { width, height, scale } = sizeOf(figure, options);
  const browser = await chooseBrowser(options.executablePath);
  const timeout = options.timeoutMs ?? 120_000;
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'gmoe-chromium-'));
  let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: browser.executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      ...(browser.env ? { env: { ...process.env, ...browser.env } } : {}),
      timeout,
      offline: true,
      viewport: { width: Math.ceil(width), height: Math.ceil(height) },
    });
    context.setDefaultTimeout(timeout);
    await context.route('**/*', (route) => route.abort());
    const page = context.pages()[0] ?? (await context.newPage());
    await page.setContent('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body></body></html>');
    await page.addScriptTag({ content: plotlyBundle() });
    const out: Partial<Record<ImageFormat, Buffer>> = {};
    for (const format of formats) {
      const url = await page.evaluate(
        async ({ fig, w, h, s, f }) => {
          const P = (globalThis as unknown as { Plotly: { toImage: (f: unknown, o: unknown) => Promise<string> } })
            .Plotly;
          return P.toImage({ data: fig.data, layout: fig.layout }, { format: f, width: w, height: h, scale: s });
        },
        // an SVG at its CSS size: scale would only enlarge its width and height attributes
        { fig: figure, w: width, h: height, s: format === 'svg' ? 1 : scale, f: format },
      );
      out[format] = decodeDataUrl(url, format);
    }
    return out;
  } finally {
    await context?.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Plotly.toImage's data URL: base64 for PNG, percent-encoded text for SVG. */
function decodeDataUrl(url: string, format: ImageFormat): Buffer {
  const prefix = format === 'png' ? 'data:image/png;base64,' : 'data:image/svg+xml,';
  if (!url.startsWith(prefix))
    throw new Error(
      `Plotly.toImage returned no ${format.toUpperCase()} data URL (starts with ${JSON.stringify(url.slice(0, 30))})`,
    );
  const body = url.slice(prefix.length);
  return format === 'png' ? Buffer.from(body, 'base64') : Buffer.from(decodeURIComponent(body), 'utf8');
}

/** {@link figureToPng} as base64 (e.g. for a notebook's image/png display). */
export async function figureToPngBase64(figure: Figure, options: PngOptions = {}): Promise<string> {
  return (await figureToPng(figure, options)).toString('base64');
}

/**
 * Renders a figure to a PNG file, atomically. Never throws: when no Chromium is found or the
 * rendering fails it returns ok: false with the reason, for the caller to warn.
 * @param path destination, e.g. results/…/plot.png
 */
export async function renderPng(
  figure: Figure,
  path: string,
  options: PngOptions = {},
): Promise<{ ok: true } | { ok: false; reason: string }> {
  return renderImages(figure, { png: path }, options);
}

/**
 * Renders a figure to image files (PNG and / or SVG), each written atomically, with one browser launch.
 * Never throws: when no Chromium is found or the rendering fails it writes none and returns ok: false
 * with the reason, for the caller to warn.
 */
export async function renderImages(
  figure: Figure,
  paths: Partial<Record<ImageFormat, string>>,
  options: PngOptions = {},
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const formats = (['png', 'svg'] as const).filter((f) => paths[f] !== undefined);
  const tmps = formats.map((f) => `${paths[f]!}.tmp-${process.pid}`);
  try {
    const images = await figureToImages(figure, formats, options);
    formats.forEach((f, t) => writeFileSync(tmps[t]!, images[f]!));
    formats.forEach((f, t) => renameSync(tmps[t]!, paths[f]!));
    return { ok: true };
  } catch (e) {
    for (const tmp of tmps) rmSync(tmp, { force: true });
    const msg = e instanceof Error ? e.message : String(e);
    const what = formats.map((f) => f.toUpperCase()).join(' and ');
    return {
      ok: false,
      reason: msg.startsWith('Chromium not found') ? `${msg}; no ${what} written` : `${what} rendering failed: ${msg}`,
    };
  }
}
