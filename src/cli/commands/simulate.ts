import type { Command } from 'commander';

/** `gmoe simulate` — not implemented yet. */
export function register(_program: Command): void {}
