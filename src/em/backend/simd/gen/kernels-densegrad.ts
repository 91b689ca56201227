/**
 * Gradient / curvature / exact-Hessian sums of the dense-to-sparse gates (d = 1, k = 3, bias
 * outside σ; identity, tanh, sigmoid): SIMD twins of denseGradHess1's k = 3 path in
 * src/em/backend/cpu/activation-grad.ts — the coefficient pass (coefsIdentity / coefsTanh / coefsSigmoid)
 * fused with the sums pass (denseSums1k3), so that J1, Jt, H1 stay in registers instead of going
 * through n × k scratch. Driven by src/em/backend/cpu/activation-grad.ts (binding gradHessSimd); see
 * src/em/backend/simd/gen/kernels.ts for the conventions.
 *
 * Pure arithmetic: no pair is ever refused, NaN propagates as in JS. Per row, the same operations
 * in the same order as the JS kernels (the clamps are f64x2.pmin / pmax, which are the JS ternaries
 * `u > c ? c : u` exactly, NaN and −0 included); each of the 30 sums is accumulated per lane from +0
 * (lane 0: rows 0, 2, 4…, lane 1: rows 1, 3, 5…), and at exit the kernel stores lane 0 + lane 1
 * at ACC (one scalar per sum). One call runs every pair.
 */
import { F2, Fn, add, mul, simdOps, sub } from './wat.js';
import { ACC, PAR } from '../layout.js';
import type { ActivationSimd } from '../../../../math/activation/types.js';
import { ACTIVATION_DESCRIPTORS } from '../../../../math/activations.js';
import { loadCols, matPair, pairLoop, rowPair } from './kernels.js';

/** Sum names in denseSums1k3's output order: g0..g5, the 21 upper-triangle c, a0..a2. */
const SUMS = [
  'g0',
  'g1',
  'g2',
  'g3',
  'g4',
  'g5',
  'c00',
  'c01',
  'c02',
  'c03',
  'c04',
  'c05',
  'c11',
  'c12',
  'c13',
  'c14',
  'c15',
  'c22',
  'c23',
  'c24',
  'c25',
  'c33',
  'c34',
  'c35',
  'c44',
  'c45',
  'c55',
  'a0',
  'a1',
  'a2',
];

/**
 * denseGradHess1's k = 3 sums (layout [β0_0, β1_0, β0_1, β1_1, β1_2, log τ]) for one activation.
 * par: β1 (3), 1/τ. acc out: the 30 sums of denseSums1k3 (6 gradient, 21 curvature, A_0..A_2).
 */
function denseGrad(act: ActivationSimd): string {
  const f = new Fn(
    `densegrad3_${act.grad}`,
    [
      ['x', 'i32'],
      ['r', 'i32'],
      ['pi', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    null,
  );
  const par = (i: number): string => f.set(`par${i}`, `(v128.load64_splat offset=${PAR + 8 * i} (i32.const 0))`);
  const b = [par(0), par(1), par(2)];
  const it = par(3);
  for (const s of SUMS) f.set(s, F2(0));
  const acc = (s: string, term: string): void => {
    f.set(s, add(f.local(s), term));
  };
  const dec = (s: string, term: string): void => {
    f.set(s, sub(f.local(s), term));
  };
  pairLoop(f, () => {
    const x = f.set('xi', rowPair('x'));
    const xt = f.set('xt', mul(x, it));
    // J1, Jt, H1 of expert j (u = β1_j x) from the activation's emitter, as its coefficient pass
    const ops = simdOps(f);
    const cf = [0, 1, 2].map((j) => act.coefs(ops, b[j]!, x, xt, it, String(j)));
    const [u0, u1, u2] = cf.map((c) => c[0]) as [string, string, string];
    const [t0, t1, t2] = cf.map((c) => c[1]) as [string, string, string];
    const [r0, r1, r2] = loadCols(f, matPair(f, 'r', 3, 'ro'), 3, 'r') as [string, string, string];
    const [p0, p1, p2] = loadCols(f, matPair(f, 'pi', 3, 'po'), 3, 'p') as [string, string, string];
    const R = f.set('R', add(add(r0, r1), r2));
    const G0 = f.set('G0', sub(r0, mul(R, p0)));
    const G1 = f.set('G1', sub(r1, mul(R, p1)));
    const G2 = f.set('G2', sub(r2, mul(R, p2)));
    acc('g0', G0);
    acc('g1', mul(G0, u0));
    acc('g2', G1);
    acc('g3', mul(G1, u1));
    acc('g4', mul(G2, u2));
    acc('g5', add(add(mul(G0, t0), mul(G1, t1)), mul(G2, t2)));
    acc('a0', mul(G0, cf[0]![2]));
    acc('a1', mul(G1, cf[1]![2]));
    acc('a2', mul(G2, cf[2]![2]));
    const w0 = p0,
      w1 = f.set('w1', mul(p0, u0)),
      w2 = p1,
      w3 = f.set('w3', mul(p1, u1)),
      w4 = f.set('w4', mul(p2, u2));
    const q0 = f.set('q0', mul(p0, t0)),
      q1 = f.set('q1', mul(p1, t1)),
      q2 = f.set('q2', mul(p2, t2));
    const w5 = f.set('w5', add(add(q0, q1), q2));
    const [Rw0, Rw1, Rw2, Rw3, Rw4, Rw5] = [w0, w1, w2, w3, w4, w5].map((w, i) => f.set(`Rw${i}`, mul(R, w))) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    acc('c00', sub(mul(R, w0), mul(Rw0, w0)));
    acc('c01', sub(mul(R, w1), mul(Rw0, w1)));
    dec('c02', mul(Rw0, w2));
    dec('c03', mul(Rw0, w3));
    dec('c04', mul(Rw0, w4));
    acc('c05', sub(mul(R, q0), mul(Rw0, w5)));
    acc('c11', sub(mul(mul(R, w1), u0), mul(Rw1, w1)));
    dec('c12', mul(Rw1, w2));
    dec('c13', mul(Rw1, w3));
    dec('c14', mul(Rw1, w4));
    acc('c15', sub(mul(mul(R, q0), u0), mul(Rw1, w5)));
    acc('c22', sub(mul(R, w2), mul(Rw2, w2)));
    acc('c23', sub(mul(R, w3), mul(Rw2, w3)));
    dec('c24', mul(Rw2, w4));
    acc('c25', sub(mul(R, q1), mul(Rw2, w5)));
    acc('c33', sub(mul(mul(R, w3), u1), mul(Rw3, w3)));
    dec('c34', mul(Rw3, w4));
    acc('c35', sub(mul(mul(R, q1), u1), mul(Rw3, w5)));
    acc('c44', sub(mul(mul(R, w4), u2), mul(Rw4, w4)));
    acc('c45', sub(mul(mul(R, q2), u2), mul(Rw4, w5)));
    acc('c55', sub(mul(R, add(add(mul(q0, t0), mul(q1, t1)), mul(q2, t2))), mul(Rw5, w5)));
  });
  SUMS.forEach((s, t) => {
    const v = f.local(s);
    f.emit(
      `(f64.store offset=${ACC + 8 * t} (i32.const 0) (f64.add (f64x2.extract_lane 0 ${v}) (f64x2.extract_lane 1 ${v})))`,
    );
  });
  return f.text();
}

/** densegrad3_<grad> for every activation whose descriptor has SIMD emitters, in the registry's order. */
export function denseGradKernels(): string[] {
  return ACTIVATION_DESCRIPTORS.flatMap((a) => (a.simd ? [denseGrad(a.simd)] : []));
}
