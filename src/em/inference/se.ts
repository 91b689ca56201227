/**
 * Standard errors from the observed information I = −∇²L (the exact Hessian of hessian.ts) at a
 * fit: Cov = I⁻¹ over the free parameters, on the natural scale (β0, β1, τ, a, b, ν; σ_j = √ν_j
 * by the delta method). What is not a free parameter is stated, not estimated:
 * - the reference expert's gate (the last one; β0 and/or β1, per the gate's translation symmetries)
 *   is fixed at 0: the other experts' gate parameters are contrasts against it;
 * - a positively homogeneous σ with τ free (the temperature gate, relu) leaves the likelihood flat
 *   along (β1, τ) → (cβ1, cτ) — with the bias inside along (β0, β1, τ) → c(β0, β1, τ): τ is held at its
 *   fitted value, and the β1 (and inside, β0) errors are those at that τ (only β1/τ, β0/τ are identified);
 * - top-K: the active sets S_K(x_i) are held as they are at the fit;
 * - one variance shared by all experts (variance 'equal'): ν is one parameter (the Hessian's ν_j rows
 *   and columns summed: the chain rule for ν_j = ν), its error on every expert's row.
 * When I is singular or not positive definite (over-specified fits, a fit that is not a local
 * maximum) the errors are null and `notes` says why; nearly singular information gets a note too.
 */
import { columnMeanSd } from '../../models/column-stats.js';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { fail, validateModel } from '../../models/validate.js';
import { validateDataset } from '../../models/dataset-io.js';
import { getGate } from '../../models/gates/index.js';
import { cloneModel, hasTau, type Dataset, type Model } from '../../models/types.js';
import { fixedLabels, normalizeGate } from '../gates/layout.js';
import { logLikDerivatives } from './hessian.js';
import { nuIndex, packParams, paramLayout, type ParamLayout } from './params.js';
import type { ActivationDescriptor } from '../../math/activations.js';

export interface StandardErrorOptions {
  /** 'free' (default) when the fit estimated τ; 'fixed' when τ was held (no τ row then) */
  tauMode?: 'free' | 'fixed';
  /** 'equal' when the fit shared one variance among its experts (FitOptions.variance) */
  variance?: 'free' | 'equal';
  /** eigenvalues of the correlation-scaled information at most relTol × the largest count as zero (default 1e-10) */
  relTol?: number;
}

export interface StandardErrorRow {
  /** e.g. "beta0[0]", "beta1[0][0]", "tau", "a[1][0]", "b[1]", "nu[1]", "sigma[1]" (0-based) */
  param: string;
  estimate: number;
  /** null when fixed, or when the information cannot be inverted */
  se: number | null;
  /** why the parameter is not estimated (fixed by a symmetry), absent for free parameters */
  fixed?: string;
  /** sigma rows: derived from ν by the delta method */
  derived?: boolean;
}

export type StandardErrorStatus = 'ok' | 'nearly-singular' | 'singular' | 'not-negative-definite';

export interface StandardErrors {
  rows: StandardErrorRow[];
  status: StandardErrorStatus;
  /** plain-language statements: conventions, fixed parameters, why errors are missing */
  notes: string[];
  logLik: number;
  n: number;
  /** labels of the free parameters, in the order of `covariance` */
  params: string[];
  /** eigenvalues of the correlation-scaled observed information D^-1/2 I D^-1/2 (D = diag I), ascending */
  eigenvalues: number[];
  /** largest / smallest of those eigenvalues (Infinity when singular or not positive definite) */
  condition: number;
  /** I⁻¹ over the free parameters (natural scale); null unless status is ok or nearly-singular */
  covariance: number[][] | null;
  /** the gradient's largest |entry| at the model (a converged fit has ≈ 0) */
  maxGradient: number;
}

/**
 * Standard errors of a fitted model's parameters from the inverse observed information.
 * @throws ValidationError when the data's d differs from the model's
 */
export function standardErrors(modelIn: Model, data: Dataset, opts: StandardErrorOptions = {}): StandardErrors {
  // a wrong shape or a NaN failed deep inside as "Cannot read properties of undefined"
  validateModel(modelIn, 'model');
  validateDataset(data, 'data');
  if (data.d !== modelIn.d) fail('data.d', `must equal the model's d = ${modelIn.d}`, data.d);
  const relTol = opts.relTol ?? 1e-10;
  const { k, d } = modelIn;
  const notes: string[] = [];
  const tauGate = hasTau(modelIn.gate);
  let tauMode = tauGate ? (opts.tauMode ?? 'free') : 'fixed';
  const act = flatTauActivation(modelIn, tauMode);
  const tauFlat = act !== null;
  if (act !== null) {
    tauMode = 'fixed';
    const inside = getGate(modelIn.gate).activation?.(modelIn.gate).inside === true;
    notes.push(
      inside
        ? `τ held at its fitted value ${modelIn.tau}: with σ = ${act.name} and the bias inside the likelihood is flat along (β0, β1, τ) → c(β0, β1, τ), only β0/τ and β1/τ are identified; the β0 and β1 errors are those at this τ`
        : `τ held at its fitted value ${modelIn.tau}: with σ = ${act.name} the likelihood is flat along (β1, τ) → (cβ1, cτ), only β1/τ is identified; the β1 errors are those at this τ`,
    );
  }
  const L = paramLayout(modelIn.gate, k, d, { tauMode, tauScale: 'natural', nuScale: 'natural' });
  const model = cloneModel(modelIn);
  normalizeGate(L.gate, model);
  const moved =
    Array.from(model.beta0).some((v, j) => v !== modelIn.beta0[j]) ||
    Array.from(model.beta1).some((v, t) => v !== modelIn.beta1[t]);
  const ref = referenceNote(L);
  if (ref) notes.push(ref);
  if (moved) notes.push("the gate was translated so that the reference expert's fixed parameters are 0 (π unchanged)");
  const sel = getGate(modelIn.gate).selection?.(modelIn.gate);
  if (sel)
    notes.push(
      `top-${sel.K}: the active sets S_K(x) are held as they are at the fit (the information of the smooth piece the fit lies in)`,
    );
  if (k === 1 && tauGate) notes.push('k = 1: the gate is constant; τ is not identified and not reported');

  const D = logLikDerivatives(L, model, data);
  const P0 = L.P;
  const tied = opts.variance === 'equal' && k > 1 ? foldSharedVariance(L, D.gradient, D.hessian!) : [];
  if (tied.length > 0) {
    L.labels[nuIndex(L, 0)] = 'nu (shared)';
    notes.push(
      `one variance shared by all experts (--variance equal): ν is one parameter, its error on every expert's row`,
    );
  }
  // parameters the log-likelihood does not depend on near the fit (top-1: β0 in a softmax over one expert)
  const keep: number[] = [];
  const unseen: string[] = [];
  for (let s = 0; s < P0; s++) {
    if (tied.includes(s)) continue;
    let any = false;
    for (let t = 0; t < P0 && !any; t++) any = D.hessian![s * P0 + t] !== 0;
    if (any || D.gradient[s] !== 0) keep.push(s);
    else unseen.push(L.labels[s]!);
  }
  if (unseen.length > 0)
    notes.push(
      `${unseen.join(', ')}: the log-likelihood does not depend on ${unseen.length > 1 ? 'them' : 'it'} near the fit (zero gradient and curvature), no error`,
    );
  const P = keep.length;
  // decisions on the correlation-scaled information D^-1/2 I D^-1/2, so that they do not depend on the
  // parameters' units (β1 ~ 25 next to ν ~ 0.09)
  const sc = keep.map((s) => Math.sqrt(Math.abs(D.hessian![s * P0 + s]!)) || 1);
  const info = new Matrix(P, P);
  for (let s = 0; s < P; s++)
    for (let t = 0; t < P; t++) info.set(s, t, -D.hessian![keep[s]! * P0 + keep[t]!]! / (sc[s]! * sc[t]!));
  const eig = new EigenvalueDecomposition(info, { assumeSymmetric: true });
  const lambda = eig.realEigenvalues;
  const order = lambda.map((_, t) => t).sort((x, y) => lambda[x]! - lambda[y]!);
  const eigenvalues = order.map((t) => lambda[t]!);
  const maxAbsEig = Math.max(...eigenvalues.map(Math.abs), 0);
  const lo = eigenvalues[0] ?? 0;
  let maxGradient = 0;
  for (const g of D.gradient) maxGradient = Math.max(maxGradient, Math.abs(g));
  // |g_s| / √I_ss: the Newton step along s in units of its standard error
  let maxScaledGradient = 0;
  keep.forEach((s, q) => {
    maxScaledGradient = Math.max(maxScaledGradient, Math.abs(D.gradient[s]!) / sc[q]!);
  });
  let status: StandardErrorStatus;
  let covariance: number[][] | null = null;
  const describe = (t: number) => {
    const v = eig.eigenvectorMatrix.getColumn(t);
    return v
      .map((c, s) => ({ c, s }))
      .filter(({ c }) => Math.abs(c) > 0.2)
      .sort((x, y) => Math.abs(y.c) - Math.abs(x.c))
      .map(({ c, s }) => `${c.toFixed(2)}·${L.labels[keep[s]!]}`)
      .join(' + ');
  };
  const flat = order.filter((t) => Math.abs(lambda[t]!) <= relTol * maxAbsEig);
  if (P > 0 && (flat.length > 0 || maxAbsEig === 0)) {
    status = 'singular';
    const neg = eigenvalues.filter((v) => v < -relTol * maxAbsEig).length;
    notes.push(
      `the observed information is singular (${flat.length} zero eigenvalue(s) of ${P}, largest ${maxAbsEig.toExponential(2)}): no standard errors. Flat direction ≈ ${describe(flat[0] ?? order[0]!)}. Typical of an over-specified fit (more experts than the data support) or of parameters the data cannot separate${farFromZero(data)}${neg > 0 ? `; it is also not a local maximum (${neg} positive curvature direction(s))` : ''}`,
    );
  } else if (P > 0 && lo < 0) {
    status = 'not-negative-definite';
    const neg = eigenvalues.filter((v) => v < 0).length;
    notes.push(
      `the Hessian of the log-likelihood is not negative definite (${neg} positive curvature direction(s), e.g. ${describe(order[0]!)}): the model is not a local maximum (a saddle, or EM stopped early); no standard errors`,
    );
  } else {
    const cond = P > 0 ? maxAbsEig / lo : 1;
    status = cond > 1e8 ? 'nearly-singular' : 'ok';
    if (status === 'nearly-singular')
      notes.push(
        `the observed information is nearly singular (condition number ${cond.toExponential(2)}): the errors along ${describe(order[0]!)} are large and only asymptotically meaningful`,
      );
    const V = eig.eigenvectorMatrix;
    covariance = Array.from({ length: P }, () => new Array<number>(P).fill(0));
    for (let q = 0; q < P; q++) {
      const inv = 1 / lambda[q]!;
      for (let s = 0; s < P; s++) {
        const vs = (V.get(s, q) * inv) / sc[s]!;
        if (vs === 0) continue;
        for (let t = 0; t < P; t++) covariance[s]![t] = covariance[s]![t]! + (vs * V.get(t, q)) / sc[t]!;
      }
    }
  }
  if (maxScaledGradient > 1e-3)
    notes.push(
      `the gradient is not zero at this model (largest |∂L/∂θ| = ${maxGradient.toExponential(2)}; a Newton step along one parameter moves it by up to ${maxScaledGradient.toExponential(2)} of its standard error): the errors are those of the information here, not at a maximum`,
    );
  const slot = new Int32Array(P0).fill(-1);
  keep.forEach((s, q) => {
    slot[s] = q;
  });
  for (const s of tied) slot[s] = slot[nuIndex(L, 0)]!;
  return {
    rows: buildRows(L, model, packParams(L, model), covariance, slot, tauFlat),
    status,
    notes,
    logLik: D.logLik,
    n: data.n,
    params: keep.map((s) => L.labels[s]!),
    eigenvalues,
    condition: status === 'singular' || status === 'not-negative-definite' ? Infinity : P > 0 ? maxAbsEig / lo : 1,
    covariance,
    maxGradient,
  };
}

/** What the reference expert's fixed gate parameters mean, or null when the gate fixes none. */
export function referenceNote(L: ParamLayout): string | null {
  const fixed = fixedLabels(L.gate);
  if (fixed.length === 0) return null;
  return `reference expert ${L.gate.ref + 1} (the last; index ${L.gate.ref} in the names): ${fixed.join(', ')} fixed at 0 (the gate is invariant under a common translation); the other gate parameters are contrasts against it`;
}

/**
 * The activation whose positive homogeneity leaves the likelihood flat along (β1, τ) → (cβ1, cτ) when
 * τ is free and k > 1 (τ is then held at the fit), else null.
 */
export function flatTauActivation(m: Model, tauMode: 'free' | 'fixed' = 'free'): ActivationDescriptor | null {
  const act = getGate(m.gate).activation?.(m.gate).act ?? null;
  const flat = hasTau(m.gate) && tauMode === 'free' && act !== null && act.positivelyHomogeneous && m.k > 1;
  return flat ? act : null;
}

/** A row of {@link parameterRows}: `index` is its place in θ, −1 when fixed (or, for sigma, ν's place). */
export type ParameterRow = Omit<StandardErrorRow, 'se'> & { index: number };

/**
 * One row per parameter of the model, in the model's order (gate, τ, then expert by expert): the
 * rows of the standard-error tables, whichever way the errors are estimated. `m` is normalised in
 * `L.gate`'s layout; `theta` = packParams(L, m) on the natural scale.
 */
export function parameterRows(L: ParamLayout, m: Model, theta: Float64Array, tauFlat: boolean): ParameterRow[] {
  const { k, d } = L;
  const G = L.gate;
  const rows: ParameterRow[] = [];
  const ref = { fixed: 'reference expert', index: -1 };
  for (let j = 0; j < k; j++) {
    const b0 = G.b0Index[j]!;
    rows.push(
      b0 >= 0
        ? { param: `beta0[${j}]`, estimate: theta[b0]!, index: b0 }
        : { param: `beta0[${j}]`, estimate: m.beta0[j]!, ...ref },
    );
    for (let a = 0; a < d; a++) {
      const b1 = G.b1Index[j]!;
      rows.push(
        b1 >= 0
          ? { param: `beta1[${j}][${a}]`, estimate: theta[b1 + a]!, index: b1 + a }
          : { param: `beta1[${j}][${a}]`, estimate: m.beta1[j * d + a]!, ...ref },
      );
    }
  }
  if (hasTau(m.gate) && k > 1) {
    const fixed = tauFlat ? 'flat (β1, τ) direction: held at the fit' : 'fixed by the fit (--tau fixed)';
    rows.push(
      G.tauIndex >= 0
        ? { param: 'tau', estimate: m.tau, index: G.tauIndex }
        : { param: 'tau', estimate: m.tau, fixed, index: -1 },
    );
  }
  for (let j = 0; j < k; j++) {
    const o = L.expertOffset + j * (d + 2);
    for (let a = 0; a < d; a++) rows.push({ param: `a[${j}][${a}]`, estimate: theta[o + a]!, index: o + a });
    rows.push({ param: `b[${j}]`, estimate: theta[o + d]!, index: o + d });
    const nu = theta[o + d + 1]!;
    rows.push({ param: `nu[${j}]`, estimate: nu, index: o + d + 1 });
    rows.push({ param: `sigma[${j}]`, estimate: Math.sqrt(nu), index: o + d + 1, derived: true });
  }
  return rows;
}

/**
 * The chain rule for ν_j = ν (all j): expert 0's ν entries of the gradient and Hessian (natural scale)
 * become the shared ν's, the sums over j; returns the other experts' ν indices, to be dropped.
 */
function foldSharedVariance(L: ParamLayout, g: Float64Array, H: Float64Array): number[] {
  const { P, k } = L;
  const nuIdx = Array.from({ length: k }, (_, j) => nuIndex(L, j));
  const v0 = nuIdx[0]!;
  for (let s = 0; s < P; s++) {
    let c = 0;
    for (const v of nuIdx) c += H[s * P + v]!;
    H[s * P + v0] = c;
  }
  for (let t = 0; t < P; t++) {
    let c = 0;
    for (const v of nuIdx) c += H[v * P + t]!;
    H[v0 * P + t] = c;
  }
  let c = 0;
  for (const v of nuIdx) c += g[v]!;
  g[v0] = c;
  for (const v of nuIdx.slice(1)) g[v] = 0; // not parameters of the constrained fit
  return nuIdx.slice(1);
}

/** The rows with the errors of the covariance over the kept parameters (`slot`: θ index → its row there). */
function buildRows(
  L: ParamLayout,
  m: Model,
  theta: Float64Array,
  cov: number[][] | null,
  slot: Int32Array,
  tauFlat: boolean,
): StandardErrorRow[] {
  const se = (t: number) => (cov && t >= 0 && slot[t]! >= 0 ? Math.sqrt(Math.max(cov[slot[t]!]![slot[t]!]!, 0)) : null);
  return parameterRows(L, m, theta, tauFlat).map(({ index, ...row }) => {
    const e = se(index);
    // σ = √ν: the delta method
    if (row.derived) return { ...row, se: e === null ? null : e / (2 * row.estimate) };
    return { ...row, se: e };
  });
}

/** A number of the standard-error tables: 6 significant digits, exponent form outside [1e-3, 1e6). */
export function formatSeNumber(v: number): string {
  return v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6 ? v.toPrecision(6) : v.toExponential(4);
}

/** Rows of cells as aligned text lines: the first column left-aligned, the others right-aligned. */
export function alignColumns(head: string[], body: string[][]): string[] {
  const w = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...body.map(line)];
}

/** The rows as an aligned text table, then the notes (for the CLI). */
export function formatStandardErrors(r: StandardErrors): string {
  const fmt = formatSeNumber;
  const body = r.rows.map((row) => [
    row.param,
    fmt(row.estimate),
    row.se !== null ? fmt(row.se) : row.fixed ? 'fixed' : '—',
    row.se !== null && row.se > 0 ? (row.estimate / row.se).toFixed(2) : '',
  ]);
  const head = ['parameter', 'estimate', 'std. error', 'z'];
  const out = [
    `standard errors (inverse observed information, n = ${r.n}, status ${r.status}):`,
    ...alignColumns(head, body),
  ];
  for (const note of r.notes) out.push(`note: ${note}`);
  return `${out.join('\n')}\n`;
}

/** |mean| / sd of an x column beyond which its slopes and the intercepts are confounded in floating point. */
export const FAR_FROM_ZERO = 1e3;

/**
 * A hint for a singular information: x columns whose mean is far from 0 against their spread (a year,
 * a 1e6 offset) make each slope and its intercept nearly collinear, numerically singular at ≈ 1e5.
 */
function farFromZero(data: Dataset): string {
  const far = columnMeanSd(data.X, data.n, data.d).flatMap(({ mean, sd }, l) =>
    Math.abs(mean) / sd > FAR_FROM_ZERO ? [`x${l + 1} (mean ${mean.toPrecision(3)}, sd ${sd.toPrecision(3)})`] : [],
  );
  return far.length === 0
    ? ''
    : `; here also ${far.join(', ')} lies far from 0 against its spread, which confounds its slopes with the intercepts in floating point: centre it (x − mean) and refit`;
}
