/**
 * voronoiLoss, step 3: the infimum over the translation. The cells change only across hyperplanes
 * in t1, so the loss is minimised over each region of the arrangement (one cell assignment each):
 * every region when the hyperplanes' normals span at most two directions (exact), else the regions
 * reached from starts and across the boundaries on which a region's minimum lies.
 */
import { assignCells } from './cells.js';
import { minimizeConvex } from './convex.js';
import {
  anchor2,
  anchorsOf,
  buildAssignment,
  evaluateTerms,
  regionOf,
  type Assignment,
  type LossContext,
} from './loss-cells.js';
import { addNormPower, minimizeT1, optimalScale } from './translation.js';

/** The minimum of one region: its assignment, the scale c = e^{t0}, t1 and the loss there. */
export interface Candidate {
  asg: Assignment;
  c: number;
  t1: Float64Array;
  value: number;
}

/**
 * Minimum of the loss over (c, t1) with the cells held at `asg`, t1 restricted to the closure of
 * the cells' region (`start` is a point of it). Returns null for an empty region.
 */
function solveRegion(ctx: LossContext, asg: Assignment, start: Float64Array): Candidate | null {
  const { d, kStar, K, topKActive, useT0, wStar } = ctx;
  const cMed = useT0 ? optimalScale(asg.W, wStar).c : 1;
  const plain = !topKActive || K >= kStar;
  const terms = anchorsOf(ctx, asg);
  // sublevel box: every term w_i(‖u_i − t‖^e − o) is at most the loss, so a minimiser lies within
  // (F(start)/w_i + o)^(1/e) of every anchor
  let F0 = 0;
  if (plain)
    for (const term of terms)
      F0 += addNormPower(term.anchor, 0, start, 0, d, term.coef, term.exponent, null, 0, term.offset);
  else F0 = evaluateTerms(ctx, asg, cMed, start, null, -1, -1);
  if (plain && F0 === 0)
    return { asg, c: cMed, t1: Float64Array.from(start), value: evaluateTerms(ctx, asg, cMed, start, null, -1, -1) };
  const tLo = Float64Array.from(start);
  const tHi = Float64Array.from(start);
  const boxLo = new Float64Array(d).fill(-Infinity);
  const boxHi = new Float64Array(d).fill(Infinity);
  for (const term of terms) {
    if (!(term.coef > 0)) continue;
    const rho = Math.pow(F0 / term.coef + (term.offset ?? 0), 1 / term.exponent);
    for (let l = 0; l < d; l++) {
      boxLo[l] = Math.max(boxLo[l]!, term.anchor[l]! - rho);
      boxHi[l] = Math.min(boxHi[l]!, term.anchor[l]! + rho);
    }
  }
  for (let l = 0; l < d; l++) {
    // the start lies in the box up to rounding
    if (Number.isFinite(boxLo[l]!)) tLo[l] = Math.min(tLo[l]!, boxLo[l]!);
    if (Number.isFinite(boxHi[l]!)) tHi[l] = Math.max(tHi[l]!, boxHi[l]!);
  }
  const region = regionOf(ctx, asg);
  if (plain) {
    const res = minimizeConvex(
      (t, g) => {
        g.fill(0);
        let f = 0;
        for (const term of terms)
          f += addNormPower(term.anchor, 0, t, 0, d, term.coef, term.exponent, g, 0, term.offset);
        return f;
      },
      tLo,
      tHi,
      { constraints: region },
    );
    if (!res.feasible) return null;
    return { asg, c: cMed, t1: res.x, value: evaluateTerms(ctx, asg, cMed, res.x, null, -1, -1) };
  }
  // top-K: c and t1 are coupled through the choice of the K largest terms; jointly convex
  const nc = useT0 ? 1 : 0;
  const lo = new Float64Array(nc + d);
  const hi = new Float64Array(nc + d);
  if (useT0) {
    // clamping c into [min, max] of W_j/w*_j brings every |W_j − c w*_j| down
    lo[0] = Infinity;
    hi[0] = -Infinity;
    for (let j = 0; j < kStar; j++) {
      const r = asg.W[j]! / wStar[j]!;
      lo[0] = Math.min(lo[0]!, r);
      hi[0] = Math.max(hi[0]!, r);
    }
  }
  lo.set(tLo, nc);
  hi.set(tHi, nc);
  const lifted = region.map((h) => {
    const normal = new Float64Array(nc + d);
    normal.set(h.normal as Float64Array, nc);
    return { normal, rhs: h.rhs };
  });
  const t1buf = new Float64Array(d);
  const res = minimizeConvex(
    (x, g) => {
      for (let l = 0; l < d; l++) t1buf[l] = x[nc + l]!;
      return evaluateTerms(ctx, asg, useT0 ? x[0]! : 1, t1buf, g, useT0 ? 0 : -1, nc);
    },
    lo,
    hi,
    { constraints: lifted },
  );
  if (!res.feasible) return null;
  const c = useT0 ? res.x[0]! : 1;
  const t1 = Float64Array.from(res.x.subarray(nc));
  return { asg, c, t1, value: evaluateTerms(ctx, asg, c, t1, null, -1, -1) };
}

/** The optimal c at t1 = 0 (no translation in β1). */
function solveFixed(ctx: LossContext, asg: Assignment): Candidate {
  const { d, kStar, K, topKActive, useT0, wStar } = ctx;
  const zeros = new Float64Array(d);
  if (!topKActive || K >= kStar) {
    const c = useT0 ? optimalScale(asg.W, wStar).c : 1;
    return { asg, c, t1: Float64Array.from(zeros), value: evaluateTerms(ctx, asg, c, zeros, null, -1, -1) };
  }
  if (!useT0)
    return { asg, c: 1, t1: Float64Array.from(zeros), value: evaluateTerms(ctx, asg, 1, zeros, null, -1, -1) };
  let lo = Infinity;
  let hi = -Infinity;
  for (let j = 0; j < kStar; j++) {
    lo = Math.min(lo, asg.W[j]! / wStar[j]!);
    hi = Math.max(hi, asg.W[j]! / wStar[j]!);
  }
  const res = minimizeConvex((x, g) => evaluateTerms(ctx, asg, x[0]!, zeros, g, 0, -1), [lo], [hi]);
  return { asg, c: res.x[0]!, t1: Float64Array.from(zeros), value: res.f };
}

/** The best region found so far, and the smallest lower bound over regions whose cells need an unknown r̄. */
class RegionSearch {
  best: Candidate | null = null;
  bestUnknown: Candidate | null = null;
  readonly seen = new Set<string>();

  constructor(private readonly ctx: LossContext) {}

  consider(cand: Candidate | null): void {
    if (!cand) return;
    if (cand.asg.unknown) {
      if (!this.bestUnknown || cand.value < this.bestUnknown.value) this.bestUnknown = cand;
      return;
    }
    // a later candidate must be better beyond rounding, so equal optima keep the first one found
    if (!this.best || cand.value < this.best.value - 1e-12 * Math.abs(this.best.value)) this.best = cand;
  }

  /** Solves the region of the cells at t (once per assignment). */
  visit(t: Float64Array): Candidate | null {
    const { fit, truth } = this.ctx;
    const assign = assignCells(fit, truth, t);
    const key = assign.join(',');
    if (this.seen.has(key)) return null;
    this.seen.add(key);
    const cand = solveRegion(this.ctx, buildAssignment(this.ctx, assign), t);
    this.consider(cand);
    return cand;
  }
}

/** A hyperplane α·σ = r in the basis coordinates σ_q = b_q·t of the translation. */
interface Line {
  alpha: Float64Array;
  r: number;
}

/** The basis of the directions in which the cells change, and the lines where an atom is equidistant from two true atoms. */
function arrangement(ctx: LossContext): { basis: Float64Array[]; lines: Line[] } {
  const { fit, truth, d, kStar, rest2 } = ctx;
  // the cells change only across hyperplanes whose normals are differences of the true β1*_j
  const dirs: Float64Array[] = [];
  for (let j = 1; j < kStar; j++) {
    const v = new Float64Array(d);
    for (let l = 0; l < d; l++) v[l] = truth.beta1[j * d + l]! - truth.beta1[l]!;
    dirs.push(v);
  }
  const basis = orthonormalBasis(dirs, d);
  // their normals lie in the span of the basis
  const lines: Line[] = [];
  for (let i = 0; i < fit.k; i++) {
    for (let j = 0; j < kStar; j++) {
      for (let jp = j + 1; jp < kStar; jp++) {
        const alpha = new Float64Array(basis.length);
        let any = false;
        basis.forEach((b, q) => {
          for (let l = 0; l < d; l++)
            alpha[q] = alpha[q]! + 2 * (truth.beta1[jp * d + l]! - truth.beta1[j * d + l]!) * b[l]!;
          if (alpha[q] !== 0) any = true;
        });
        if (any)
          lines.push({
            alpha,
            r: anchor2(ctx, i, j) - anchor2(ctx, i, jp) + rest2[i * kStar + j]! - rest2[i * kStar + jp]!,
          });
      }
    }
  }
  return { basis, lines };
}

/**
 * Rank 2: sweep σ1. Between consecutive vertices (and vertical lines) no two lines cross, so one
 * vertical line per strip meets every region of the strip, in the order of the lines; every region
 * has a strip inside its σ1-extent, so all regions are reached: exact again.
 */
function sweepPlane(lines: Line[], visitAt: (sigma: number[]) => void): void {
  const vertical = (h: Line) => Math.abs(h.alpha[1]!) <= 1e-12 * Math.abs(h.alpha[0]!);
  const xs: number[] = [];
  for (const h of lines) if (vertical(h)) xs.push(h.r / h.alpha[0]!);
  for (let u = 0; u < lines.length; u++) {
    for (let v = u + 1; v < lines.length; v++) {
      const [p1, p2] = [lines[u]!, lines[v]!];
      const det = p1.alpha[0]! * p2.alpha[1]! - p1.alpha[1]! * p2.alpha[0]!;
      const scale = Math.hypot(p1.alpha[0]!, p1.alpha[1]!) * Math.hypot(p2.alpha[0]!, p2.alpha[1]!);
      if (Math.abs(det) <= 1e-12 * scale) continue; // parallel
      xs.push((p1.r * p2.alpha[1]! - p2.r * p1.alpha[1]!) / det);
    }
  }
  const slanted = lines.filter((h) => !vertical(h));
  for (const m of between(xs)) {
    for (const y of between(slanted.map((h) => (h.r - h.alpha[0]! * m) / h.alpha[1]!))) visitAt([m, y]);
  }
}

/**
 * Rank ≥ 3: explore the regions reached from the starts (each atom aligned with each true atom, and
 * the optimum of the cells on (a, b, ν)), then across every cell boundary on which a region's
 * minimum lies (a local search over the arrangement of regions).
 */
function localSearch(ctx: LossContext, search: RegionSearch): void {
  const { fit, truth, d, kStar } = ctx;
  const queue: Float64Array[] = [];
  queue.push(minimizeT1(anchorsOf(ctx, buildAssignment(ctx, assignCells(fit, truth, undefined, false))), d).t1);
  for (let i = 0; i < fit.k; i++) {
    for (let j = 0; j < kStar; j++) {
      const t = new Float64Array(d);
      for (let l = 0; l < d; l++) t[l] = fit.beta1[i * d + l]! - truth.beta1[j * d + l]!;
      queue.push(t);
    }
  }
  const MAX_REGIONS = 400;
  while (queue.length > 0 && search.seen.size < MAX_REGIONS) {
    const cand = search.visit(queue.shift()!);
    if (!cand) continue;
    let tn = 0;
    for (let l = 0; l < d; l++) tn += cand.t1[l]! ** 2;
    const eps = 1e-7 * (1 + Math.sqrt(tn));
    for (const h of regionOf(ctx, cand.asg)) {
      let nt = 0;
      let nn = 0;
      for (let l = 0; l < d; l++) {
        nt += h.normal[l]! * cand.t1[l]!;
        nn += h.normal[l]! ** 2;
      }
      const len = Math.sqrt(nn);
      if (nt - h.rhs > 1e-9 * (Math.abs(h.rhs) + len * Math.sqrt(tn) + 1)) continue; // not on this boundary
      queue.push(Float64Array.from(cand.t1, (tl, l) => tl - (eps * h.normal[l]!) / len));
    }
  }
}

/**
 * The region (cell assignment, c, t1) at the infimum of the loss over the translations that are
 * symmetries (t1 = 0 when t1 is not).
 * @throws UnknownRBarError when a region whose cells need r̄(m ≥ 4) may decide the loss
 */
export function searchRegions(ctx: LossContext): Candidate {
  const { fit, truth, d } = ctx;
  const search = new RegionSearch(ctx);
  const zeros = new Float64Array(d);
  if (!ctx.useT1) {
    search.consider(solveFixed(ctx, buildAssignment(ctx, assignCells(fit, truth, zeros))));
  } else {
    const { basis, lines } = arrangement(ctx);
    const point = (sigma: number[]) => {
      const t = new Float64Array(d);
      basis.forEach((b, q) => {
        for (let l = 0; l < d; l++) t[l] = t[l]! + sigma[q]! * b[l]!;
      });
      return t;
    };
    if (basis.length === 0) {
      search.visit(Float64Array.from(zeros));
    } else if (basis.length === 1) {
      // rank 1 (always for d = 1 or k* = 2): the regions are slabs between consecutive cuts;
      // solving every slab gives the exact infimum
      for (const sv of between(lines.map((h) => h.r / h.alpha[0]!))) search.visit(point([sv]));
    } else if (basis.length === 2) {
      sweepPlane(lines, (sigma) => search.visit(point(sigma)));
    } else {
      localSearch(ctx, search);
    }
  }
  // a region needing r̄(m ≥ 4) decides the loss unless even its lower bound exceeds the best defined value
  const undecided = search.bestUnknown;
  const found = search.best;
  if (undecided && (!found || undecided.value < found.value * (1 + 1e-9))) throw undecided.asg.unknown!;
  if (!found) throw new Error('voronoiLoss: no cell assignment could be evaluated');
  return found;
}

/** Points strictly between consecutive distinct values of `cuts`, and one beyond each end (0 for none). */
function between(cuts: number[]): number[] {
  const c = cuts.filter((v) => Number.isFinite(v)).sort((x, y) => x - y);
  if (c.length === 0) return [0];
  const span = c[c.length - 1]! - c[0]! + 1;
  const out = [c[0]! - span];
  for (let s = 1; s < c.length; s++) if (c[s]! > c[s - 1]!) out.push(0.5 * (c[s - 1]! + c[s]!));
  out.push(c[c.length - 1]! + span);
  return out;
}

/** Orthonormal basis of the span of `vs` (Gram–Schmidt; directions below 1e-12 of their length dropped). */
function orthonormalBasis(vs: Float64Array[], d: number): Float64Array[] {
  const basis: Float64Array[] = [];
  for (const v0 of vs) {
    const v = Float64Array.from(v0);
    let n0 = 0;
    for (let l = 0; l < d; l++) n0 += v[l]! ** 2;
    if (n0 === 0) continue;
    for (const b of basis) {
      let dot = 0;
      for (let l = 0; l < d; l++) dot += v[l]! * b[l]!;
      for (let l = 0; l < d; l++) v[l] = v[l]! - dot * b[l]!;
    }
    let n = 0;
    for (let l = 0; l < d; l++) n += v[l]! ** 2;
    if (n <= 1e-24 * n0) continue;
    const s = 1 / Math.sqrt(n);
    basis.push(Float64Array.from(v, (x) => x * s));
  }
  return basis;
}
