/**
 * Stable seed derivation: deriveSeed(master, ...parts) mixes integers with a
 * SplitMix-style 32-bit finaliser (Math.imul only), so a cell's seed depends on
 * (master, n, rep) alone — never on which worker, shard or order ran it.
 */

function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Derives a child seed in [1, 2^32 − 1] from a master seed and integer parts.
 * Non-integers are rejected so that 1e3 and 1000.0000001 never silently collide.
 * @example deriveSeed(1, 1000, 3) // seed of replication 3 at n = 1000
 */
export function deriveSeed(master: number, ...parts: number[]): number {
  // `>>> 0` read NaN, text and -1 as seeds 0 and 2^32 − 1: a mistake became a valid-looking seed
  if (!Number.isInteger(master) || master < 0 || master > 0xffffffff)
    throw new Error(`deriveSeed: master must be an integer in [0, 4294967295]. Value: ${master}`);
  let h = mix32((master >>> 0) ^ 0x9e3779b9);
  for (const p of [...parts]) {
    if (!Number.isInteger(p) || p < 0) throw new Error(`deriveSeed: parts must be non-negative integers. Value: ${p}`);
    // split into 32-bit halves so n up to 2^53 mixes fully
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = mix32((h ^ lo) + 0x9e3779b9);
    h = mix32((h ^ hi) + 0x85ebca6b);
  }
  return h === 0 ? 1 : h;
}
