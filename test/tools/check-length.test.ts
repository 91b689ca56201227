import { describe, expect, it } from 'vitest';
import { longFunctions, MAX_LINES } from '../../tools/check-length/main.js';

/** A function of exactly `lines` lines, in the given syntax. */
function fn(lines: number, form: 'declaration' | 'arrow' | 'method'): string {
  const body = Array.from({ length: lines - 2 }, (_, i) => `  x += ${i};`).join('\n');
  if (form === 'declaration') return `function f() {\n${body}\n}\n`;
  if (form === 'arrow') return `const g = () => {\n${body}\n};\n`;
  return `class C {\n  m() {\n${body}\n  }\n}\n`;
}

describe('check-length', () => {
  it.each(['declaration', 'arrow', 'method'] as const)('flags a %s one line over the limit, not one at it', (form) => {
    expect(longFunctions('a.ts', fn(MAX_LINES, form), MAX_LINES)).toEqual([]);
    const bad = longFunctions('a.ts', fn(MAX_LINES + 1, form), MAX_LINES);
    expect(bad).toHaveLength(1);
    expect(bad[0]!.lines).toBe(MAX_LINES + 1);
    expect(bad[0]!.name).toBe(form === 'declaration' ? 'f' : form === 'arrow' ? 'g' : 'm');
  });

  it('counts a factory with its closures', () => {
    const inner = fn(100, 'declaration').replace('function f', 'function inner');
    const src = `export function outer() {\n${inner}${inner.replace('inner', 'inner2')}  return 1;\n}\n`;
    expect(longFunctions('a.ts', src, MAX_LINES).map((f) => f.name)).toEqual(['outer']);
  });
});
