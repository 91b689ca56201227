/** Name-keyed registry of gate kinds. */
import type { Gate } from './gate.js';
import { softmaxGate } from './softmax.js';
import { topkGate } from './topk.js';
import { activationGate, temperatureGate } from './activation.js';
import type { GateKind, GateSpec } from '../types.js';

const registry = new Map<string, Gate>();

/** Registers a gate; registering a kind twice throws. */
export function registerGate(g: Gate): void {
  if (registry.has(g.kind)) throw new Error(`gate kind "${g.kind}" is already registered`);
  registry.set(g.kind, g);
}
registerGate(softmaxGate);
registerGate(topkGate);
registerGate(temperatureGate);
registerGate(activationGate);

/** The gate implementation for a kind or spec. @throws on an unknown kind, listing the known ones. */
export function getGate(kind: GateKind | GateSpec): Gate {
  const name = typeof kind === 'string' ? kind : kind.kind;
  const g = registry.get(name);
  if (!g) throw new Error(`gate.kind must be one of ${[...registry.keys()].join(', ')}. Value: ${String(name)}`);
  return g;
}

export type { Gate, GateSymmetries } from './gate.js';
export { logSoftmaxRows, slopeScores } from './gate.js';
export { topKMask, activeSet } from './topk.js';
