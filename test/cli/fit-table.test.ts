/** `gmoe fit`'s parameter table: the identity gate's identified ratios beside its non-identified pair. */
import { describe, expect, it } from 'vitest';
import { parameterTable } from '../../src/cli/commands/fit-table.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { cloneModel, type Model } from '../../src/models/types.js';

const data = simulate(truthPreset('demy'), { n: 200, seed: 1 });
const cells = (lines: string[], row: number) => lines[row]!.trim().split(/\s+/);

describe('parameterTable', () => {
  it('softmax: no ratio columns, no τ', () => {
    const t = parameterTable(truthPreset('demy'), data, ['x1']);
    expect(t[0]).toBe('parameters (weight: π averaged over the data; sd = √ν):');
    expect(cells(t, 1)).toEqual(['expert', 'weight', 'gate', 'β0', 'gate', 'β1[x1]', 'a[x1]', 'b', 'sd']);
  });

  it('temperature gate: β1/τ beside β1, and the header says which is identified', () => {
    const m: Model = cloneModel(truthPreset('temp'));
    m.beta1[0] = 50;
    m.tau = 2;
    const t = parameterTable(m, data, ['x1']);
    expect(t[0]).toMatch(/τ = 2; β1\/τ is what the data identify, β1 and τ apart are not\):$/);
    expect(cells(t, 1)).toContain('β1/τ[x1]');
    // expert 1: β0 −8, β1 50, β1/τ 25
    expect(cells(t, 2).slice(2, 5)).toEqual(['-8', '50', '25']);
  });

  it('identity with the bias inside: β0/τ and β1/τ', () => {
    const m: Model = cloneModel(truthPreset('temp-inside'));
    m.beta0[0] = -16;
    m.beta1[0] = 50;
    m.tau = 2;
    const t = parameterTable(m, data, ['x1']);
    expect(t[0]).toMatch(/β0\/τ and β1\/τ are what the data identify, β0, β1 and τ apart are not\):$/);
    expect(cells(t, 1).slice(6, 8)).toEqual(['β0/τ', 'β1/τ[x1]']);
    expect(cells(t, 2).slice(2, 6)).toEqual(['-16', '50', '-8', '25']);
  });
});
