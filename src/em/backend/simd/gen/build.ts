/**
 * Renders src/em/backend/simd/module.ts, the committed build of the SIMD kernels: the module's
 * WebAssembly text (kernels.ts) → binary (wabt) → base64, with the SHA-256 of that text (which
 * every generator source, constant and table feeds) and the `KernelExports` type read off the
 * text's exported function signatures. Run by `npm run build:wasm` (scripts/build-wasm.ts);
 * test/em/wasm-build.test.ts checks that the committed file is this function's output.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { moduleBase64 } from './compile.js';
import { moduleText } from './kernels.js';

/** Where the generated module lives. */
export const MODULE_PATH = fileURLToPath(new URL('../module.ts', import.meta.url));

/** SHA-256 (hex) of the module's WebAssembly text. */
export function sourceHash(text: string = moduleText()): string {
  return createHash('sha256').update(text).digest('hex');
}

/** One-line descriptions of the exports, by name prefix (the generators document the details). */
const DOCS: [RegExp, string][] = [
  [
    /^acthess\d*_/,
    'activation / temperature gate exact-Hessian sums, k ≤ 8, d ≤ 4, or d = 1, k = 2 / 3 unrolled (_h<u>_…: without the sums of held gate slots u) (par at GPAR: 1/τ, inside, outside, β0, β1, a, b, c, 1/ν); per-lane sums at GACC (packed upper triangle, gradient, L)',
  ],
  [
    /^densegradg_/,
    'activation gate gradient / Fisher / exact-Hessian sums, any k and d (par at GPAR: β1, 1/τ); per-lane sums at GACC',
  ],
  [
    /^estepg/,
    'E-step, any k and d (par at GPAR: a, b, c, h; acc: Q, Σ shift, product); returns the pair it stopped at',
  ],
  [
    /^softmaxllg/,
    "softmax gate's observed log-likelihood in one pass, any k and d (_d<d>: specialised to d, the loops over d unrolled) (par at GPAR: β0, β1, a, b, c, h; acc: as loglik); returns the pair it stopped at",
  ],
  [
    /^softmaxll/,
    "softmax gate's observed log-likelihood in one pass, d = 1 (par: β0, β1, a, b, c, h; acc: as loglik); returns the pair it stopped at",
  ],
  [/^loglikg/, 'observed log-likelihood, any k and d (par: as estepg); returns the pair it stopped at'],
  [
    /^gateg/,
    'softmax gate, any k and d (par at GPAR: β0, β1); Q into acc when withQ ≠ 0; returns the pair it stopped at',
  ],
  [
    /^gatemg/,
    'gate rows with a top-K mask or given logits, any k and d (par at GPAR: β0, β1 when linear); Q into acc when withQ ≠ 0; returns the pair it stopped at',
  ],
  [
    /^dense\w+g$/,
    'activation gate, d = 1, any k (par at GPAR: β0, β1, 1/τ); Q into acc when withQ ≠ 0; returns the pair it stopped at',
  ],
  [/^momentsg/, "experts' shifted moments, any k and d (par at GPAR: shifts); per-lane sums at GACC"],
  [
    /^hessg/,
    "softmax gate Hessian moment sums, k ≤ 8, d ≤ 4 (hessg<d>: the loops over d unrolled; _noref: without the reference expert's gate sums) (par at GPAR: β0, β1, a, b, c, h, 1/ν; blocks' addresses as arguments); per-lane sums at GACC",
  ],
  [
    /^hess1k/,
    "softmax gate Hessian moment sums, d = 1, k = 2 / 3 unrolled (_noref: without the reference expert's gate sums) (par at GPAR: β0, β1, a, b, c, h, 1/ν); per-lane sums at GACC (hessSumsLayout(k, 1))",
  ],
  [/^gradcurvg/, 'linear gate gradient / curvature sums, any k and d (free experts at GPAR); per-lane sums at GACC'],
  [
    /^estep/,
    'E-step over row pairs [start, end) (par: a, b, c, h; acc: Q, Σ shift, product); returns the pair it stopped at',
  ],
  [/^loglik/, 'observed log-likelihood over row pairs [start, end) (par: as estep); returns the pair it stopped at'],
  [
    /^gate\d/,
    'softmax gate over row pairs [start, end) (par: β0, β1); Q into acc when withQ ≠ 0; returns the pair it stopped at',
  ],
  [
    /^topkll/,
    'top-K gate (active set computed) and the observed log-likelihood in one pass, d = 1, k = 3, K = 1 or 2 (par: a, b, c, h, β0, β1; acc: as loglik; log π, π and the mask written when write ≠ 0); returns the pair it stopped at (+2^30 where topk3 would have)',
  ],
  [
    /^topk/,
    'top-K gate over row pairs [start, end) (mask written when compute ≠ 0); Q into acc when withQ ≠ 0; returns the pair it stopped at',
  ],
  [
    /^dense(identity|tanh|sigmoid)/,
    'activation (dense-to-sparse) gate over row pairs [start, end) (par: β0, β1, 1/τ); Q into acc when withQ ≠ 0; returns the pair it stopped at',
  ],
  [
    /^moments/,
    "experts' shifted moments over row pairs [start, end) (par: shifts); the sums (lane 0 + lane 1) into acc",
  ],
  [/^gradcurv/, 'softmax gate gradient / curvature sums for the free experts of the suffix; the sums into acc'],
  [/^densegrad/, 'activation gate gradient / curvature / Hessian sums (par: β1, 1/τ); the 30 sums into acc'],
];

const TS_TYPE: Record<string, string> = { i32: 'number', i64: 'bigint', f64: 'number' };

/** The TypeScript interface of the module's exports, read off its text. */
export function exportsType(text: string): string {
  const out: string[] = [];
  const re = /^\(func \$\w+ \(export "(\w+)"\)((?: \(param \$\w+ \w+\))*)(?: \(result (\w+)\))?/gm;
  for (const m of text.matchAll(re)) {
    const [, name, params, result] = m as unknown as [string, string, string, string | undefined];
    const args = [...params.matchAll(/\(param \$(\w+) (\w+)\)/g)].map(
      ([, p, t]) => `${p}: ${TS_TYPE[t!] ?? 'unknown'}`,
    );
    const doc = DOCS.find(([r]) => r.test(name))?.[1];
    if (doc !== undefined) out.push(`  /** ${doc} */`);
    out.push(`  ${name}(${args.join(', ')}): ${result === undefined ? 'void' : (TS_TYPE[result] ?? 'unknown')};`);
  }
  if (out.length === 0) throw new Error('build:wasm: no exported function found in the module text');
  return `export interface KernelExports {\n${out.join('\n')}\n}`;
}

/** The text of src/em/backend/simd/module.ts for the current sources. */
export async function renderModule(): Promise<string> {
  const text = moduleText();
  const b64 = await moduleBase64();
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 100) lines.push(`  '${b64.slice(i, i + 100)}'`);
  return `/**
 * GENERATED by \`npm run build:wasm\` (src/em/backend/simd/gen/build.ts) — do not edit. The CPU
 * backend's WebAssembly SIMD kernels (see src/em/backend/simd/arena.ts), base64, with the SHA-256
 * of the WebAssembly text they were built from (test/em/wasm-build.test.ts checks it).
 */
export const KERNELS_SOURCE_HASH = '${sourceHash(text)}';

/** The module's exports: pointers are byte offsets into the arena's memory. */
${exportsType(text)}

// an array joined, not a chain of + (a chain this long overflowed the parser's stack in vitest)
export const KERNELS_WASM_BASE64 = [
${lines.join(',\n')},
].join('');
`;
}
