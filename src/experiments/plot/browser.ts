/**
 * Which headless Chromium renders PNGs: Debian's /usr/bin/chromium where it exists (first choice),
 * else the Chromium shipped inside the npm package @sparticuz/chromium (an optional dependency, so a
 * machine where only `npm ci` ran has one: nothing is downloaded). The package holds the browser and
 * the few libraries and fonts it needs as Brotli files; they are unpacked once per version and user
 * into the temporary directory (≈ 5–10 s, then reused) through a private directory renamed into place,
 * so concurrent processes never run a half-written browser.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { brotliDecompressSync, createBrotliDecompress } from 'node:zlib';

/** Debian's Chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Set (to anything but "" or "0") to ignore /usr/bin/chromium, e.g. to test the bundled browser. */
export const HIDE_SYSTEM_CHROMIUM_ENV = 'GMOE_HIDE_SYSTEM_CHROMIUM';

/** A browser to launch: the binary, and environment variables it needs (bundled: libraries, fonts). */
export interface BrowserChoice {
  executablePath: string;
  source: 'system' | 'bundled' | 'given';
  env?: Record<string, string>;
}

const hidden = (): boolean => {
  const v = process.env[HIDE_SYSTEM_CHROMIUM_ENV];
  return v !== undefined && v !== '' && v !== '0';
};

/** The bin/ folder and version of @sparticuz/chromium, or undefined when it is not installed. */
function bundledPackage(): { bin: string; version: string } | undefined {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('@sparticuz/chromium');
  } catch {
    return undefined;
  }
  const root = join(dirname(entry), '..', '..');
  const bin = join(root, 'bin');
  if (!existsSync(join(bin, 'chromium.br'))) return undefined;
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  return { bin, version };
}

async function unbrotli(src: string, dest: string): Promise<void> {
  await pipeline(
    createReadStream(src),
    createBrotliDecompress({ chunkSize: 1 << 21 }),
    createWriteStream(dest, { mode: 0o700 }),
  );
}

/** Unpacks a .tar.br (a few MB) into `dir`: Brotli in Node, the tar archive by Debian's tar. */
function untarBrotli(src: string, dir: string): void {
  const r = spawnSync('tar', ['-x', '-f', '-', '-C', dir], {
    input: brotliDecompressSync(readFileSync(src)),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  if (r.error) throw new Error(`cannot run tar to unpack ${src}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`tar could not unpack ${src} (exit ${r.status}): ${String(r.stderr).trim()}`);
}

/** The unpacked bundled browser's directory (unpacking it the first time). */
async function unpackBundled(bin: string, version: string): Promise<string> {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  const dir = join(tmpdir(), `gmoe-bundled-chromium-${version}-${uid}`);
  if (existsSync(join(dir, 'chromium'))) return dir;
  const tmp = mkdtempSync(`${dir}.tmp-`);
  try {
    untarBrotli(join(bin, 'fonts.tar.br'), tmp);
    untarBrotli(join(bin, 'al2023.tar.br'), tmp);
    await unbrotli(join(bin, 'chromium.br'), join(tmp, 'chromium'));
    // the package's fonts (Open Sans), then the system's where there are any
    writeFileSync(
      join(tmp, 'fonts.conf'),
      [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
        '<fontconfig>',
        `  <dir>${join(dir, 'fonts')}</dir>`,
        '  <dir>/usr/share/fonts</dir>',
        `  <cachedir>${join(dir, 'fonts-cache')}</cachedir>`,
        '</fontconfig>',
        '',
      ].join('\n'),
    );
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // another process won the race: use its copy
      if (!existsSync(join(dir, 'chromium'))) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return dir;
}

/**
 * Chooses the browser: `executablePath` when given, else Debian's Chromium unless hidden by
 * GMOE_HIDE_SYSTEM_CHROMIUM, else the bundled one.
 * @throws Error saying what is missing and how to get it
 */
export async function chooseBrowser(executablePath?: string): Promise<BrowserChoice> {
  if (executablePath !== undefined) {
    if (!existsSync(executablePath)) throw new Error(`Chromium not found at ${executablePath}`);
    return { executablePath, source: 'given' };
  }
  if (!hidden() && existsSync(CHROMIUM_PATH)) return { executablePath: CHROMIUM_PATH, source: 'system' };
  const pkg = bundledPackage();
  if (!pkg) {
    const where = hidden() ? `${CHROMIUM_PATH} hidden by ${HIDE_SYSTEM_CHROMIUM_ENV}` : `not at ${CHROMIUM_PATH}`;
    throw new Error(
      `Chromium not found (${where}; the optional npm package @sparticuz/chromium is not installed: npm ci, or Debian: apt-get install chromium fonts-dejavu-core)`,
    );
  }
  const dir = await unpackBundled(pkg.bin, pkg.version);
  const libs = join(dir, 'lib');
  const ld = process.env.LD_LIBRARY_PATH;
  return {
    executablePath: join(dir, 'chromium'),
    source: 'bundled',
    env: {
      LD_LIBRARY_PATH: ld ? `${libs}:${ld}` : libs,
      FONTCONFIG_FILE: join(dir, 'fonts.conf'),
      FONTCONFIG_PATH: dir,
    },
  };
}
