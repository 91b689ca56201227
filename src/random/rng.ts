/**
 * Seeded random number generation. Every random draw in gmoe comes from an {@link Rng};
 * nothing in src calls Math.random.
 *
 * The uniform stream is MT19937 (@stdlib/random-base-mt19937, 53-bit doubles from two
 * 32-bit words); normals use stdlib's improved ziggurat fed by that same stream, so one
 * seed determines every number and the stream is identical on every machine.
 */
import mt19937 from '@stdlib/random-base-mt19937';
import normalFactory from '@stdlib/random-base-normal';
import { ValidationError } from '../models/validation-error.js';

export interface Rng {
  /** The seed the generator was created with (uint32, ≥ 1). */
  readonly seed: number;
  /** Uniform double in [0, 1). */
  uniform(): number;
  /** Standard normal N(0, 1). */
  normal(): number;
  /** Uniform integer in [0, m). */
  int(m: number): number;
}

/** Largest seed accepted (MT19937 takes a uint32). */
export const MAX_SEED = 4294967295;

/**
 * Checks a user-supplied seed: an integer in [1, 2^32 − 1].
 * @throws Error naming `field` when the seed is not such an integer.
 */
export function checkSeed(seed: unknown, field = 'seed'): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 1 || seed > MAX_SEED) {
    throw new ValidationError(`${field} must be an integer in [1, ${MAX_SEED}]. Value: ${String(seed)}`, field, seed);
  }
  return seed;
}

/**
 * Creates a seeded generator.
 * @param seed integer in [1, 2^32 − 1]
 * @example
 * const r = createRng(7); r.normal(); // same value on every machine
 */
export function createRng(seed: number): Rng {
  checkSeed(seed);
  const base = mt19937.factory({ seed }) as unknown as { normalized: () => number };
  const u: () => number = base.normalized; // [0,1) with 53-bit resolution
  const nrm = normalFactory.factory(0, 1, { prng: u as never }) as () => number;
  return {
    seed,
    uniform: () => u(),
    normal: () => nrm(),
    int: (m: number) => Math.floor(u() * m),
  };
}
