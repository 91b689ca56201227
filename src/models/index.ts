export * from './types.js';
export * from './density.js';
export * from './presets.js';
export * from './sample.js';
export { getGate, registerGate, activeSet, topKMask, logSoftmaxRows, slopeScores } from './gates/index.js';
export type { Gate, GateSymmetries } from './gates/index.js';
