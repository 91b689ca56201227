import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { symmetricEigen, symmetricEigenWorkspace } from '../../src/em/optim/sym-eig.js';
import { createRng, type Rng } from '../../src/random/rng.js';

/** Every eigenvalue and eigenvector entry that differs (Object.is) from ml-matrix's; [] when bit-identical. */
function mismatches(B: Float64Array, m: number, out = symmetricEigen(B, m)): string[] {
  const ref = new EigenvalueDecomposition(
    new Matrix(Array.from({ length: m }, (_, a) => Array.from(B.subarray(a * m, a * m + m)))),
    { assumeSymmetric: true },
  );
  const lam = ref.realEigenvalues;
  const V = ref.eigenvectorMatrix;
  const bad: string[] = [];
  if (out.values.length !== m || out.vectors.length !== m * m) bad.push('length');
  for (let q = 0; q < m; q++) {
    if (!Object.is(out.values[q], lam[q])) bad.push(`value ${q}: ${out.values[q]} vs ${lam[q]}`);
    for (let a = 0; a < m; a++) {
      const x = out.vectors[q * m + a]!;
      if (!Object.is(x, V.get(a, q))) bad.push(`vector ${q}[${a}]: ${x} vs ${V.get(a, q)}`);
    }
  }
  return bad;
}

/** A random symmetric m × m matrix, entries N(0,1) times `scale(a, b)`. */
function randomSymmetric(rng: Rng, m: number, scale: (a: number, b: number) => number = () => 1): Float64Array {
  const B = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b <= a; b++) B[a * m + b] = B[b * m + a] = rng.normal() * scale(a, b);
  return B;
}

/** Q diag(lam) Qᵀ with Q from a random rotation (Gram–Schmidt of a normal matrix). */
function withSpectrum(rng: Rng, lam: number[]): Float64Array {
  const m = lam.length;
  const Q = new Float64Array(m * m);
  for (let q = 0; q < m; q++) {
    for (let a = 0; a < m; a++) Q[q * m + a] = rng.normal();
    for (let p = 0; p < q; p++) {
      let dot = 0;
      for (let a = 0; a < m; a++) dot += Q[q * m + a]! * Q[p * m + a]!;
      for (let a = 0; a < m; a++) Q[q * m + a] -= dot * Q[p * m + a]!;
    }
    let n2 = 0;
    for (let a = 0; a < m; a++) n2 += Q[q * m + a]! ** 2;
    for (let a = 0; a < m; a++) Q[q * m + a] /= Math.sqrt(n2);
  }
  const B = new Float64Array(m * m);
  for (let a = 0; a < m; a++)
    for (let b = 0; b <= a; b++) {
      let s = 0;
      for (let q = 0; q < m; q++) s += Q[q * m + a]! * lam[q]! * Q[q * m + b]!;
      B[a * m + b] = B[b * m + a] = s;
    }
  return B;
}

describe('symmetricEigen: bit-identical to ml-matrix EigenvalueDecomposition (assumeSymmetric)', () => {
  it('random symmetric matrices of sizes 1..40', () => {
    const rng = createRng(2024);
    for (let t = 0; t < 150; t++) {
      const m = 1 + rng.int(40);
      expect(mismatches(randomSymmetric(rng, m), m), `case ${t}, m = ${m}`).toEqual([]);
    }
  });

  it('every size 1..40 once, reusing one workspace per size and across sizes', () => {
    const rng = createRng(7);
    let ws = symmetricEigenWorkspace(1);
    for (let m = 1; m <= 40; m++) {
      for (let rep = 0; rep < 2; rep++) {
        const out = symmetricEigen(randomSymmetric(rng, m), m, ws);
        if (ws.m === m) expect(out).toBe(ws);
        ws = out;
        const B = randomSymmetric(rng, m);
        expect(mismatches(B, m, symmetricEigen(B, m, ws)), `m = ${m}`).toEqual([]);
      }
    }
  });

  it('badly scaled entries (1e-12 .. 1e12)', () => {
    const rng = createRng(11);
    for (let t = 0; t < 40; t++) {
      const m = 1 + rng.int(30);
      const s = Array.from({ length: m }, () => 10 ** (-12 + 24 * rng.uniform()));
      expect(
        mismatches(
          randomSymmetric(rng, m, (a, b) => s[a]! * s[b]!),
          m,
        ),
        `graded ${t}`,
      ).toEqual([]);
      expect(
        mismatches(
          randomSymmetric(rng, m, () => 10 ** (-12 + 24 * rng.uniform())),
          m,
        ),
        `raw ${t}`,
      ).toEqual([]);
    }
  });

  it('special structure: 1 × 1, zero, diagonal, identity, repeated eigenvalues, rank 1, tridiagonal', () => {
    const rng = createRng(3);
    const cases: [string, Float64Array, number][] = [
      ['1x1', new Float64Array([-3.25]), 1],
      ['1x1 zero', new Float64Array([0]), 1],
      ['2x2', new Float64Array([2, 1, 1, 2]), 2],
    ];
    for (const m of [1, 2, 3, 5, 11, 30]) {
      cases.push([`zero ${m}`, new Float64Array(m * m), m]);
      const I = new Float64Array(m * m);
      for (let a = 0; a < m; a++) I[a * m + a] = 1;
      cases.push([`identity ${m}`, I, m]);
      const D = new Float64Array(m * m);
      for (let a = 0; a < m; a++) D[a * m + a] = rng.normal() * 10 ** (rng.int(9) - 4);
      cases.push([`diagonal ${m}`, D, m]);
      const v = Array.from({ length: m }, () => rng.normal());
      const R = new Float64Array(m * m);
      for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) R[a * m + b] = v[a]! * v[b]!;
      cases.push([`rank 1 ${m}`, R, m]);
      cases.push([
        `repeated ${m}`,
        withSpectrum(
          rng,
          Array.from({ length: m }, (_, q) => (q < m / 2 ? 2 : -1)),
        ),
        m,
      ]);
      cases.push([
        `all equal ${m}`,
        withSpectrum(
          rng,
          Array.from({ length: m }, () => 5),
        ),
        m,
      ]);
      cases.push([
        `clustered ${m}`,
        withSpectrum(
          rng,
          Array.from({ length: m }, (_, q) => 1 + q * 1e-14),
        ),
        m,
      ]);
      const T = new Float64Array(m * m);
      for (let a = 0; a < m; a++) {
        T[a * m + a] = 2;
        if (a + 1 < m) T[a * m + a + 1] = T[(a + 1) * m + a] = -1;
      }
      cases.push([`tridiagonal ${m}`, T, m]);
      const Z = randomSymmetric(rng, m);
      for (let a = 0; a < m; a++) if (a % 2 === 1) for (let b = 0; b < m; b++) Z[a * m + b] = Z[b * m + a] = 0;
      cases.push([`zero rows ${m}`, Z, m]);
    }
    for (const [name, B, m] of cases) expect(mismatches(B, m), name).toEqual([]);
  });

  it('a slightly asymmetric input is read as ml-matrix reads it (transposed copy)', () => {
    const rng = createRng(5);
    for (const m of [2, 4, 9]) {
      const B = randomSymmetric(rng, m);
      for (let a = 0; a < m; a++) for (let b = 0; b < a; b++) B[a * m + b] *= 1 + 1e-13 * rng.normal();
      expect(mismatches(B, m), `m = ${m}`).toEqual([]);
    }
  });

  it('leaves B unchanged and rejects an empty matrix', () => {
    const B = randomSymmetric(createRng(9), 6);
    const copy = B.slice();
    symmetricEigen(B, 6);
    expect(B).toEqual(copy);
    expect(() => symmetricEigen(new Float64Array(0), 0)).toThrow(/non-empty/);
  });
});
