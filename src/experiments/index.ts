// Public API of src/experiments.
export type * from './types.js';
