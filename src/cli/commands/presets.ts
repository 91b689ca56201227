import type { Command } from 'commander';

/** `gmoe presets` — not implemented yet. */
export function register(_program: Command): void {}
