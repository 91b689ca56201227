// JSON text for files people read: model files, summaries, goldens.

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

/**
 * JSON text with objects indented and arrays of numbers (and arrays of such arrays) kept on one
 * line, so that a model file stays readable. Same values as JSON.stringify, except that −0 is
 * written as -0 (so a file round-trips bit for bit) and typed arrays as arrays.
 */
export function formatJSON(value: unknown, indent = 2): string {
  const primitive = (e: unknown) => e === null || typeof e !== 'object';
  // JSON.stringify writes −0 as 0; "-0" is valid JSON and parses back to −0
  const atom = (e: unknown): string => (Object.is(e, -0) ? '-0' : (JSON.stringify(e) ?? 'null'));
  // one line for arrays of numbers (or of rows of numbers) and for short objects of primitives
  const inline = (v: unknown): string | undefined => {
    if (Array.isArray(v) && v.every((e) => primitive(e) || (Array.isArray(e) && e.every(primitive)))) {
      return `[${v.map((e) => (Array.isArray(e) ? `[${e.map(atom).join(', ')}]` : atom(e))).join(', ')}]`;
    }
    if (isRecord(v) && Object.getPrototypeOf(v) === Object.prototype) {
      const entries = Object.entries(v).filter(([, e]) => e !== undefined && typeof e !== 'function');
      if (!entries.every(([, e]) => primitive(e))) return undefined;
      const s = `{ ${entries.map(([key, e]) => `${JSON.stringify(key)}: ${atom(e)}`).join(', ')} }`;
      return entries.length > 0 && s.length <= 72 ? s : undefined;
    }
    return undefined;
  };
  const walk = (v: unknown, pad: string): string => {
    if (v === null || typeof v !== 'object') return atom(v);
    const toJSON = (v as { toJSON?: () => unknown }).toJSON;
    if (typeof toJSON === 'function') return walk(toJSON.call(v), pad);
    if (ArrayBuffer.isView(v)) return walk(Array.from(v as unknown as ArrayLike<number>), pad);
    const one = inline(v);
    if (one !== undefined) return one;
    const inner = pad + ' '.repeat(indent);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[\n${v.map((e) => inner + walk(e === undefined ? null : e, inner)).join(',\n')}\n${pad}]`;
    }
    const entries = Object.entries(v).filter(([, e]) => e !== undefined && typeof e !== 'function');
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([key, e]) => `${inner}${JSON.stringify(key)}: ${walk(e, inner)}`).join(',\n')}\n${pad}}`;
  };
  return walk(value, '');
}
