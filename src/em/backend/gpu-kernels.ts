/**
 * Kernel sources of the gpu.js backend, generated per shape: the chunk length c, k, d, the
 * reduction block B and the gate configuration are baked in as literals, so every loop has a
 * constant bound (GLSL ES 1.0 needs one) and no scalar argument can change type between calls
 * (gpu.js would recompile). Parameters travel as small Float32Array arguments.
 *
 * Every intermediate is wrapped in Math.fround: gpu.js maps it to the identity on GL and WebGPU
 * (where arithmetic is float32 anyway), while its CPU mode then rounds like float32 arithmetic,
 * so the parity tests that run in CPU mode see float32 rounding, not float64 with float32 output.
 *
 * Data are centred on the host (x − x̄, y − ȳ in Float64, then rounded), and every parameter that
 * meets them is shifted accordingly in Float64 on the host, which keeps float32 cancellation at
 * the scale of the data's spread rather than its offset.
 *
 * Layouts (row-major, one output value per gpu.js thread):
 * - gate:  X (c × d), G (gate parameters, see gateParamStride), [M (c × k mask, 1 = active)]
 *          → 2ck values: log π (c × k) then π (c × k); 0 for inactive experts.
 * - estep: X, Y (c), LP (c × k log π, inactive = LOGPI_INACTIVE), E (k × (d + 3))
 *          → c × (k + 2): responsibilities r_i0..r_i,k−1, log p(y_i | x_i), its condition κ_i.
 * - loglik: as estep → c × 2: log p(y_i | x_i), κ_i.
 * - mom1:  X, Y, R (c × k) → nb × k × (d + 2) block sums of r, r·y, r·x_a.
 * - mom2:  X, Y, R, MN (k × (d + 1) centred means of x then y), PI (pairs) → nb × k × (d(d+1)/2 + d)
 *          block sums of r(x_a − m_a)(x_b − m_b), a ≤ b, then r(x_a − m_a)(y − m_y).
 * - res:   X, Y, R, E → nb × k block sums of r (y − a·x − b)².
 * with nb = ceil(c / B) blocks of B samples.
 */
import type { ActivationDescriptor } from '../../math/activations.js';
import { getGate } from '../../models/gates/index.js';
import type { GateSpec } from '../../models/types.js';

/** log π of an inactive top-K expert, as sent to the device (−Infinity is not portable in GLSL). */
export const LOGPI_INACTIVE = -1e30;
/** Device output meaning "no expert gives this sample a finite density". */
export const NO_DENSITY = -3e38;
/** Anything at or below this on the way back means −Infinity. */
export const NO_DENSITY_THRESHOLD = -1e29;

/** How the gate's logits are computed on the device. */
export interface GateCode {
  /** 'linear': s = c0 + β·x (softmax, top-K, temperature); else s = σ(sh + β1·x)/τ + b0 */
  act: 'linear' | ActivationDescriptor;
  /** floats per expert in G */
  stride: number;
  /** cache key */
  key: string;
}

/**
 * The device form of a gate (temperature is linear once 1/τ is folded into the slopes), or null
 * when its activation has no device source (the gate pass then runs on the CPU).
 */
export function gateCode(spec: GateSpec, d: number): GateCode | null {
  const a = getGate(spec).activation?.(spec);
  if (a === undefined || a.act.linear) return { act: 'linear', stride: d + 1, key: 'linear' };
  if (!a.act.gpu) return null;
  return { act: a.act, stride: d + 2, key: `act-${a.act.name}` };
}

/** Length of the G argument: k experts × stride (+ 1/τ for activation gates). */
export function gateParamLength(code: GateCode, k: number): number {
  return code.act === 'linear' ? k * code.stride : k * code.stride + 1;
}

/** Floats per expert in E: b′, a (d), −½log(2πν), −1/(2ν). */
export function expertStride(d: number): number {
  return d + 3;
}

const F = (e: string): string => `Math.fround(${e})`;

/**
 * Statements setting q = floor(t / W) and r = t − qW exactly. The float division may be off by
 * a few ulps on a GPU (GLSL allows 2.5), which near 2^22 / W is more than the margin of
 * floor((t + ½)/W); one correction step each way makes it exact, since every product and
 * comparison involves integers below 2^24, exact in float32.
 */
function divmod(t: string, W: number, q: string, r: string): string {
  if (W === 1) return `var ${q} = ${t};\n  var ${r} = 0.0;`;
  return `var ${q} = Math.floor((${t} + 0.5) / ${W});
  if (${q} * ${W} > ${t}) { ${q} = ${q} - 1.0; }
  if ((${q} + 1.0) * ${W} <= ${t}) { ${q} = ${q} + 1.0; }
  var ${r} = ${t} - ${q} * ${W};`;
}

/** Statements that set `s` to expert l's logit at sample i. */
function logitCode(code: GateCode, k: number, d: number): string {
  const S = code.stride;
  if (code.act === 'linear') {
    return `var s = G[l * ${S}];
    for (var a = 0; a < ${d}; a++) { s = ${F(`s + ${F(`G[l * ${S} + 1 + a] * X[i * ${d} + a]`)}`)}; }`;
  }
  // the activation's own float32 source (src/math/activation/*)
  const act = code.act.gpu!(F);
  return `var u = G[l * ${S}];
    for (var a = 0; a < ${d}; a++) { u = ${F(`u + ${F(`G[l * ${S} + 1 + a] * X[i * ${d} + a]`)}`)}; }
    ${act}
    var s = ${F(`${F(`sg * G[${k * S}]`)} + G[l * ${S} + ${d + 1}]`)};`;
}

/** gate: log π and π for c samples. */
export function gateSource(code: GateCode, c: number, k: number, d: number, masked: boolean): string {
  const ck = c * k;
  const active = (idx: string) => (masked ? `M[${idx}] > 0.5` : 'true');
  const logit = logitCode(code, k, d);
  return `function gate(X, G${masked ? ', M' : ''}) {
  var t = this.thread.x;
  var e = t;
  var half = 0.0;
  if (t >= ${ck}) { e = t - ${ck}; half = 1.0; }
  ${divmod('e', k, 'i', 'j')}
  var mx = -3.0e38;
  var sj = 0.0;
  for (var l = 0; l < ${k}; l++) {
    ${logit}
    if (${active(`i * ${k} + l`)}) { if (s > mx) { mx = s; } }
    if (l == j) { sj = s; }
  }
  var sum = 0.0;
  for (var l = 0; l < ${k}; l++) {
    ${logit}
    if (${active(`i * ${k} + l`)}) { sum = ${F(`sum + ${F(`Math.exp(${F('s - mx')})`)}`)}; }
  }
  ${masked ? `if (M[i * ${k} + j] < 0.5) { return 0.0; }` : ''}
  var lp = ${F(`${F('sj - mx')} - ${F('Math.log(sum)')}`)};
  if (half > 0.5) { return ${F('Math.exp(lp)')}; }
  return lp;
}`;
}

/** Statements that set `v` to log π_il + log N(y_i; a_l·x_i + b_l, ν_l) and `r` to the residual. */
function expertCode(d: number, k: number): string {
  const S = expertStride(d);
  return `var mu = E[l * ${S}];
    for (var a = 0; a < ${d}; a++) { mu = ${F(`mu + ${F(`E[l * ${S} + 1 + a] * X[i * ${d} + a]`)}`)}; }
    var r = ${F('Y[i] - mu')};
    var v = ${F(`${F(`LP[i * ${k} + l] + E[l * ${S} + ${d + 1}]`)} + ${F(`E[l * ${S} + ${d + 2}] * ${F('r * r')}`)}`)};`;
}

/**
 * estep (withResp) or loglik: responsibilities, per-sample log-likelihood and its rounding
 * condition κ_i. A first-order analysis of the float32 evaluation (unit roundoff u) gives
 * |δ log p_i| ≲ u·κ_i with
 *   κ_i = Σ_l r_il w_il + |log p_i| + k + 5,
 *   w_il = |log π_il| + |c_l| + 3|h_l| e² + 2|h_l||e|(|y_i| + |e| + (d + 1)M_il),
 * where e = y_i − μ_il is the residual, c_l = −½log(2πν_l), h_l = −1/(2ν_l), M_il = |b′_l| + Σ|a_l·x_i|
 * bounds the rounding of μ_il, and k + 5 covers exp, the sum and log (GLSL allows 3 ulp for each).
 * The cancellation in y − μ is the term 2|h||e||y|: it dominates when the residual is small
 * against the (centred) response.
 */
export function estepSource(c: number, k: number, d: number, withResp: boolean): string {
  const row = withResp ? k + 2 : 2;
  const S = expertStride(d);
  const ex = expertCode(d, k);
  return `function estep(X, Y, LP, E) {
  var t = this.thread.x;
  ${divmod('t', row, 'i', 'j0')}
  var j = ${withResp ? 'j0' : `j0 + ${k}`};
  var mx = -3.0e38;
  var vj = 0.0;
  for (var l = 0; l < ${k}; l++) {
    ${ex}
    if (v > mx) { mx = v; }
    if (l == j) { vj = v; }
  }
  if (mx < ${NO_DENSITY_THRESHOLD.toExponential()}) { return ${NO_DENSITY.toExponential()}; }
  var sum = 0.0;
  var kap = 0.0;
  for (var l = 0; l < ${k}; l++) {
    ${ex}
    var ev = ${F(`Math.exp(${F('v - mx')})`)};
    sum = ${F('sum + ev')};
    if (j > ${k + 0.5}) {
      var mabs = Math.abs(E[l * ${S}]);
      for (var a = 0; a < ${d}; a++) { mabs = mabs + Math.abs(E[l * ${S} + 1 + a] * X[i * ${d} + a]); }
      var h = Math.abs(E[l * ${S} + ${d + 2}]);
      var ar = Math.abs(r);
      var w = Math.abs(LP[i * ${k} + l]) + Math.abs(E[l * ${S} + ${d + 1}]) + 3.0 * h * ar * ar + 2.0 * h * ar * (Math.abs(Y[i]) + ar + ${d + 1}.0 * mabs);
      kap = kap + ev * w;
    }
  }
  var ll = ${F(`mx + ${F('Math.log(sum)')}`)};
  if (j > ${k + 0.5}) { return kap / sum + Math.abs(ll) + ${k + 5}.0; }
  if (j > ${k - 0.5}) { return ll; }
  return ${F(`${F(`Math.exp(${F('vj - mx')})`)} / sum`)};
}`;
}

/** The block/expert/statistic index decoding shared by the reduction kernels. */
function blockHeader(k: number, S: number): string {
  return `var t = this.thread.x;
  ${divmod('t', k * S, 'b', 'rem')}
  ${divmod('rem', S, 'j', 's')}`;
}

/** mom1: block sums of r, r·y, r·x_a per expert. */
export function mom1Source(c: number, k: number, d: number, B: number): string {
  return `function mom1(X, Y, R) {
  ${blockHeader(k, d + 2)}
  var acc = 0.0;
  for (var q = 0; q < ${B}; q++) {
    var i = b * ${B} + q;
    if (i < ${c}) {
      var f = 1.0;
      if (s > 0.5) { f = Y[i]; }
      if (s > 1.5) { f = X[i * ${d} + s - 2]; }
      acc = ${F(`acc + ${F(`R[i * ${k} + j] * f`)}`)};
    }
  }
  return acc;
}`;
}

/** Number of centred cross-products per expert in mom2: d(d+1)/2 for x·x, then d for x·y. */
export function mom2Stats(d: number): number {
  return (d * (d + 1)) / 2 + d;
}

/** PI for mom2: pairs (a, b) with b = d meaning y. */
export function mom2Pairs(d: number): Float32Array {
  const S = mom2Stats(d);
  const out = new Float32Array(2 * S);
  let s = 0;
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++, s++) {
      out[2 * s] = a;
      out[2 * s + 1] = b;
    }
  for (let a = 0; a < d; a++, s++) {
    out[2 * s] = a;
    out[2 * s + 1] = d;
  }
  return out;
}

/** mom2: block sums of centred cross-products per expert. */
export function mom2Source(c: number, k: number, d: number, B: number): string {
  return `function mom2(X, Y, R, MN, PI) {
  ${blockHeader(k, mom2Stats(d))}
  var pa = PI[2 * s];
  var pb = PI[2 * s + 1];
  var ma = MN[j * ${d + 1} + pa];
  var mb = MN[j * ${d + 1} + pb];
  var acc = 0.0;
  for (var q = 0; q < ${B}; q++) {
    var i = b * ${B} + q;
    if (i < ${c}) {
      var fa = ${F(`X[i * ${d} + pa] - ma`)};
      var fb = 0.0;
      if (pb > ${d - 0.5}) { fb = ${F('Y[i] - mb')}; } else { fb = ${F(`X[i * ${d} + pb] - mb`)}; }
      acc = ${F(`acc + ${F(`${F(`R[i * ${k} + j] * fa`)} * fb`)}`)};
    }
  }
  return acc;
}`;
}

/** res: block sums of r (y − a·x − b)² per expert. */
export function resSource(c: number, k: number, d: number, B: number): string {
  const S = expertStride(d);
  return `function res(X, Y, R, E) {
  var t = this.thread.x;
  ${divmod('t', k, 'b', 'j')}
  var acc = 0.0;
  for (var q = 0; q < ${B}; q++) {
    var i = b * ${B} + q;
    if (i < ${c}) {
      var mu = E[j * ${S}];
      for (var a = 0; a < ${d}; a++) { mu = ${F(`mu + ${F(`E[j * ${S} + 1 + a] * X[i * ${d} + a]`)}`)}; }
      var r = ${F('Y[i] - mu')};
      acc = ${F(`acc + ${F(`R[i * ${k} + j] * ${F('r * r')}`)}`)};
    }
  }
  return acc;
}`;
}
