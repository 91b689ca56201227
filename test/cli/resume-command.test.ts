/** The line `gmoe sweep` prints when interrupted: it must continue the same sweep, the same way. */
import { describe, expect, it } from 'vitest';
import { resumeCommand, savedCells } from '../../src/cli/commands/sweep.js';

describe('resumeCommand', () => {
  it('keeps every option that shapes the cells or the run (workers, --no-png), then --out and --resume', () => {
    const line = resumeCommand(
      'demy-exact',
      { quick: true, workers: '1', png: false, reps: '40', seed: '3', shard: '2/8', optimizer: 'hybrid', reuse: ['a'] },
      'runs/int',
    );
    expect(line).toBe(
      'gmoe sweep demy-exact --quick --reps 40 --seed 3 --optimizer hybrid --shard 2/8 --workers 1 --no-png --out runs/int --resume',
    );
    expect(resumeCommand('demy-exact', { png: true, reuse: [] }, 'r')).toBe('gmoe sweep demy-exact --out r --resume');
  });

  it('quotes what the shell would split', () => {
    expect(resumeCommand("my spec's.json", { png: true, reuse: [], bounds: 'beta1=50' }, 'out dir')).toBe(
      `gmoe sweep 'my spec'\\''s.json' --bounds beta1=50 --out 'out dir' --resume`,
    );
  });

  it('counts the cells taken by --reuse among those saved', () => {
    // 800 reused, 499 run now: 1 299 on disk (the line said 499)
    expect(savedCells({ resumed: 0, reused: 800, ran: 499 })).toBe(1299);
  });
});
