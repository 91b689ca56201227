/**
 * The eigendecomposition of a real symmetric m × m matrix held as a flat row-major Float64Array.
 *
 * A port of ml-matrix's (6.x) symmetric `EigenvalueDecomposition` path — JAMA's Householder
 * tridiagonalisation `tred2` followed by the implicit-QL iteration `tql2` (public domain) — onto
 * flat Float64Arrays. It performs exactly the same floating-point operations in the same order as
 * ml-matrix, so eigenvalues and eigenvectors are bit-identical to
 * `new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true })` (test/em/sym-eig.test.ts
 * checks every entry with Object.is). It exists for the trust region's step, which decomposes a
 * small matrix every iteration: no Matrix objects, no get/set calls, and buffers reused across calls.
 *
 * Like ml-matrix, the work array holds V transposed (row q is eigenvector q, so the hot loops of
 * tred2/tql2 scan rows); unlike ml-matrix it is not transposed back: `vectors[q * m + a]` is
 * component a of eigenvector q, i.e. ml-matrix's `eigenvectorMatrix.get(a, q)`.
 */

/** The result of {@link symmetricEigen}; also its reusable workspace. */
export interface SymmetricEigen {
  /** the order m */
  m: number;
  /** eigenvalues, ascending (ml-matrix's `realEigenvalues` order: tql2's selection sort) */
  values: Float64Array;
  /** eigenvectors as rows: `vectors[q * m + a]` = component a of eigenvector q = ml-matrix's V(a, q) */
  vectors: Float64Array;
  /** scratch: the off-diagonal of the tridiagonal form */
  e: Float64Array;
}

/** A workspace of order m (buffers for {@link symmetricEigen}). */
export function symmetricEigenWorkspace(m: number): SymmetricEigen {
  return { m, values: new Float64Array(m), vectors: new Float64Array(m * m), e: new Float64Array(m) };
}

/**
 * Eigenvalues and eigenvectors of the symmetric m × m matrix B (flat, row-major; B is not modified;
 * like ml-matrix with assumeSymmetric, symmetry is not checked).
 * @param out a workspace to reuse: when its order is m its buffers are overwritten and it is returned
 *   (so a result stays valid only until the next call with the same workspace); otherwise a fresh one
 * @throws Error when m < 1 (ml-matrix: 'Matrix must be non-empty')
 * @example
 * const { values, vectors } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2); // values [1, 3]
 */
export function symmetricEigen(B: Float64Array, m: number, out?: SymmetricEigen): SymmetricEigen {
  if (!(m >= 1)) throw new Error('Matrix must be non-empty');
  const w = out !== undefined && out.m === m ? out : symmetricEigenWorkspace(m);
  const V = w.vectors;
  // ml-matrix: V.set(j, i, value.get(i, j)) — V is stored transposed
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) V[j * m + i] = B[i * m + j]!;
  w.e.fill(0);
  tred2(m, w.e, w.values, V);
  tql2(m, w.e, w.values, V);
  return w;
}

/** sqrt(a² + b²) without under/overflow, exactly as ml-matrix's `hypotenuse` (not Math.hypot). */
function hypotenuse(a: number, b: number): number {
  let r = 0;
  if (Math.abs(a) > Math.abs(b)) {
    r = b / a;
    return Math.abs(a) * Math.sqrt(1 + r * r);
  }
  if (b !== 0) {
    r = a / b;
    return Math.abs(b) * Math.sqrt(1 + r * r);
  }
  return 0;
}

/**
 * Householder reduction to tridiagonal form (JAMA tred2 as ml-matrix writes it: V transposed, so
 * V.get(r, c) is V[r * n + c] here).
 */
function tred2(n: number, e: Float64Array, d: Float64Array, V: Float64Array): void {
  let f: number, g: number, h: number, hh: number, scale: number;
  for (let j = 0; j < n; j++) d[j] = V[j * n + n - 1]!;

  for (let i = n - 1; i > 0; i--) {
    scale = 0;
    h = 0;
    for (let k = 0; k < i; k++) scale = scale + Math.abs(d[k]!);

    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V[j * n + i - 1]!;
        V[j * n + i] = 0;
        V[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale;
        h += d[k]! * d[k]!;
      }
      f = d[i - 1]!;
      g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h = h - f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;

      for (let j = 0; j < i; j++) {
        const jn = j * n;
        f = d[j]!;
        V[i * n + j] = f;
        g = e[j]! + V[jn + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[jn + k]! * d[k]!;
          e[k] = e[k]! + V[jn + k]! * f;
        }
        e[j] = g;
      }

      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;

      for (let j = 0; j < i; j++) {
        const jn = j * n;
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) V[jn + k] = V[jn + k]! - (f * e[k]! + g * d[k]!);
        d[j] = V[jn + i - 1]!;
        V[jn + i] = 0;
      }
    }
    d[i] = h;
  }

  // accumulate the transformations
  for (let i = 0; i < n - 1; i++) {
    const in1 = (i + 1) * n;
    V[i * n + n - 1] = V[i * n + i]!;
    V[i * n + i] = 1;
    h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[in1 + k]! / h;
      for (let j = 0; j <= i; j++) {
        const jn = j * n;
        g = 0;
        for (let k = 0; k <= i; k++) g += V[in1 + k]! * V[jn + k]!;
        for (let k = 0; k <= i; k++) V[jn + k] = V[jn + k]! - g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[in1 + k] = 0;
  }

  for (let j = 0; j < n; j++) {
    d[j] = V[j * n + n - 1]!;
    V[j * n + n - 1] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/**
 * Symmetric tridiagonal QL with implicit shifts, then the selection sort of the eigenvalues (JAMA
 * tql2 as ml-matrix writes it: V transposed, so each rotation combines two rows).
 */
function tql2(n: number, e: Float64Array, d: Float64Array, V: Float64Array): void {
  let g: number, h: number, p: number, r: number, dl1: number, c: number, c2: number, c3: number;
  let el1: number, s: number, s2: number;
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;

  let f = 0;
  let tst1 = 0;
  const eps = Number.EPSILON;

  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let mm = l;
    while (mm < n) {
      if (Math.abs(e[mm]!) <= eps * tst1) break;
      mm++;
    }

    if (mm > l) {
      do {
        g = d[l]!;
        p = (d[l + 1]! - g) / (2 * e[l]!);
        r = hypotenuse(p, 1);
        if (p < 0) r = -r;

        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        dl1 = d[l + 1]!;
        h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f = f + h;

        p = d[mm]!;
        c = 1;
        c2 = c;
        c3 = c;
        el1 = e[l + 1]!;
        s = 0;
        s2 = 0;
        for (let i = mm - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = hypotenuse(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);

          const r0 = i * n;
          const r1 = r0 + n;
          for (let k = 0; k < n; k++) {
            h = V[r1 + k]!;
            V[r1 + k] = s * V[r0 + k]! + c * h;
            V[r0 + k] = c * V[r0 + k]! - s * h;
          }
        }

        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }

  for (let i = 0; i < n - 1; i++) {
    let k = i;
    p = d[i]!;
    for (let j = i + 1; j < n; j++) {
      if (d[j]! < p) {
        k = j;
        p = d[j]!;
      }
    }
    if (k !== i) {
      d[k] = d[i]!;
      d[i] = p;
      for (let j = 0; j < n; j++) {
        p = V[i * n + j]!;
        V[i * n + j] = V[k * n + j]!;
        V[k * n + j] = p;
      }
    }
  }
}
