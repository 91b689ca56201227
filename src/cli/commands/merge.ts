import type { Command } from 'commander';

/** `gmoe merge` — not implemented yet. */
export function register(_program: Command): void {}
