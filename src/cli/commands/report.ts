import type { Command } from 'commander';

/** `gmoe report` — not implemented yet. */
export function register(_program: Command): void {}
