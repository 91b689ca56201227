import type { Command } from 'commander';

/** `gmoe fit` — not implemented yet. */
export function register(_program: Command): void {}
