/**
 * JSON.parse's complaint as one line naming the line and column. V8 quotes the text around the
 * error (newlines and control bytes included) and gives a character position; a user wants
 * `line 3, column 7` and a message that fits on one line.
 */

/** 1-based line and column of a character offset in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: Math.min(offset, text.length) - start + 1 };
}

/**
 * Where JSON.parse failed: V8's "at position N", the end of the text for "Unexpected end", else
 * the first offset whose prefix cannot be completed (found by bisection on parse errors).
 */
function errorOffset(text: string, message: string): number | undefined {
  const pos = /at position (\d+)/.exec(message);
  if (pos) return Number(pos[1]);
  if (/end of JSON input/i.test(message)) return text.length;
  const tok = /^Unexpected token '(.)'/u.exec(message) ?? /^Unexpected non-whitespace character/.exec(message);
  if (!tok) return undefined;
  // a prefix that only "ends too early" is good so far: the error lies at the first prefix length
  // whose failure is something else
  const bad = (n: number) => {
    try {
      JSON.parse(text.slice(0, n));
      return false;
    } catch (e) {
      return (
        !/end of JSON input|Unterminated string|after property name|after property value|after array element|Expected property name|Expected double-quoted property name in JSON at position \d+ \(line \d+ column \d+\)$/i.test(
          (e as Error).message,
        ) || /Unexpected token/.test((e as Error).message)
      );
    }
  };
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bad(mid + 1)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** `line 3, column 7: Unexpected token '\u0000'` — one line, control characters escaped. */
export function describeJsonError(text: string, e: unknown): string {
  const raw = e instanceof Error ? e.message : String(e);
  const offset = errorOffset(text, raw);
  const msg = raw
    .replace(/, "[\s\S]*" is not valid JSON$/, '') // V8's quote of the surrounding text
    .replace(/ in JSON at position \d+( \(line \d+ column \d+\))?/, '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (offset === undefined) return msg;
  const { line, column } = lineColumn(text, offset);
  return `line ${line}, column ${column}: ${msg}`;
}
