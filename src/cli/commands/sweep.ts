import type { Command } from 'commander';

/** `gmoe sweep` — not implemented yet. */
export function register(_program: Command): void {}
