import type { Command } from 'commander';

/** `gmoe loss` — not implemented yet. */
export function register(_program: Command): void {}
