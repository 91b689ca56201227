/**
 * The softmax gate's observed log-likelihood in one pass (d = 1, k = 2, 3): see
 * src/em/backend/simd/gen/kernels.ts for the conventions. The SIMD twin of softmaxLogLikRows1
 * (src/em/backend/cpu/softmax-loglik.ts) for its direct rows, driven by that file's binding.
 */
import { EXP_CUTOFF, GATE_DIRECT } from '../../constants.js';
import { ACC, PAR } from '../layout.js';
import { pairLoop, productStep, rowPair } from './kernels.js';
import { F2, Fn, abs, add, div, expv, mul, sub } from './wat.js';

/**
 * Σ_i [log Σ_j e^(w_j) − log Σ_j e^(v_j)] with v_j = β0_j + β1_j x (the logits) and
 * w_j = v_j + c_j + h_j (y − (b_j + a_j x))²: per row the maximum m of w, s = Σ_j e^(w_j − m)
 * and g = Σ_j e^(v_j − t) (terms below −708 are 0), where t = 0 when every |v_j| ≤ 350 and the
 * largest logit otherwise; Σ (m − t) and the running product of s / g (one log per call). Stops at
 * a pair where some row's largest logit or m is ±∞ or NaN: the JS kernel takes it.
 * par: β0 (k), β1 (k), a (k), b (k), c (k), h (k). acc: Σ m (2 lanes, at +16), product mantissa
 * (+32), exponent (+48).
 */
function softmaxLogLik(k: 2 | 3): string {
  const f = new Fn(
    `softmaxll${k}`,
    [
      ['x', 'i32'],
      ['y', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    'i32',
  );
  const par = (i: number): string => f.set(`par${i}`, `(v128.load64_splat offset=${PAR + 8 * i} (i32.const 0))`);
  const J = [...Array(k).keys()];
  const b0 = J.map((j) => par(j)),
    b1 = J.map((j) => par(k + j)),
    a = J.map((j) => par(2 * k + j)),
    b = J.map((j) => par(3 * k + j)),
    c = J.map((j) => par(4 * k + j)),
    h = J.map((j) => par(5 * k + j));
  f.set('sm', `(v128.load offset=${ACC + 16} (i32.const 0))`);
  f.set('pm', `(v128.load offset=${ACC + 32} (i32.const 0))`);
  f.set('pe', `(v128.load offset=${ACC + 48} (i32.const 0))`);
  pairLoop(f, () => {
    const x = f.set('xi', rowPair('x'));
    const y = f.set('yi', rowPair('y'));
    const v = J.map((j) => f.set(`v${j}`, add(b0[j]!, mul(b1[j]!, x))));
    // direct rows: every |v_j| ≤ 350 (false for NaN), e^v with no shift; other rows (a steep gate)
    // shift by the logits' exact maximum, each lane its own; a maximum ±∞ or NaN is refused
    const direct = f.set(
      'direct',
      v.map((vj) => `(f64x2.le ${abs(vj)} ${F2(GATE_DIRECT)})`).reduce((p, q) => `(v128.and ${p} ${q})`),
    );
    const exact = f.set(
      'exact',
      v.slice(1).reduce((m, vj) => `(f64x2.max ${m} ${vj})`, v[0]!),
    );
    f.emit(`(br_if $done (i32.eqz (i64x2.all_true (v128.or ${direct} (f64x2.lt ${abs(exact)} ${F2(Infinity)})))))`);
    const shift = f.set('shift', `(v128.andnot ${exact} ${direct})`);
    const w = J.map((j) => {
      const d = f.set(`d${j}`, sub(y, add(b[j]!, mul(a[j]!, x))));
      return f.set(`w${j}`, add(add(v[j]!, c[j]!), mul(mul(h[j]!, d), d)));
    });
    const mx = f.set(
      'mx',
      w.slice(1).reduce((m, wj) => `(f64x2.max ${m} ${wj})`, w[0]!),
    );
    f.emit(`(br_if $done (i32.eqz (i64x2.all_true (f64x2.lt ${abs(mx)} ${F2(Infinity)}))))`);
    const e = J.map((j) => {
      const u = f.set(`u${j}`, sub(w[j]!, mx));
      return f.set(`e${j}`, `(v128.and ${expv(f, u, `x${j}`)} (f64x2.ge ${u} ${F2(-EXP_CUTOFF)}))`);
    });
    const g = J.map((j) => {
      const u = f.set(`t${j}`, sub(v[j]!, shift));
      return f.set(`g${j}`, `(v128.and ${expv(f, u, `y${j}`)} (f64x2.ge ${u} ${F2(-EXP_CUTOFF)}))`);
    });
    const s = f.set(
      's',
      e.reduce((acc, t) => add(acc, t)),
    );
    const gs = f.set(
      'gs',
      g.reduce((acc, t) => add(acc, t)),
    );
    f.set('sm', add(f.local('sm'), sub(mx, shift)));
    productStep(f, f.set('q', div(s, gs)));
  });
  f.emit(`(v128.store offset=${ACC + 16} (i32.const 0) (local.get $sm))`);
  f.emit(`(v128.store offset=${ACC + 32} (i32.const 0) (local.get $pm))`);
  f.emit(`(v128.store offset=${ACC + 48} (i32.const 0) (local.get $pe))`);
  f.emit('(local.get $p)');
  return f.text();
}

export function softmaxLogLikKernels(): string[] {
  return [softmaxLogLik(2), softmaxLogLik(3)];
}
