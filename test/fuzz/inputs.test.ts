/**
 * Fuzzed inputs (issue 16): random mutations of valid model files, spec files and data CSVs (wrong
 * types, NaN / ±Infinity, missing and extra fields, huge numbers, wrong dimensions, empty files, binary
 * garbage) and of CLI flags. Each input is either accepted (and then valid) or rejected with ONE line
 * that names the field (or the line and column) — never a stack trace, a TypeError from inside, or a
 * half-written output file. The library parsers take thousands of inputs in-process; the CLI a few
 * hundred invocations through runCli (the function behind the `gmoe` binary).
 * FUZZ_RUNS scales every property (default 1). Seeds are fixed: a failure reproduces.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { presetSpec } from '../../src/experiments/presets.js';
import { loadSpecFile, validateSpec } from '../../src/experiments/spec.js';
import { parseDatasetCsv } from '../../src/models/dataset-io.js';
import { modelToJSON, parseModel, readModelFile } from '../../src/models/io.js';
import { truthPreset } from '../../src/models/presets.js';
import { ValidationError } from '../../src/models/validate.js';
import { StoreError } from '../../src/experiments/store.js';
import { tempDir } from '../helpers/temp-dir.js';

const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const tried: Record<string, number> = {};
const count = (what: string) => (tried[what] = (tried[what] ?? 0) + 1);
let rejected = 0; // each one checked by expectNamedRejection (or the CLI checks): a bad one fails its test
afterAll(() => {
  const total = Object.values(tried).reduce((a, b) => a + b, 0);
  console.log(
    `fuzz: ${total} inputs tried (${Object.entries(tried)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )}); ${rejected} rejected, each with one line naming the field, line/column or flag; ${total - rejected} accepted`,
  );
});

// ---- mutations of a JSON value --------------------------------------------------------------

type Path = (string | number)[];

/** Every path into a JSON value (objects and arrays), the root included. */
function paths(v: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

const NASTY: unknown[] = [
  NaN,
  Infinity,
  -Infinity,
  1e308,
  -1e308,
  1e-320,
  0,
  -0,
  -1,
  2 ** 53 + 1,
  0.5,
  '',
  'abc',
  '1',
  true,
  null,
  [],
  {},
  [1, 2, 3],
  { a: 1 },
  'softmax',
  '\u0000\uFFFF',
];

type Mutation =
  | { kind: 'set'; path: Path; value: unknown }
  | { kind: 'delete'; path: Path }
  | { kind: 'extra'; path: Path; key: string }
  | { kind: 'grow' | 'shrink'; path: Path };

function mutationArb(base: unknown): fc.Arbitrary<Mutation> {
  const all = paths(base);
  const path = fc.constantFrom(...all);
  const containers = all.filter((p) => typeof get(base, p) === 'object' && get(base, p) !== null);
  const arrays = all.filter((p) => Array.isArray(get(base, p)));
  return fc.oneof(
    fc.record({
      kind: fc.constant('set' as const),
      path,
      value: fc.oneof(fc.constantFrom(...NASTY), fc.double(), fc.integer(), fc.string({ maxLength: 8 })),
    }),
    fc.record({ kind: fc.constant('delete' as const), path }),
    fc.record({
      kind: fc.constant('extra' as const),
      path: fc.constantFrom(...containers),
      key: fc.constantFrom('extra', 'K', 'typo', '__proto__', 'constructor'),
    }),
    fc.record({ kind: fc.constantFrom('grow' as const, 'shrink' as const), path: fc.constantFrom(...arrays) }),
  );
}

function get(v: unknown, p: Path): unknown {
  return p.reduce<unknown>((o, k) => (o as Record<string | number, unknown> | undefined)?.[k], v);
}

function mutate(base: unknown, muts: Mutation[]): unknown {
  let root = structuredClone(base);
  for (const m of muts) {
    const parent = m.path.length ? get(root, m.path.slice(0, -1)) : undefined;
    const key = m.path.at(-1);
    const target = get(root, m.path);
    if (m.kind === 'set') {
      if (m.path.length === 0) root = m.value;
      else if (parent && typeof parent === 'object') (parent as Record<string | number, unknown>)[key!] = m.value;
    } else if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else if (parent && typeof parent === 'object') delete (parent as Record<string, unknown>)[key as string];
    } else if (m.kind === 'extra') {
      if (target && typeof target === 'object' && !Array.isArray(target))
        Object.defineProperty(target, m.key, { value: 1, enumerable: true, configurable: true, writable: true });
    } else if (Array.isArray(target)) {
      if (m.kind === 'grow') target.push(target.length ? structuredClone(target[target.length - 1]) : 1);
      else target.pop();
    }
  }
  return root;
}

// ---- what an acceptable rejection looks like ------------------------------------------------

const INTERNAL =
  /\b(TypeError|RangeError|ReferenceError|undefined is not|cannot read propert|is not a function|is not iterable)\b|^\s+at /im;

/** A rejection: a known error class, one line, no internals, naming a field (or line and column). */
function expectNamedRejection(e: unknown, input: string): void {
  rejected++;
  if (!(e instanceof ValidationError || e instanceof StoreError))
    throw new Error(
      `not a ValidationError: ${String(e)} (${e instanceof Error ? e.constructor.name : typeof e}) for ${input}`,
    );
  const msg = e.message;
  if (msg.includes('\n')) throw new Error(`message of several lines: ${JSON.stringify(msg)} for ${input}`);
  if (INTERNAL.test(msg)) throw new Error(`internal error leaked: ${msg} for ${input}`);
  if (msg.length > 600) throw new Error(`message too long (${msg.length}) for ${input}`);
  // a field path ("experts.nu[1]", "models[0].k"), a line/column or a position in the text
  const named =
    /([A-Za-z_][\w|=]*(\[\d+\]|\["[^"]*"\]|\.[A-Za-z_][\w|=]*)*\s+(must|is|has|needs|cannot|should|are|does)|\bline \d+|\bposition \d+|\bcolumn\b|^[\w./-]+: |Unrecognized key|Unknown key|unknown key)/.test(
      msg,
    );
  if (!named) throw new Error(`message names no field: ${msg} for ${input}`);
}

const show = (v: unknown) => {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x)).slice(0, 300);
  } catch {
    return String(v);
  }
};

// ---- models ---------------------------------------------------------------------------------

const MODELS = ['demy', 'topk1', 'temp', 'temp-tanh', 'd2', 'k3'].map((p) => modelToJSON(truthPreset(p)));

describe('fuzz: model files', () => {
  it('mutated model JSON: valid, or a ValidationError of one line naming the field', () => {
    for (const base of MODELS) {
      fc.assert(
        fc.property(fc.array(mutationArb(base), { minLength: 1, maxLength: 3 }), (muts) => {
          count('model objects');
          const input = mutate(base, muts);
          let model;
          try {
            model = parseModel(input);
          } catch (e) {
            expectNamedRejection(e, show(input));
            return;
          }
          // accepted: then every parameter is finite
          const flat = JSON.stringify(modelToJSON(model), (_k, x) =>
            typeof x === 'number' && !Number.isFinite(x) ? 'NONFINITE' : x,
          );
          if (flat.includes('NONFINITE')) throw new Error(`accepted a model with a non-finite number: ${show(input)}`);
        }),
        { numRuns: runs(400), seed: 16 },
      );
    }
  });

  it('model file text (truncated, garbage bytes, empty, NaN literals): a one-line error naming the file', () => {
    const dir = tempDir('fuzz');
    const text = JSON.stringify(MODELS[0], null, 2);
    fc.assert(
      fc.property(textMutation(text), (t) => {
        count('model files');
        const path = join(dir, 'model.json');
        writeFileSync(path, t);
        try {
          readModelFile(path);
        } catch (e) {
          expectNamedRejection(e, JSON.stringify(t.slice(0, 200)));
          expect((e as Error).message.startsWith(path)).toBe(true);
        }
      }),
      { numRuns: runs(500), seed: 17 },
    );
  });
});

/** Text mutations: truncation, a garbage byte run, NaN/Infinity literals, empty, BOM, binary. */
function textMutation(text: string): fc.Arbitrary<string | Buffer> {
  const at = fc.integer({ min: 0, max: text.length });
  return fc.oneof(
    at.map((i) => text.slice(0, i)),
    fc
      .tuple(at, fc.uint8Array({ minLength: 1, maxLength: 16 }))
      .map(([i, b]) => Buffer.concat([Buffer.from(text.slice(0, i)), Buffer.from(b), Buffer.from(text.slice(i))])),
    fc
      .tuple(at, fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', 'null', '"', '{', ']', ',', '\u0000'))
      .map(([i, s]) => text.slice(0, i) + s + text.slice(i)),
    fc.constantFrom('', ' ', '\n', '\uFEFF', 'null', '[]', '0', '"model"', '{}'),
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  ) as fc.Arbitrary<string | Buffer>;
}

// ---- specs ----------------------------------------------------------------------------------

const SPECS = (['demy-exact', 'topk-over', 'temp-exact'] as const).map(
  (p) => JSON.parse(JSON.stringify(presetSpec(p, { quick: true }))) as unknown,
);

describe('fuzz: spec files', () => {
  it('mutated spec JSON: valid, or a ValidationError of one line naming the field', () => {
    for (const base of SPECS) {
      fc.assert(
        fc.property(fc.array(mutationArb(base), { minLength: 1, maxLength: 3 }), (muts) => {
          count('spec objects');
          const input = mutate(base, muts);
          try {
            validateSpec(input);
          } catch (e) {
            expectNamedRejection(e, show(input));
          }
        }),
        { numRuns: runs(400), seed: 18 },
      );
    }
  });

  it('spec file text: a one-line error naming the file', () => {
    const dir = tempDir('fuzz');
    const text = JSON.stringify(SPECS[0], null, 2);
    fc.assert(
      fc.property(textMutation(text), (t) => {
        count('spec files');
        const path = join(dir, 'spec.json');
        writeFileSync(path, t);
        try {
          loadSpecFile(path);
        } catch (e) {
          expectNamedRejection(e, JSON.stringify(t.slice(0, 200)));
          expect((e as Error).message).toContain(path);
        }
      }),
      { numRuns: runs(500), seed: 19 },
    );
  });
});

// ---- data CSVs ------------------------------------------------------------------------------

const CSV_ROWS = ['x1,y', '0.1,1.5', '0.2,-0.25', '0.3,2', '0.4,0.125', '0.5,3.5', '0.6,1e-3'];
const BAD_CELLS = [
  '',
  'NaN',
  'nan',
  'Inf',
  '-Infinity',
  '1e999',
  '-1e999',
  'abc',
  '0x1F',
  '1,5',
  '"1"',
  '"',
  ' ',
  '1 2',
  '١',
  '\u0000',
  'NA',
  '--1',
  '1e',
  '.',
  'true',
];

describe('fuzz: data CSVs', () => {
  it('mutated CSV (bad cells, ragged rows, extra columns, garbage, empty): parsed finite, or one line naming line and column', () => {
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant('cell' as const),
        row: fc.integer({ min: 0, max: CSV_ROWS.length - 1 }),
        col: fc.integer({ min: 0, max: 1 }),
        value: fc.oneof(fc.constantFrom(...BAD_CELLS), fc.string({ maxLength: 6 })),
      }),
      fc.record({
        kind: fc.constantFrom('drop' as const, 'extra' as const),
        row: fc.integer({ min: 0, max: CSV_ROWS.length - 1 }),
      }),
      fc.record({
        kind: fc.constant('garbage' as const),
        at: fc.nat(),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), (muts, named) => {
        count('CSVs');
        const rows = CSV_ROWS.map((r) => r.split(','));
        let text: string;
        for (const m of muts) {
          if (m.kind === 'cell') rows[m.row]![m.col] = m.value;
          else if (m.kind === 'drop') rows[m.row]!.pop();
          else if (m.kind === 'extra') rows[m.row]!.push('7');
        }
        text = rows.map((r) => r.join(',')).join('\n') + '\n';
        for (const m of muts) {
          if (m.kind === 'garbage') {
            const i = m.at % (text.length + 1);
            text = text.slice(0, i) + Buffer.from(m.bytes).toString('latin1') + text.slice(i);
          } else if (m.kind === 'truncate') text = text.slice(0, m.at % (text.length + 1));
        }
        try {
          const d = parseDatasetCsv(text, 'data.csv', named ? { y: 'y' } : {});
          for (const v of [...d.X, ...d.y])
            if (!Number.isFinite(v)) throw new Error(`accepted a non-finite value: ${JSON.stringify(text)}`);
        } catch (e) {
          expectNamedRejection(e, JSON.stringify(text));
          expect((e as Error).message.startsWith('data.csv')).toBe(true);
        }
      }),
      { numRuns: runs(1500), seed: 20 },
    );
  });
});

// ---- CLI flags ------------------------------------------------------------------------------

const FLAG_VALUES = [
  '',
  'NaN',
  'Infinity',
  '-Infinity',
  '-1',
  '0',
  '1e400',
  '1e9',
  '99999999999999999999',
  '2.5',
  '0x10',
  'abc',
  '\u0000',
  '１',
  '-',
  '--',
  '1 2',
  'none',
  'D3',
  'topk:0',
  'topk:9',
  'activation:cube',
  'near-truth:nope',
  'softmax',
];

/** Captures what the in-process CLI writes (it writes to process.stdout / process.stderr). */
async function cli(args: string[]): Promise<{ code: number | undefined; stdout: string; stderr: string }> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let stdout = '';
  let stderr = '';
  process.stdout.write = ((c: string | Uint8Array) => ((stdout += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((stderr += String(c)), true)) as typeof process.stderr.write;
  const exitBefore = process.exitCode;
  try {
    const code = await runCli(args);
    return { code: code ?? (process.exitCode as number | undefined), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = exitBefore;
  }
}

describe('fuzz: CLI flags', () => {
  const root = tempDir('fuzz-cli');
  const data = join(root, 'data.csv');
  // 40 rows: enough for k = 2 (8 free parameters); two clear regimes in x
  writeFileSync(
    data,
    `x1,y\n${Array.from({ length: 40 }, (_, i) => `${(i / 40).toFixed(3)},${(i < 20 ? 1 + (i % 3) * 0.1 : -2 + (i % 5) * 0.1).toFixed(2)}`).join('\n')}\n`,
  );
  const model = join(root, 'model.json');
  writeFileSync(model, JSON.stringify(MODELS[0]));
  // cheap commands, each with a valid base; one or two flags get a hostile value
  const bases: { name: string; args: string[]; flags: Record<string, string>; out?: string }[] = [
    {
      name: 'simulate',
      args: ['simulate'],
      flags: { '--truth': 'demy', '--n': '20', '--seed': '3', '--design': 'uniform' },
      out: '--out',
    },
    {
      name: 'fit',
      args: ['fit'],
      flags: {
        '--data': data,
        '--k': '2',
        '--gate': 'softmax',
        '--max-iter': '3',
        '--seed': '1',
        '--restarts': '1',
        '--tol': '1e-6',
        '--init': 'kmeans',
      },
      out: '--out',
    },
    {
      name: 'predict',
      args: ['predict'],
      flags: { '--model': model, '--data': data, '--x': 'x1', '--y': 'y' },
      out: '--out',
    },
    {
      name: 'loss',
      args: ['loss'],
      flags: { '--fit': model, '--truth': 'demy', '--loss': 'auto', '--hellinger-n': '50' },
    },
    {
      name: 'sweep',
      args: ['sweep', new URL('../slurm/fixtures/demy-small.json', import.meta.url).pathname, '--no-png'],
      flags: { '--reps': '1', '--workers': '1', '--shard': '1/2', '--seed': '2' },
      out: '--out',
    },
  ];

  it('hostile flag values: exit 0, or exit 2 with one line naming the flag, no stack trace, no partial output', async () => {
    let invocations = 0;
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...bases),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...FLAG_VALUES)), { minLength: 1, maxLength: 2 }),
        async (base, picks) => {
          const flags = { ...base.flags };
          const names = Object.keys(flags);
          const changed: string[] = [];
          for (const [i, v] of picks) {
            const f = names[i % names.length]!;
            flags[f] = v;
            changed.push(f);
          }
          const outDir = join(root, `out-${++invocations}`);
          mkdirSync(outDir);
          const args = [...base.args, ...Object.entries(flags).flat()];
          if (base.out) args.push(base.out, join(outDir, base.name === 'sweep' ? 'run' : 'file.out'));
          count('CLI invocations');
          const r = await cli(args);
          const input = `gmoe ${args.join(' ')}`;
          const lines = r.stderr.split('\n').filter((l) => l !== '' && l !== '(add --help for usage)');
          if (r.code === undefined || r.code === 0) return; // accepted (a valid value)
          rejected++;
          if (r.code !== 2) failures.push(`exit ${r.code}: ${input}\n  ${r.stderr.trim()}`);
          else if (lines.length !== 1) failures.push(`${lines.length} lines: ${input}\n  ${r.stderr.trim()}`);
          else if (INTERNAL.test(r.stderr)) failures.push(`internal error: ${input}\n  ${r.stderr.trim()}`);
          else if (!changed.some((f) => lines[0]!.includes(f) || lines[0]!.includes(f.replace(/^--/, ''))))
            failures.push(`names none of ${changed.join(', ')}: ${input}\n  ${lines[0]}`);
          const left = readdirSync(outDir);
          if (left.length > 0) failures.push(`left ${left.join(', ')} behind: ${input}`);
          rmSync(outDir, { recursive: true, force: true });
        },
      ),
      { numRuns: runs(300), seed: 21 },
    );
    expect(failures.slice(0, 10)).toEqual([]);
  });
});
