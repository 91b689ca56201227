/**
 * The driver loop shared by the row kernels: a kernel runs row pairs [p, pairs) and returns the index
 * of the first pair it refuses (a row that needs the JS kernel's guarded path), or `pairs` when done.
 */
import { wasmCalls } from './calls.js';

/** the most pairs one JS call takes after repeated refusals */
const MAX_CHUNK = 1024;

/**
 * Runs rows 0..n through `kernel` two at a time, handing refused pairs and, when n is odd, the last row
 * to `js(row0, rows)`. Runs of refused pairs go to JS in growing chunks (1, 2, 4, … up to 1024 pairs),
 * not pair by pair: the chunks depend on the inputs only, and JS rows give the same bits in any chunk.
 * @param kernel runs pairs [p, pairs); returns the first refused pair, or ≥ pairs when done
 * @param js runs rows [row0, row0 + rows) in JS; returns their share of the call's sum (0 if none)
 * @returns the JS rows' sum, added chunk by chunk in row order, the odd last row last
 */
export function runPairs(
  n: number,
  kernel: (p: number, pairs: number) => number,
  js: (row0: number, rows: number) => number,
): number {
  const pairs = n >> 1;
  let sum = 0;
  let p = 0;
  let resumed = -1;
  let chunk = 1;
  for (;;) {
    p = kernel(p, pairs);
    if (p >= pairs) break;
    chunk = p === resumed ? Math.min(2 * chunk, MAX_CHUNK) : 1;
    const len = Math.min(chunk, pairs - p);
    wasmCalls.refusedPairs += len;
    sum += js(2 * p, 2 * len);
    p += len;
    resumed = p;
  }
  if (n & 1) sum += js(n - 1, 1);
  return sum;
}
