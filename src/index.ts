/**
 * gmoe — statistical estimation in Gaussian mixture-of-experts models.
 * The public API: notebooks, scripts and the CLI import from here.
 */
export * from './models/index.js';
export { formatJSON, writeFileAtomic } from './io/index.js';
export { createRng, checkSeed, type Rng } from './random/rng.js';
export { deriveSeed } from './random/seed.js';
export { logsumexp } from './math/logsumexp.js';
export { ksUniform, kolmogorovSurvival, type KsResult } from './math/kolmogorov.js';
export { ACTIVATIONS, activate, activateDeriv, type Activation } from './math/activations.js';
export * from './em/index.js';
export * from './voronoi/index.js';
export * from './experiments/index.js';
