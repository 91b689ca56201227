/**
 * `npm run check:length`: no function in src/ may exceed MAX_LINES lines (issue 14: small modules
 * with one job each). Every function-like node counts — declarations, methods, arrow functions and
 * function expressions, nested ones included, so a factory's closures count towards the factory
 * (from its first line to its last, comments inside included). The generated WebAssembly module is
 * exempt; ALLOWED lists the few functions allowed past the limit, each with why.
 * Usage: tsx tools/check-length/main.ts [--max N] [dir...]; exit 1 with one line per offender.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export const MAX_LINES = 150;
/** Generated code, not written by hand. */
const EXEMPT_FILES = new Set(['src/em/backend/simd/module.ts']);
/** `file:function` → why it may be longer (keep this to a handful). */
export const ALLOWED: Record<string, string> = {
  // one EM run's state machine: plain EM, SQUAREM and the hybrid trust-region phases share its
  // closures (iteration, trace, stop reason, the E-step cache); splitting it into a class is due
  // once the hybrid optimizer (issue 15, landed 2026-12-04) settles
  'src/em/fit.ts:runEM': 'EM run state machine shared by EM, SQUAREM and the hybrid phases',
};

export interface LongFunction {
  file: string;
  name: string;
  line: number;
  lines: number;
}

function nameOf(node: ts.Node, sf: ts.SourceFile): string {
  const named = node as ts.FunctionLikeDeclaration;
  if (named.name) return named.name.getText(sf);
  // an arrow or function expression: the variable, property or call it is assigned to
  const p = node.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)))
    return p.name.getText(sf);
  if (p && ts.isCallExpression(p)) return `(argument of ${p.expression.getText(sf).slice(0, 40)})`;
  return '(anonymous)';
}

/** The functions of one source text longer than `max` lines. */
export function longFunctions(file: string, text: string, max: number): LongFunction[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > max) out.push({ file, name: nameOf(node, sf), line: start + 1, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (e.endsWith('.ts') && !e.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Offenders under `dirs` (paths relative to `root`), the allow-list and exempt files left out. */
export function checkLengths(root: string, dirs: string[], max = MAX_LINES): LongFunction[] {
  const out: LongFunction[] = [];
  for (const d of dirs)
    for (const p of tsFiles(join(root, d))) {
      const file = relative(root, p).split('\\').join('/');
      if (EXEMPT_FILES.has(file)) continue;
      for (const f of longFunctions(file, readFileSync(p, 'utf8'), max))
        if (!(`${f.file}:${f.name}` in ALLOWED)) out.push(f);
    }
  return out;
}

function main(argv: string[]): number {
  let max = MAX_LINES;
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--max') {
      max = Number(argv[++i]);
      if (!Number.isInteger(max) || max < 1) {
        process.stderr.write(`check-length: --max must be an integer ≥ 1. Value: ${argv[i]}\n`);
        return 2;
      }
    } else dirs.push(argv[i]!);
  }
  const bad = checkLengths(process.cwd(), dirs.length ? dirs : ['src'], max);
  for (const f of bad) process.stdout.write(`${f.file}:${f.line} ${f.name}: ${f.lines} lines (limit ${max})\n`);
  process.stdout.write(
    bad.length
      ? `check-length: ${bad.length} function(s) over ${max} lines\n`
      : `check-length: no function over ${max} lines\n`,
  );
  return bad.length ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(main(process.argv.slice(2)));
