/**
 * Which family each start of a fit comes from. A start depends only on (seed, r) and its family,
 * so the best of R starts is the same whatever order they run in.
 */
import { getGate } from '../../models/gates/index.js';
import type { GateSpec } from '../../models/types.js';
import type { InitOption, StartFamily } from '../types.js';

/**
 * The families the `auto` init cycles through, start r taking entry r mod length. A softmax fit
 * alternates k-means++ and random partitions; every other gate mostly starts from a fitted
 * softmax (the continuation of continuation.ts), with direct starts kept in the cycle in case the
 * softmax optimum is not the gate's (measured in docs/fitting.md).
 */
export function autoFamilies(gate: GateSpec): StartFamily[] {
  // the linear (softmax) gate is its own continuation
  if (getGate(gate).form === 'linear') return ['kmeans', 'random'];
  return ['softmax-kmeans', 'softmax-random', 'random', 'softmax-random', 'kmeans'];
}

/** The family of start r under an init option. */
export function startFamily(init: InitOption, r: number, gate: GateSpec): StartFamily {
  switch (init.kind) {
    case 'auto': {
      const f = autoFamilies(gate);
      return f[r % f.length]!;
    }
    case 'softmax-first': {
      const from = init.from ?? 'kmeans';
      return getGate(gate).form === 'linear' ? from : from === 'kmeans' ? 'softmax-kmeans' : 'softmax-random';
    }
    default:
      return init.kind;
  }
}

/** The init option that makes one start of `family` on its own (a prefit's subsample fit: fit.ts). */
export function familyInit(init: InitOption, family: StartFamily): InitOption {
  switch (family) {
    case 'softmax-kmeans':
      return { kind: 'softmax-first', from: 'kmeans' };
    case 'softmax-random':
      return { kind: 'softmax-first', from: 'random' };
    case 'kmeans':
    case 'random':
      return { kind: family };
    default:
      return init;
  }
}
