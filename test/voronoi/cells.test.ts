import { describe, expect, it } from 'vitest';
import { modelFromParams } from '../../src/models/types.js';
import { truthPreset } from '../../src/models/presets.js';
import { assignCells, cellMembers, voronoiCells } from '../../src/voronoi/index.js';

const truth = truthPreset('demy');

describe('Voronoi cells', () => {
  it('assign each fitted atom to the nearest true atom on (β1, a, b, ν), ignoring β0', () => {
    const fit = modelFromParams(
      { kind: 'softmax' },
      {
        beta0: [100, -100, 0],
        beta1: [[0.5], [24], [26]],
        a: [[19], [-21], [-19]],
        b: [-5, 15, 15],
        nu: [0.1, 0.1, 0.1],
      },
    );
    expect(voronoiCells(fit, truth)).toEqual([[1, 2], [0]]);
    expect(Array.from(assignCells(fit, truth))).toEqual([1, 0, 0]);
  });

  it('break ties towards the smaller true index', () => {
    // fitted atom exactly halfway between the two true atoms in every coordinate
    const mid = modelFromParams({ kind: 'softmax' }, { beta0: [0], beta1: [[12.5]], a: [[0]], b: [5], nu: [0.125] });
    expect(voronoiCells(mid, truth)).toEqual([[0], []]);
  });

  it('compare β1 with the translated truth β1* + t1, or leave it out', () => {
    const fit = modelFromParams({ kind: 'softmax' }, { beta0: [0], beta1: [[25]], a: [[0]], b: [5], nu: [0.125] });
    expect(Array.from(assignCells(fit, truth, [0]))).toEqual([0]);
    expect(Array.from(assignCells(fit, truth, [25]))).toEqual([1]);
    // with β1 left out the atom sits on the a/b/ν tie: smaller j
    expect(Array.from(assignCells(fit, truth, undefined, false))).toEqual([0]);
  });

  it('let ν decide between true atoms that agree on (β1, a, b)', () => {
    const twins = modelFromParams(
      { kind: 'softmax' },
      { beta0: [0, 0], beta1: [[1], [1]], a: [[0], [0]], b: [0, 0], nu: [1, 5] },
    );
    const fit = modelFromParams(
      { kind: 'softmax' },
      { beta0: [0, 0], beta1: [[1], [1]], a: [[0], [0]], b: [0, 0], nu: [4.9, 1.2] },
    );
    expect(Array.from(assignCells(fit, twins))).toEqual([1, 0]);
  });

  it('check shapes', () => {
    expect(() => assignCells(truthPreset('d2'), truth)).toThrow(/same input dimension d/);
    expect(() => assignCells(truth, truth, [1, 2])).toThrow(/t1 must have length d = 1/);
    expect(cellMembers([2, 0, 2], 4)).toEqual([[1], [], [0, 2], []]);
  });
});
