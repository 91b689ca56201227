/**
 * Parity of the gpu.js backend with the Float64 CPU backend, run through gpu.js's CPU mode (forced
 * explicitly, so the result does not depend on the machine): the same kernel sources, with float32
 * rounding emulated by Math.fround at every step.
 *
 * Every tolerance is a first-order float32 error bound derived for the computation the kernels do
 * (u = 2^-24; every operation adds at most u relative; exp and log may add 3 ulp + 2|x| ulp as GLSL
 * allows), evaluated here in Float64 from the model and the data — never a fixed number.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createCpuBackend, createGpuBackend, expertMoments, type Backend } from '../../src/em/backend/index.js';
import { fitMoE } from '../../src/em/fit.js';
import { cholesky, choleskySolve } from '../../src/em/optim/linalg.js';
import { activate, activateDeriv, type Activation } from '../../src/math/activations.js';
import { cloneModel, type Dataset, type GateSpec, type Model } from '../../src/models/types.js';
import { simulate } from '../../src/models/sample.js';
import { truthPreset, withGate } from '../../src/models/presets.js';

const U = 2 ** -24;
const LOG_2PI = Math.log(2 * Math.PI);

// small chunks and blocks, so that every run crosses chunk boundaries and ends in a partial block
const gpu = createGpuBackend({ mode: 'cpu', maxChunk: 96, blockSize: 8 });
const cpu = createCpuBackend();
afterAll(() => gpu.destroy());

function mean(v: Float64Array, n: number, d: number, a: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += v[i * d + a]!;
  return s / n;
}

/** Centring the kernels use (documented in gpu.ts): x − x̄, y − ȳ. */
function centred(data: Dataset): { xc: Float64Array; yc: Float64Array; mx: Float64Array; my: number } {
  const { X, y, n, d } = data;
  const mx = new Float64Array(d);
  for (let a = 0; a < d; a++) mx[a] = mean(X, n, d, a);
  const my = mean(y, n, 1, 0);
  const xc = new Float64Array(n * d);
  const yc = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) xc[i * d + a] = X[i * d + a]! - mx[a]!;
    yc[i] = y[i]! - my;
  }
  return { xc, yc, mx, my };
}

/**
 * Float32 error bound of each logit s_il (n × k): the rounding of the centred dot product
 * ((d + 2) roundings of its largest partial sum), of the activation (propagated through σ′, plus
 * its own ~8 operations and, for gelu, the 1.5e-7 of the erfc approximation), of 1/τ and of β0.
 */
function logitBounds(m: Model, data: Dataset): { s: Float64Array; sig: Float64Array } {
  const { n, d } = data;
  const { k, beta0, beta1, tau, gate } = m;
  const { xc, mx } = centred(data);
  const s = new Float64Array(n * k);
  const sig = new Float64Array(n * k);
  const act: Activation = gate.kind === 'activation' ? gate.activation : 'identity';
  const inside = gate.kind === 'activation' && gate.bias === 'inside';
  const it = gate.kind === 'temperature' || gate.kind === 'activation' ? 1 / tau : 1;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let sh = 0;
      for (let a = 0; a < d; a++) sh += beta1[j * d + a]! * mx[a]!;
      let dot = 0;
      let mag = 0;
      for (let a = 0; a < d; a++) {
        const t = beta1[j * d + a]! * xc[i * d + a]!;
        dot += t;
        mag += Math.abs(t);
      }
      const o = i * k + j;
      if (act === 'identity') {
        const c0 = inside ? (beta0[j]! + sh) * it : beta0[j]! + sh * it;
        s[o] = c0 + dot * it;
        sig[o] = (d + 3) * U * (Math.abs(c0) + mag * it) + U * Math.abs(s[o]!);
      } else {
        const u = (inside ? sh + beta0[j]! : sh) + dot;
        const su = (d + 3) * U * (Math.abs(inside ? sh + beta0[j]! : sh) + mag);
        const sv = activate(act, u);
        const approx = act === 'gelu' ? 0.5 * Math.abs(u) * 1.5e-7 * 2 : 0;
        const sAct = Math.abs(activateDeriv(act, u)) * su + 12 * U * (Math.abs(sv) + Math.abs(u) + 1) + approx;
        const b0 = inside ? 0 : beta0[j]!;
        s[o] = sv * it + b0;
        sig[o] = sAct * it + 3 * U * (Math.abs(sv * it) + Math.abs(b0) + Math.abs(s[o]!));
      }
    }
  }
  return { s, sig };
}

/** Bounds on log π and π from the logit bounds (first order: δlog π_j = δs_j − Σ_l π_l δs_l, plus the log-sum-exp's own roundings). */
function gateBounds(m: Model, data: Dataset, mask: Uint8Array | null): { lp: Float64Array; pi: Float64Array } {
  const { n } = data;
  const k = m.k;
  const { s, sig } = logitBounds(m, data);
  const lp = new Float64Array(n * k);
  const pi = new Float64Array(n * k);
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) if (!mask || mask[o + j]) mx = Math.max(mx, s[o + j]!);
    let sum = 0;
    for (let j = 0; j < k; j++) if (!mask || mask[o + j]) sum += Math.exp(s[o + j]! - mx);
    let avg = 0;
    for (let j = 0; j < k; j++) if (!mask || mask[o + j]) avg += (Math.exp(s[o + j]! - mx) / sum) * sig[o + j]!;
    for (let j = 0; j < k; j++) {
      if (mask && !mask[o + j]) continue;
      const l = s[o + j]! - mx - Math.log(sum);
      lp[o + j] = sig[o + j]! + avg + U * (k + 8 + 2 * Math.abs(s[o + j]! - mx) + 2 * Math.abs(l)) + 2 ** -21;
      pi[o + j] = Math.exp(l) * (lp[o + j]! + U * (4 + 2 * Math.abs(l)));
    }
  }
  return { lp, pi };
}

/**
 * The E-step's bounds (the formula the kernel's κ_i implements, derived in gpu-kernels.ts):
 * |δ log p_i| ≤ u κ_i with κ_i = Σ_l r_il w_il + |log p_i| + k + 5, and
 * |δ r_ij| ≤ u r_ij (w_ij + κ_i + 4 + 2|v_ij − max_l v_il|) (+ the float32 underflow floor).
 */
function eStepBounds(
  m: Model,
  data: Dataset,
  logPi: Float64Array,
  resp: Float64Array,
  ll: Float64Array,
): { kappa: Float64Array; r: Float64Array } {
  const { n, d, X, y } = data;
  const { k, a, b, nu } = m;
  const { xc, yc, mx, my } = centred(data);
  const kappa = new Float64Array(n);
  const r = new Float64Array(n * k);
  const w = new Float64Array(k);
  const v = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    let vmax = -Infinity;
    let kap = 0;
    for (let j = 0; j < k; j++) {
      let bj = b[j]! - my;
      let M = 0;
      let mu = b[j]!;
      for (let l = 0; l < d; l++) {
        bj += a[j * d + l]! * mx[l]!;
        M += Math.abs(a[j * d + l]! * xc[i * d + l]!);
        mu += a[j * d + l]! * X[i * d + l]!;
      }
      M += Math.abs(bj);
      const e = y[i]! - mu;
      const h = 0.5 / nu[j]!;
      const c = -0.5 * (LOG_2PI + Math.log(nu[j]!));
      const lpi = logPi[i * k + j]!;
      v[j] = lpi - h * e * e + c;
      vmax = Math.max(vmax, v[j]!);
      w[j] =
        (lpi === -Infinity ? 0 : Math.abs(lpi)) +
        Math.abs(c) +
        3 * h * e * e +
        2 * h * Math.abs(e) * (Math.abs(yc[i]!) + Math.abs(e) + (d + 1) * M);
      kap += resp[i * k + j]! * w[j]!;
    }
    kappa[i] = kap + Math.abs(ll[i]!) + k + 5;
    for (let j = 0; j < k; j++) {
      const o = i * k + j;
      r[o] = v[j] === -Infinity ? 0 : U * resp[o]! * (w[j]! + kappa[i]! + 4 + 2 * (vmax - v[j]!)) + 2 ** -126;
    }
  }
  return { kappa, r };
}

/** Per-sample log-likelihoods in Float64 (the reference for the bounds). */
function perSampleLogLik(m: Model, data: Dataset, logPi: Float64Array): Float64Array {
  const { n, d, X, y } = data;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    const v = new Float64Array(m.k);
    for (let j = 0; j < m.k; j++) {
      let mu = m.b[j]!;
      for (let l = 0; l < d; l++) mu += m.a[j * d + l]! * X[i * d + l]!;
      v[j] = logPi[i * m.k + j]! - 0.5 * (LOG_2PI + Math.log(m.nu[j]!)) - (0.5 * (y[i]! - mu) ** 2) / m.nu[j]!;
      mx = Math.max(mx, v[j]!);
    }
    let s = 0;
    for (let j = 0; j < m.k; j++) s += Math.exp(v[j]! - mx);
    out[i] = mx + Math.log(s);
  }
  return out;
}

function expectWithin(got: Float64Array, want: Float64Array, bound: Float64Array, what: string): void {
  let worst = 0;
  let at = -1;
  for (let t = 0; t < want.length; t++) {
    if (got[t] === want[t]) continue; // also −∞ and the zeros of inactive experts
    const ratio = Math.abs(got[t]! - want[t]!) / bound[t]!;
    if (!(ratio <= worst)) {
      worst = ratio;
      at = t;
    }
  }
  expect(worst, `${what}[${at}]: ${got[at]} vs ${want[at]} (bound ${bound[at]})`).toBeLessThanOrEqual(1);
}

const demy = truthPreset('demy');
const tanhTruth = truthPreset('temp-tanh');
const act = (activation: Activation, bias: 'outside' | 'inside' = 'outside'): Model =>
  withGate(tanhTruth, { kind: 'activation', activation, bias }, 0.8);
/** The demy truth with x shifted by +1000 and y by +1e4 (same model on the shifted data): float32 without centring would lose ~4 digits. */
function shifted(): { m: Model; data: Dataset } {
  const data = simulate(demy, { n: 300, seed: 17 });
  const X = data.X.map((x) => x + 1000);
  const y = data.y.map((v) => v + 1e4);
  const m = cloneModel(demy);
  for (let j = 0; j < m.k; j++) {
    m.beta0[j] = m.beta0[j]! - 1000 * m.beta1[j]!;
    m.b[j] = m.b[j]! - 1000 * m.a[j]! + 1e4;
  }
  return { m, data: { n: data.n, d: 1, X, y } };
}

const cases: { name: string; m: Model; data: Dataset }[] = [
  { name: 'softmax (demy)', m: demy, data: simulate(demy, { n: 300, seed: 11 }) },
  { name: 'softmax d = 2', m: truthPreset('d2'), data: simulate(truthPreset('d2'), { n: 300, seed: 12 }) },
  { name: 'softmax k = 3', m: truthPreset('k3'), data: simulate(truthPreset('k3'), { n: 300, seed: 13 }) },
  {
    name: 'temperature τ = 0.7',
    m: withGate(demy, { kind: 'temperature' }, 0.7),
    data: simulate(demy, { n: 300, seed: 14 }),
  },
  { name: 'activation tanh', m: tanhTruth, data: simulate(tanhTruth, { n: 300, seed: 15 }) },
  {
    name: 'activation sigmoid',
    m: truthPreset('temp-sigmoid'),
    data: simulate(truthPreset('temp-sigmoid'), { n: 300, seed: 16 }),
  },
  { name: 'activation gelu', m: act('gelu'), data: simulate(act('gelu'), { n: 300, seed: 18 }) },
  { name: 'activation relu', m: act('relu'), data: simulate(act('relu'), { n: 300, seed: 19 }) },
  { name: 'activation softplus', m: act('softplus'), data: simulate(act('softplus'), { n: 300, seed: 22 }) },
  {
    name: 'activation tanh, bias inside',
    m: act('tanh', 'inside'),
    data: simulate(act('tanh', 'inside'), { n: 300, seed: 20 }),
  },
  {
    name: 'activation identity, bias inside',
    m: act('identity', 'inside'),
    data: simulate(act('identity', 'inside'), { n: 300, seed: 21 }),
  },
  { name: 'data offset by 1e3 (x) and 1e4 (y)', ...shifted() },
];

function runGate(
  be: Backend,
  m: Model,
  data: Dataset,
  mask: Uint8Array | null,
  mode: 'none' | 'compute' | 'fixed',
  resp?: Float64Array,
) {
  const nk = data.n * m.k;
  const logPi = new Float64Array(nk);
  const pi = new Float64Array(nk);
  const q = be.gateProbs(m, data.X, data.n, logPi, pi, mask, mode, resp);
  return { logPi, pi, q };
}

describe('gpu backend (gpu.js CPU mode) against the CPU backend', () => {
  it('runs gpu.js in its CPU mode, as asked', () => {
    expect(gpu.gpuJsMode).toBe('cpu');
    expect(gpu.name).toBe('gpu');
  });

  for (const { name, m, data } of cases) {
    it(`gate probabilities within the float32 bound: ${name}`, () => {
      const want = runGate(cpu, m, data, null, 'none');
      const got = runGate(gpu, m, data, null, 'none');
      const bound = gateBounds(m, data, null);
      expectWithin(got.logPi, want.logPi, bound.lp, 'log π');
      expectWithin(got.pi, want.pi, bound.pi, 'π');
    });

    it(`E-step, log-likelihood and sufficient statistics within the float32 bound: ${name}`, () => {
      const { n, d } = data;
      const k = m.k;
      const { logPi } = runGate(cpu, m, data, null, 'none');
      const rWant = new Float64Array(n * k);
      const rGot = new Float64Array(n * k);
      const llWant = cpu.eStep(m, data.X, data.y, n, logPi, rWant);
      const llGot = gpu.eStep(m, data.X, data.y, n, logPi, rGot);
      const llOnly = gpu.logLik(m, data.X, data.y, n, logPi);
      const per = perSampleLogLik(m, data, logPi);
      const { kappa, r } = eStepBounds(m, data, logPi, rWant, per);
      let kapSum = 0;
      let kap2 = 0;
      for (let i = 0; i < n; i++) {
        kapSum += kappa[i]!;
        kap2 += kappa[i]! ** 2;
      }
      expect(Math.abs(llGot - llWant)).toBeLessThanOrEqual(U * kapSum);
      expect(llOnly).toBe(llGot);
      // the resolution the EM loop reads: 2u·sqrt(Σκ²) from the device's own κ (computed in float32)
      expect(gpu.logLikResolution!() / (2 * U * Math.sqrt(kap2))).toBeCloseTo(1, 3);
      expectWithin(rGot, rWant, r, 'r');

      // sufficient statistics from the same (Float64) responsibilities
      const B = 8;
      const mw = expertMoments(k, d);
      const mg = expertMoments(k, d);
      cpu.expertMoments(data.X, data.y, n, d, k, rWant, mw);
      gpu.expertMoments(data.X, data.y, n, d, k, rWant, mg);
      const { xc, yc, mx, my } = centred(data);
      for (let j = 0; j < k; j++) {
        let N = 0;
        let sy = 0;
        const sx = new Float64Array(d);
        for (let i = 0; i < n; i++) {
          const w = rWant[i * k + j]!;
          N += w;
          sy += w * Math.abs(yc[i]!);
          for (let a = 0; a < d; a++) sx[a] = sx[a]! + w * Math.abs(xc[i * d + a]!);
        }
        const eN = (B + 2) * U * N;
        expect(Math.abs(mg.N[j]! - mw.N[j]!)).toBeLessThanOrEqual(eN);
        // a centred mean: block-sum error of Σ r|·| over N, plus the relative error of N
        const cy = mw.ybar[j]! - my;
        const ey = ((B + 3) * U * sy + Math.abs(cy) * eN) / N;
        expect(Math.abs(mg.ybar[j]! - mw.ybar[j]!)).toBeLessThanOrEqual(ey + U * Math.abs(my));
        const ex = new Float64Array(d);
        for (let a = 0; a < d; a++) {
          const ca = mw.xbar[j * d + a]! - mx[a]!;
          ex[a] = ((B + 3) * U * sx[a]! + Math.abs(ca) * eN) / N;
          expect(Math.abs(mg.xbar[j * d + a]! - mw.xbar[j * d + a]!)).toBeLessThanOrEqual(
            ex[a]! + U * Math.abs(mx[a]!),
          );
        }
        // centred cross-products: (B + 6) roundings of Σ r(|x_a| + |m_a|)(|x_b| + |m_b|), and the
        // second-order effect N·δm_a·δm_b of centring at a slightly wrong mean
        const em = Array.from({ length: d + 1 }, (_, a) =>
          a < d ? ex[a]! + U * Math.abs(mw.xbar[j * d + a]! - mx[a]!) : ey + U * Math.abs(cy),
        );
        const cm = Array.from({ length: d + 1 }, (_, a) => (a < d ? mw.xbar[j * d + a]! - mx[a]! : cy));
        const col = (i: number, a: number) => (a < d ? xc[i * d + a]! : yc[i]!);
        const pairBound = (a: number, c: number) => {
          let s = 0;
          for (let i = 0; i < n; i++)
            s +=
              rWant[i * k + j]! * (Math.abs(col(i, a)) + Math.abs(cm[a]!)) * (Math.abs(col(i, c)) + Math.abs(cm[c]!));
          return (B + 6) * U * s + N * (em[a]! + 2 * U * Math.abs(cm[a]!)) * (em[c]! + 2 * U * Math.abs(cm[c]!));
        };
        for (let a = 0; a < d; a++) {
          for (let c = 0; c < d; c++)
            expect(Math.abs(mg.Sxx[j * d * d + a * d + c]! - mw.Sxx[j * d * d + a * d + c]!)).toBeLessThanOrEqual(
              pairBound(a, c),
            );
          expect(Math.abs(mg.Sxy[j * d + a]! - mw.Sxy[j * d + a]!)).toBeLessThanOrEqual(pairBound(a, d));
        }
      }

      // Σ r (y − a·x − b)²: the residual's cancellation (as in w_ij) plus the block sums
      const rsW = new Float64Array(k);
      const rsG = new Float64Array(k);
      cpu.expertResiduals(m, data.X, data.y, n, rWant, rsW);
      gpu.expertResiduals(m, data.X, data.y, n, rWant, rsG);
      for (let j = 0; j < k; j++) {
        let bound = 0;
        for (let i = 0; i < n; i++) {
          let mu = m.b[j]!;
          let M = Math.abs(m.b[j]! - my);
          for (let l = 0; l < d; l++) {
            mu += m.a[j * d + l]! * data.X[i * d + l]!;
            M += Math.abs(m.a[j * d + l]! * (xc[i * d + l]! + mx[l]!));
          }
          const e = data.y[i]! - mu;
          bound +=
            rWant[i * k + j]! *
            ((B + 3) * U * e * e + 2 * U * Math.abs(e) * (Math.abs(yc[i]!) + Math.abs(e) + (d + 1) * M));
        }
        expect(Math.abs(rsG[j]! - rsW[j]!)).toBeLessThanOrEqual(bound);
      }
    });
  }

  it('top-K: the active sets are identical (Float64 ranking), probabilities within bound, Q as the CPU', () => {
    for (const [m, data] of [
      [truthPreset('topk1'), simulate(truthPreset('topk1'), { n: 300, seed: 31 })],
      [
        withGate(truthPreset('k3'), { kind: 'topk', K: 2, selectOn: 'slope' }),
        simulate(truthPreset('k3'), { n: 300, seed: 32 }),
      ],
    ] as [Model, Dataset][]) {
      const nk = data.n * m.k;
      const maskW = new Uint8Array(nk);
      const maskG = new Uint8Array(nk);
      const want = runGate(cpu, m, data, maskW, 'compute');
      const got = runGate(gpu, m, data, maskG, 'compute');
      expect(Array.from(maskG)).toEqual(Array.from(maskW));
      const bound = gateBounds(m, data, maskW);
      for (let t = 0; t < nk; t++)
        if (!maskW[t]) {
          expect(got.logPi[t]).toBe(-Infinity);
          expect(got.pi[t]).toBe(0);
        }
      expectWithin(got.logPi, want.logPi, bound.lp, 'log π');
      expectWithin(got.pi, want.pi, bound.pi, 'π');
      // fixed mask, with Q accumulated in the same pass: Q = Σ r log π, so |δQ| ≤ Σ r |δ log π|
      const resp = new Float64Array(nk);
      cpu.eStep(m, data.X, data.y, data.n, want.logPi, resp);
      const qW = runGate(cpu, m, data, maskW, 'fixed', resp).q;
      const qG = runGate(gpu, m, data, maskW, 'fixed', resp).q;
      let qBound = 0;
      for (let t = 0; t < nk; t++) if (maskW[t]) qBound += resp[t]! * bound.lp[t]!;
      expect(Math.abs(qG - qW)).toBeLessThanOrEqual(qBound);
      // a responsibility on an inactive expert makes Q −∞, as on the CPU
      const off = maskW.indexOf(0);
      resp[off] = 0.5;
      expect(runGate(gpu, m, data, maskW, 'fixed', resp).q).toBe(-Infinity);
    }
  });

  it('returns −Infinity and NaN responsibilities for a sample without finite density, like the CPU', () => {
    const data = simulate(demy, { n: 50, seed: 41 });
    const { logPi } = runGate(cpu, demy, data, null, 'none');
    logPi[7 * 2] = -Infinity;
    logPi[7 * 2 + 1] = -Infinity;
    const rW = new Float64Array(100);
    const rG = new Float64Array(100);
    expect(cpu.eStep(demy, data.X, data.y, 50, logPi, rW)).toBe(-Infinity);
    expect(gpu.eStep(demy, data.X, data.y, 50, logPi, rG)).toBe(-Infinity);
    expect(Number.isNaN(rG[14]!) && Number.isNaN(rG[15]!)).toBe(true);
    expect(gpu.logLik(demy, data.X, data.y, 50, logPi)).toBe(-Infinity);
  });

  it('keeps at most 64 kernels, releasing the least recently used shape', () => {
    const be = createGpuBackend({ mode: 'cpu' });
    const data = simulate(demy, { n: 80, seed: 43 });
    const logPi = new Float64Array(160);
    for (let n = 1; n <= 70; n++) {
      be.logLik(demy, data.X.subarray(0, n), data.y.subarray(0, n), n, logPi.subarray(0, 2 * n));
    }
    const st = be.stats();
    expect(st.kernelsBuilt).toBe(70);
    expect(st.keys.length).toBe(64);
    expect(st.keys[0]).toBe('loglik|c=7|k=2|d=1');
    expect(st.keys.at(-1)).toBe('loglik|c=70|k=2|d=1');
    be.destroy();
  });

  it('hands inputs outside float32 range to the CPU backend (same results exactly)', () => {
    const data = simulate(demy, { n: 50, seed: 42 });
    const m = cloneModel(demy);
    m.nu[0] = 1e-40; // 1/(2ν) overflows float32
    const { logPi } = runGate(cpu, m, data, null, 'none');
    const before = gpu.stats().cpuDelegations;
    const rW = new Float64Array(100);
    const rG = new Float64Array(100);
    expect(gpu.eStep(m, data.X, data.y, 50, logPi, rG)).toBe(cpu.eStep(m, data.X, data.y, 50, logPi, rW));
    expect(Array.from(rG)).toEqual(Array.from(rW));
    expect(gpu.logLikResolution!()).toBe(0);
    const big = cloneModel(demy);
    big.beta1[0] = 1e31;
    const w = runGate(cpu, big, data, null, 'none');
    const g = runGate(gpu, big, data, null, 'none');
    expect(Array.from(g.logPi)).toEqual(Array.from(w.logPi));
    expect(gpu.stats().cpuDelegations).toBe(before + 2);
  });
});

/** Free parameters of a softmax fit with the last expert's gate fixed at 0: [β0_j, β1_j (j < k−1), a, b, ν]. */
function packFree(m: Model): number[] {
  const out: number[] = [];
  for (let j = 0; j < m.k - 1; j++) {
    out.push(m.beta0[j]!);
    for (let a = 0; a < m.d; a++) out.push(m.beta1[j * m.d + a]!);
  }
  out.push(...m.a, ...m.b, ...m.nu);
  return out;
}
function unpackFree(base: Model, v: number[]): Model {
  const m = cloneModel(base);
  let t = 0;
  for (let j = 0; j < m.k - 1; j++) {
    m.beta0[j] = v[t++]!;
    for (let a = 0; a < m.d; a++) m.beta1[j * m.d + a] = v[t++]!;
  }
  for (const key of ['a', 'b', 'nu'] as const) for (let s = 0; s < m[key].length; s++) m[key][s] = v[t++]!;
  return m;
}
function exactLogLik(m: Model, data: Dataset): number {
  const nk = data.n * m.k;
  const lp = new Float64Array(nk);
  cpu.gateProbs(m, data.X, data.n, lp, new Float64Array(nk), null, 'none');
  return cpu.logLik(m, data.X, data.y, data.n, lp);
}

describe('a whole fit with the gpu backend (gpu.js CPU mode)', () => {
  it('reaches the CPU optimum within the bound derived from the float32 resolution; kernels built once per shape', () => {
    const n = 1000;
    const data = simulate(demy, { n, seed: 51 });
    const opts = {
      gate: { kind: 'softmax' } as GateSpec,
      k: 2,
      init: { kind: 'near-truth' as const, truth: demy, noise: 'fixed' as const },
      seed: 2,
    };
    const fc = fitMoE(data, { ...opts, backend: 'cpu' });
    const be = createGpuBackend({ mode: 'cpu' });
    const fg = fitMoE(data, { ...opts, backend: be });
    expect(fg.backend).toBe('gpu');
    expect(fc.converged && fg.converged).toBe(true);

    // Worst-case float32 error of one log-likelihood total, E = u Σ κ_i, at the CPU optimum.
    const { logPi } = runGate(cpu, fc.model, data, null, 'none');
    const per = perSampleLogLik(fc.model, data, logPi);
    const respW = new Float64Array(2 * n);
    cpu.eStep(fc.model, data.X, data.y, n, logPi, respW);
    const { kappa } = eStepBounds(fc.model, data, logPi, respW, per);
    let E = 0;
    let kap2 = 0;
    for (let i = 0; i < n; i++) {
      E += U * kappa[i]!;
      kap2 += kappa[i]! ** 2;
    }
    const res = 2 * U * Math.sqrt(kap2);
    // EM's linear rate ρ near the optimum: log-likelihood changes shrink like ρ² per iteration
    const dl = fc.trace.slice(1).map((v, t) => v - fc.trace[t]!);
    const ratios = dl
      .slice(1)
      .map((v, t) => Math.abs(v / dl[t]!))
      .filter((x) => Number.isFinite(x));
    const rho2 = Math.min(0.999, Math.max(...ratios.slice(-2), 1e-6));
    // The gpu fit maximises a perturbed objective ℓ + e, |e| ≤ E, and stops when its change is within
    // the resolution: the exact gap is ≤ 2E (perturbation) + (res + 2E)·ρ²/(1 − ρ²) (stopping),
    // and the CPU fit itself sits within tol·|ℓ|·ρ²/(1 − ρ²) of its optimum.
    const gap = 2 * E + ((res + 2 * E) * rho2) / (1 - rho2) + 1e-10 * Math.abs(fc.logLik) * (1 + rho2 / (1 - rho2));
    const llG = exactLogLik(fg.model, data);
    expect(llG).toBeGreaterThanOrEqual(fc.logLik - gap);
    expect(llG).toBeLessThanOrEqual(fc.logLik + 1e-9 * Math.abs(fc.logLik));

    // Parameters: in the quadratic model ℓ(θ) ≈ ℓ* − ½ δθᵀ I δθ, a gap g allows |δθ_p| ≤ sqrt(2g (I⁻¹)_pp).
    // I is the observed information at the CPU optimum, by central differences of the exact log-likelihood.
    const theta = packFree(fc.model);
    const p = theta.length;
    const h = theta.map((v) => 1e-4 * (Math.abs(v) + 0.1));
    const f = (dv: number[]) =>
      exactLogLik(
        unpackFree(
          fc.model,
          theta.map((v, t) => v + dv[t]!),
        ),
        data,
      );
    const info = new Float64Array(p * p);
    const e = (t: number, s: number) => Array.from({ length: p }, (_, q) => (q === t ? s * h[t]! : 0));
    const add = (x: number[], y: number[]) => x.map((v, t) => v + y[t]!);
    for (let a = 0; a < p; a++) {
      for (let b = a; b < p; b++) {
        const hab =
          (f(add(e(a, 1), e(b, 1))) -
            f(add(e(a, 1), e(b, -1))) -
            f(add(e(a, -1), e(b, 1))) +
            f(add(e(a, -1), e(b, -1)))) /
          (4 * h[a]! * h[b]!);
        info[a * p + b] = -hab;
        info[b * p + a] = -hab;
      }
    }
    const L = new Float64Array(p * p);
    expect(cholesky(info, p, L)).toBeGreaterThan(0);
    const got = packFree(fg.model);
    for (let t = 0; t < p; t++) {
      const unit = new Float64Array(p);
      unit[t] = 1;
      const col = new Float64Array(p);
      choleskySolve(L, p, unit, col);
      const tolT = 1.5 * Math.sqrt(2 * gap * col[t]!);
      expect(
        Math.abs(got[t]! - theta[t]!),
        `parameter ${t}: ${got[t]} vs ${theta[t]} (tolerance ${tolT})`,
      ).toBeLessThanOrEqual(tolT);
    }

    // one kernel per shape, built on the first call and never again
    const st = be.stats();
    expect(st.rebuilds).toBe(0);
    expect(st.kernelsBuilt).toBe(st.keys.length);
    expect(new Set(st.keys).size).toBe(st.keys.length);
    expect(st.kernelCalls).toBeGreaterThan(st.kernelsBuilt * 2);
    fitMoE(data, { ...opts, backend: be, seed: 3 });
    expect(be.stats().kernelsBuilt).toBe(st.kernelsBuilt);
    expect(be.stats().rebuilds).toBe(0);

    // the documented polish: a CPU refit from the gpu fit's model lands on the CPU optimum
    const polished = fitMoE(data, { ...opts, init: { kind: 'model', model: fg.model }, backend: 'cpu' });
    expect(Math.abs(polished.logLik - fc.logLik)).toBeLessThanOrEqual(1e-9 * Math.abs(fc.logLik));
    be.destroy();
  });

  it("the gate M-step stops at Q's float32 resolution instead of chasing rounding noise", () => {
    // k = 8 well-separated experts at n = 1e4: without the resolution, Newton keeps halving steps whose
    // predicted gain (≈ 1e-8 per sample) is below the noise of a float32 Q, ~300 gate calls per fit
    const k = 8;
    const m = truthPreset('demy');
    const mid = (k - 1) / 2;
    const truth: Model = {
      ...m,
      k,
      beta0: new Float64Array(k),
      beta1: Float64Array.from({ length: k }, (_, j) => 6 * (j - mid)),
      a: Float64Array.from({ length: k }, (_, j) => 2 * (j - mid)),
      b: Float64Array.from({ length: k }, (_, j) => 3 * (j - mid)),
      nu: new Float64Array(k).fill(0.05),
    };
    const data = simulate(truth, { n: 10_000, seed: 53 });
    const be = createGpuBackend({ mode: 'cpu' });
    const fit = fitMoE(data, { gate: truth.gate, k, init: { kind: 'model', model: truth }, maxIter: 3, backend: be });
    expect(be.gateQResolution!()).toBeGreaterThan(0);
    // per EM iteration: one gate, one E-step, three moment kernels, and a few Newton trials
    expect(be.stats().kernelCalls).toBeLessThanOrEqual(10 * (fit.iterations + 1));
    expect(fit.warnings.filter((w) => w.startsWith('gate M-step'))).toEqual([]);
    be.destroy();
  });

  it('a top-K fit reaches the CPU optimum within the same log-likelihood bound', () => {
    const truth = truthPreset('topk1');
    const n = 600;
    const data = simulate(truth, { n, seed: 52 });
    const opts = {
      gate: truth.gate,
      k: 2,
      init: { kind: 'near-truth' as const, truth, noise: 'fixed' as const },
      seed: 2,
    };
    const fc = fitMoE(data, { ...opts, backend: 'cpu' });
    const fg = fitMoE(data, { ...opts, backend: createGpuBackend({ mode: 'cpu' }) });
    expect(fg.converged).toBe(true);
    const mask = new Uint8Array(2 * n);
    const { logPi } = runGate(cpu, fc.model, data, mask, 'compute');
    const per = perSampleLogLik(fc.model, data, logPi);
    const resp = new Float64Array(2 * n);
    cpu.eStep(fc.model, data.X, data.y, n, logPi, resp);
    const { kappa } = eStepBounds(fc.model, data, logPi, resp, per);
    let E = 0;
    let kap2 = 0;
    for (let i = 0; i < n; i++) {
      E += U * kappa[i]!;
      kap2 += kappa[i]! ** 2;
    }
    // top-K EM converges in a handful of steps here; bound the rate by 1/2 (ρ²/(1 − ρ²) ≤ 1/3)
    const gap = 2 * E + (2 * U * Math.sqrt(kap2) + 2 * E) / 3 + 1e-9 * Math.abs(fc.logLik);
    const lpG = new Float64Array(2 * n);
    cpu.gateProbs(fg.model, data.X, n, lpG, new Float64Array(2 * n), new Uint8Array(2 * n), 'compute');
    const llG = cpu.logLik(fg.model, data.X, data.y, n, lpG);
    expect(Math.abs(llG - fc.logLik)).toBeLessThanOrEqual(gap);
  });
});
