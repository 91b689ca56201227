/**
 * Seeded k-means++ (Arthur & Vassilvitskii 2007) followed by Lloyd iterations, on the rows of
 * an n × p matrix. Used on the standardised (x, y) to start EM from data.
 */
import type { Rng } from '../../random/rng.js';

/**
 * Clusters the n rows of P (n × p, row-major) into k groups.
 * Ties in the assignment go to the lower cluster index; an emptied cluster is re-seeded with
 * the point farthest from its centre. Deterministic given the generator's state.
 * @returns the labels (0..k−1) and the number of Lloyd iterations run
 */
export function kmeans(
  P: Float64Array,
  n: number,
  p: number,
  k: number,
  rng: Rng,
  maxIter = 100,
): { labels: Int32Array; iterations: number } {
  if (n < k) throw new Error(`kmeans: needs at least k = ${k} samples. Value: n = ${n}`);
  const C = new Float64Array(k * p);
  const dist = new Float64Array(n);
  const labels = new Int32Array(n).fill(-1);
  const sq = (i: number, c: number) => {
    let s = 0;
    for (let l = 0; l < p; l++) {
      const e = P[i * p + l]! - C[c * p + l]!;
      s += e * e;
    }
    return s;
  };
  // k-means++ seeding
  const first = rng.int(n);
  for (let l = 0; l < p; l++) C[l] = P[first * p + l]!;
  for (let i = 0; i < n; i++) dist[i] = sq(i, 0);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += dist[i]!;
    let pick = n - 1;
    if (total > 0) {
      const u = rng.uniform() * total;
      let acc = 0;
      for (let i = 0; i < n; i++) {
        acc += dist[i]!;
        if (acc > u) {
          pick = i;
          break;
        }
      }
    } else {
      pick = rng.int(n);
    }
    for (let l = 0; l < p; l++) C[c * p + l] = P[pick * p + l]!;
    for (let i = 0; i < n; i++) {
      const e = sq(i, c);
      if (e < dist[i]!) dist[i] = e;
    }
  }
  const counts = new Float64Array(k);
  let it = 0;
  for (; it < maxIter; it++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bd = sq(i, 0);
      for (let c = 1; c < k; c++) {
        const e = sq(i, c);
        if (e < bd) {
          bd = e;
          best = c;
        }
      }
      dist[i] = bd;
      if (labels[i] !== best) {
        labels[i] = best;
        changed++;
      }
    }
    if (changed === 0 && it > 0) break;
    C.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = labels[i]!;
      counts[c]++;
      for (let l = 0; l < p; l++) C[c * p + l] = C[c * p + l]! + P[i * p + l]!;
    }
    for (let c = 0; c < k; c++) {
      if (counts[c]! > 0) {
        for (let l = 0; l < p; l++) C[c * p + l] = C[c * p + l]! / counts[c]!;
      } else {
        let far = 0;
        for (let i = 1; i < n; i++) if (dist[i]! > dist[far]!) far = i;
        for (let l = 0; l < p; l++) C[c * p + l] = P[far * p + l]!;
        dist[far] = 0;
      }
    }
  }
  return { labels, iterations: it };
}

/** The rows (x_i, y_i) standardised column by column (a constant column is only centred). */
export function standardizedXY(X: Float64Array, y: Float64Array, n: number, d: number): Float64Array {
  const p = d + 1;
  const P = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < d; l++) P[i * p + l] = X[i * d + l]!;
    P[i * p + d] = y[i]!;
  }
  for (let l = 0; l < p; l++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += P[i * p + l]!;
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) {
      const e = P[i * p + l]! - mean;
      v += e * e;
    }
    const sd = Math.sqrt(v / n) || 1;
    for (let i = 0; i < n; i++) P[i * p + l] = (P[i * p + l]! - mean) / sd;
  }
  return P;
}
