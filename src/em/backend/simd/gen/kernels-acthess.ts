/**
 * The SIMD twin of src/em/inference/hessian-activation.ts (rowTerms, rowGate, rowExperts and the
 * column products): the activation and temperature gates' exact Hessian of the observed
 * log-likelihood as per-lane sums, any k ≤ 8 and d ≤ 4, two rows per step (lane 0: row 2p, lane 1:
 * row 2p + 1). `acthess_<grad>`, one per activation with SIMD emitters (identity: the temperature gate).
 *
 * Per row, with the extended gate vector (gate coordinates l(d + 1) + α, then τ at G = k(d + 1)) and
 * the experts' coordinates after it (G1 + j(d + 2) + β, G1 = G + 1; N = G1 + k(d + 2) in all), the
 * Louis identity of hessian-activation.ts is −z zᵀ + w wᵀ (w on the gate block only) plus the
 * per-expert δ terms, with z = (r_l a_l, T_r, r_j h_j) and w = (π_l a_l, T_π). The sums are the upper
 * triangle of the N × N matrix, packed row by row (row u from column u), then the gradient (N), then L,
 * one f64x2 (lane 0, lane 1) each at GACC (zeroed by the binding, cpu/activation-hessian.ts).
 *
 * σ'(w)/τ, −σ(w)/τ, σ''(w)/τ come from the activation's `coefs` emitter (at x = 1), so that σ itself is
 * never needed: s_l = −Jt_l + β0_l (outside), t_l = Jt_l/τ. exp and log are expCore / logCore (terms
 * below −EXP_CUTOFF taken as 0), so per-row values agree with the JS loop's Math.exp / Math.log to
 * rounding only. A row whose gate or expert maximum is ±∞ or NaN makes L NaN (the caller falls back).
 * par (GPAR): 1/τ, inside (1 or 0), outside (1 − inside), β0 (k), β1 (k·d), a (k·d), b (k),
 * c_j = −(log 2π + log ν_j)/2 (k), 1/ν_j (k).
 *
 * acthess<k><d>_<grad>_h<u>_… (the presets' holds, {@link presetHold}) leave out the sums of the gate slots u
 * that the consumer's layout holds fixed, and the per-row values only those need: 12 % of acthess31's
 * sums for tanh / sigmoid (β0 of the reference), 33 % for the identity (its β0, β1 and τ).
 */
import { EXP_CUTOFF } from '../../constants.js';
import { ACTHESS_D_MAX, ACTHESS_K_MAX, GACC, GBLK, GBLK_LEN, GPAR, SCR } from '../layout.js';
import type { ActivationSimd } from '../../../../math/activation/types.js';
import { ACTIVATION_DESCRIPTORS, type ActivationDescriptor } from '../../../../math/activations.js';
import { pairLoop, rowPair } from './kernels.js';
import { accAdd, gather, i32, iadd, imul, loop, rowsX, splat, strides, unrolled } from './kernels-generic.js';
import { F2, Fn, abs, add, div, expv, logv, mul, simdOps, sub } from './wat.js';

/** the (k, d) with unrolled sums (the presets' shapes) */
export const ACTHESS_FIXED: ReadonlyArray<[number, number]> = [
  [2, 1],
  [3, 1],
];
const M_MAX = ACTHESS_D_MAX + 1;
const G1_MAX = ACTHESS_K_MAX * M_MAX + 1;
const KE_MAX = ACTHESS_K_MAX * (ACTHESS_D_MAX + 2);
const N_MAX = G1_MAX + KE_MAX;

/** scratch regions (16 bytes a slot): z (N), w (G1), a (G), h (K), per-expert values, ψ, φ */
const SZ = SCR;
const SW = SZ + 16 * N_MAX;
const SA = SW + 16 * G1_MAX;
const SH = SA + 16 * (G1_MAX - 1);
const PER = SH + 16 * KE_MAX;
const [SS, SR, SP, SQ, ST, SJ1, SJT, SH1, SE] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(
  (t) => PER + 16 * ACTHESS_K_MAX * t,
) as [number, number, number, number, number, number, number, number, number];
const SPSI = PER + 16 * ACTHESS_K_MAX * 9;
const SPHI = SPSI + 16 * M_MAX;
// the scratch runs on into GBLK (unused by this kernel)
if (SPHI + 16 * M_MAX > GBLK + 8 * GBLK_LEN) throw new Error('kernels-acthess: the scratch exceeds GBLK');

const L = (name: string): string => `(local.get $${name})`;
const JO = L('jo');
/** the f64x2 at scratch region base, slot o8/8 (o8 a byte offset in steps of 8) */
const at = (base: number, o8: string): string => `(v128.load offset=${base} (i32.shl ${o8} (i32.const 1)))`;
const put = (f: Fn, base: number, o8: string, v: string): void =>
  f.emit(`(v128.store offset=${base} (i32.shl ${o8} (i32.const 1)) ${v})`);
/** the f64x2 at scratch byte address base + o16 (o16 in steps of 16) */
const at16 = (base: number, o16: string): string => `(v128.load offset=${base} ${o16})`;
const put16 = (f: Fn, base: number, o16: string, v: string): void => f.emit(`(v128.store offset=${base} ${o16} ${v})`);
const shl4 = (a: string): string => `(i32.shl ${a} (i32.const 4))`;

/** the unrolled kernels' (k, d) while their code is generated, else null */
let shape: [number, number] | null = null;
/**
 * The extended gate slots (l(d + 1) + α, τ at G) whose sums an unrolled kernel leaves out, with the
 * per-row values only they need: coordinates the consumer holds fixed (it never reads their sums, so
 * every other sum keeps its operations and bits). Empty in the full kernels.
 */
let held: ReadonlySet<number> = new Set();
/** whether expert l's gate coordinate α (0: β0) is held; never in the generic kernel */
const isHeld = (l: number, a: number): boolean => shape !== null && held.has(l * (shape[1] + 1) + a);
/** whether τ's sums are kept */
const tauFree = (): boolean => shape === null || !held.has(shape[0] * (shape[1] + 1));
/** whether expert l has a gate coordinate whose sums are kept */
const gateFree = (l: number): boolean => shape === null || [...Array(shape[1] + 1).keys()].some((a) => !isHeld(l, a));
/**
 * loop() whose trip count is count(k, d); in an unrolled kernel, straight-line copies of the body, each
 * after setting the counter to its value (the same operations, no branches: measured ≈ 8 % off acthess31).
 * The body gets the copy's index (−1 in a loop).
 */
function uloop(
  f: Fn,
  name: string,
  from: string,
  to: string,
  count: (k: number, d: number) => number,
  body: (c: number) => void,
): void {
  if (shape === null) loop(f, name, from, to, 8, () => body(-1));
  else unrolled(f, name, from, 8, count(shape[0], shape[1]), body);
}
/** for each expert: $jo = 8j (the body gets j, −1 in a loop) */
const forExperts = (f: Fn, body: (j: number) => void): void =>
  uloop(f, 'jo', i32(0), f.local('k8', 'i32'), (k) => k, body);
/** $lo from `from` to `to` in steps of 8: d + extra slots (the body gets the slot, −1 in a loop) */
const forCoords = (f: Fn, from: string, to: string, extra: number, body: (c: number) => void): void =>
  uloop(f, 'lo', from, to, (_, d) => d + extra, body);

/** e_j = e^(src_j − mx) (0 below −EXP_CUTOFF) to dst; returns their sum's local */
function expSum(f: Fn, src: number, dst: number, mx: string): string {
  f.set('s', F2(0));
  forExperts(f, () => {
    const u = f.set('u', sub(at(src, JO), mx));
    const e = f.set('e', `(v128.and ${expv(f, u, 'x')} (f64x2.ge ${u} ${F2(-EXP_CUTOFF)}))`);
    put(f, dst, JO, e);
    f.set('s', add(f.local('s'), e));
  });
  return f.local('s');
}

/** Per row pair: ψ, φ, the gate (s, π, J1, Jt, H1, t, a), the experts (e, h, r); L into `ll`. */
function rowValues(f: Fn, act: ActivationSimd): void {
  const d8 = f.local('d8', 'i32');
  const M8 = f.local('m8', 'i32');
  const [xo0, xo1] = rowsX(f);
  const bin = f.local('bin');
  const bout = f.local('bout');
  const it = f.local('it');
  put(f, SPSI, i32(0), bin);
  forCoords(f, i32(0), d8, 0, () => {
    const x = f.set('xa', gather(iadd(xo0, L('lo')), iadd(xo1, L('lo'))));
    put(f, SPSI + 16, L('lo'), x);
    put(f, SPHI, L('lo'), x);
  });
  put(f, SPHI, d8, F2(1));
  const xAt = (lo: string): string => at(SPSI + 16, lo);
  // the gate: w_l = inside·β0_l + β1_l·x, s_l = σ(w_l)/τ + outside·β0_l
  f.set('bad', F2(0));
  f.set('mx', F2(-Infinity));
  f.set('ao', L('pb1'), 'i32');
  f.set('go', i32(0), 'i32');
  const ops = simdOps(f);
  forExperts(f, (j) => {
    const b0 = f.set('b0', splat(iadd(L('pb0'), JO)));
    f.set('w', mul(bin, b0));
    forCoords(f, i32(0), d8, 0, () => {
      f.set('w', add(f.local('w'), mul(splat(iadd(f.local('ao', 'i32'), L('lo'))), xAt(L('lo')))));
    });
    const [j1, jt, h1] = act.coefs(ops, f.local('w'), F2(1), it, it, 'c');
    // held slots: σ'/τ serves only (gate, τ), σ''/τ the gate's own block, t and Jt τ's sums
    if (tauFree() && gateFree(j)) put(f, SJ1, JO, j1);
    if (tauFree()) put(f, SJT, JO, jt);
    if (gateFree(j)) put(f, SH1, JO, h1);
    if (tauFree()) put(f, ST, JO, mul(jt, it));
    const s = f.set('sl', sub(mul(bout, b0), jt));
    put(f, SS, JO, s);
    f.set('mx', `(f64x2.pmax ${f.local('mx')} ${s})`);
    f.set('bad', `(v128.or ${f.local('bad')} (f64x2.ne ${s} ${s}))`);
    // a_l = (inside·J1 + outside, J1·x)
    const go = f.local('go', 'i32');
    if (!isHeld(j, 0)) put(f, SA, go, add(mul(bin, j1), bout));
    forCoords(f, i32(0), d8, 0, (c) => {
      if (!isHeld(j, c + 1)) put(f, SA + 16, iadd(go, L('lo')), mul(j1, xAt(L('lo'))));
    });
    f.set('go', iadd(go, M8), 'i32');
    f.set('ao', iadd(f.local('ao', 'i32'), d8), 'i32');
  });
  const mx = f.local('mx');
  const z = expSum(f, SS, SP, mx);
  f.set('bad', `(v128.or ${f.local('bad')} (v128.not (f64x2.lt ${abs(mx)} ${F2(Infinity)})))`);
  const lse = f.set('lse', add(mx, logv(f, z, 'ls')));
  const iz = f.set('iz', div(F2(1), z));
  // the experts: ℓ_j = s_j − lse + c_j − e_j²/(2ν_j), h_j = (ε_j x, ε_j, (e_j ε_j − 1)/(2ν_j))
  const yv = f.set('yv', rowPair('y'));
  f.set('mx', F2(-Infinity));
  f.set('ao', L('pa'), 'i32');
  f.set('ho', i32(0), 'i32');
  forExperts(f, () => {
    put(f, SP, JO, mul(at(SP, JO), iz));
    f.set('mu', splat(iadd(L('pb'), JO)));
    forCoords(f, i32(0), d8, 0, () => {
      f.set('mu', add(f.local('mu'), mul(splat(iadd(f.local('ao', 'i32'), L('lo'))), xAt(L('lo')))));
    });
    const e = f.set('ee', sub(yv, f.local('mu')));
    put(f, SE, JO, e);
    const iv = f.set('iv', splat(iadd(L('piv'), JO)));
    const c = splat(iadd(L('pc'), JO));
    const ell = f.set('ell', sub(add(sub(at(SS, JO), lse), c), mul(mul(mul(F2(0.5), e), e), iv)));
    put(f, SR, JO, ell);
    f.set('mx', `(f64x2.pmax ${f.local('mx')} ${ell})`);
    f.set('bad', `(v128.or ${f.local('bad')} (f64x2.ne ${ell} ${ell}))`);
    const en = f.set('en', mul(e, iv));
    const ho = f.local('ho', 'i32');
    forCoords(f, i32(0), d8, 0, () => put(f, SH, iadd(ho, L('lo')), mul(en, xAt(L('lo')))));
    put(f, SH, iadd(ho, d8), en);
    put(f, SH + 16, iadd(ho, d8), mul(mul(sub(mul(e, en), F2(1)), F2(0.5)), iv));
    f.set('ho', iadd(iadd(ho, d8), i32(16)), 'i32');
    f.set('ao', iadd(f.local('ao', 'i32'), d8), 'i32');
  });
  const mxe = f.local('mx');
  const se = expSum(f, SR, SR, mxe);
  const inv = f.set('inv', div(F2(1), se));
  forExperts(f, () => put(f, SR, JO, mul(at(SR, JO), inv)));
  f.set('bad', `(v128.or ${f.local('bad')} (v128.not (f64x2.lt ${abs(mxe)} ${F2(Infinity)})))`);
  const row = add(mxe, logv(f, se, 'ls'));
  f.set('ll', `(v128.bitselect ${F2(NaN)} ${add(f.local('ll'), row)} ${f.local('bad')})`);
}

/** z and w (slots), T_r, T_π, Σ q_l (t_l² + 2σ_l/τ³) (locals), q_l (scratch). */
function vectors(f: Fn): void {
  const it = f.local('it');
  const tau = tauFree();
  if (tau) {
    f.set('tr', F2(0));
    f.set('tp', F2(0));
    f.set('tt', F2(0));
  }
  f.set('go', i32(0), 'i32');
  forExperts(f, (l) => {
    const go = f.local('go', 'i32');
    if (tau || gateFree(l)) {
      const rl = f.set('rl', at(SR, JO));
      const pl = f.set('pl', at(SP, JO));
      const ql = f.set('ql', sub(rl, pl));
      if (gateFree(l)) put(f, SQ, JO, ql);
      if (tau) {
        const tl = f.set('tl', at(ST, JO));
        f.set('tr', add(f.local('tr'), mul(rl, tl)));
        f.set('tp', add(f.local('tp'), mul(pl, tl)));
        // 2σ/τ³ = −2 Jt/τ²
        const curv = sub(mul(tl, tl), mul(mul(mul(F2(2), at(SJT, JO)), it), it));
        f.set('tt', add(f.local('tt'), mul(ql, curv)));
      }
      forCoords(f, go, iadd(go, f.local('m8', 'i32')), 1, (a) => {
        if (isHeld(l, a)) return;
        const av = f.set('av', at(SA, L('lo')));
        put(f, SZ, L('lo'), mul(rl, av));
        put(f, SW, L('lo'), mul(pl, av));
      });
    }
    f.set('go', iadd(go, f.local('m8', 'i32')), 'i32');
  });
  const g8 = f.local('g8', 'i32');
  if (tau) {
    put(f, SZ, g8, f.local('tr'));
    put(f, SW, g8, f.local('tp'));
  }
  // r_j h_j after τ
  f.set('ho', i32(0), 'i32');
  forExperts(f, () => {
    const rj = f.set('rj', at(SR, JO));
    const ho = f.local('ho', 'i32');
    forCoords(f, ho, iadd(ho, f.local('me8', 'i32')), 2, () => {
      put(f, SZ + 16, iadd(g8, L('lo')), mul(rj, at(SH, L('lo'))));
    });
    f.set('ho', iadd(ho, f.local('me8', 'i32')), 'i32');
  });
}

/** acc(u, v) += −z_u z_v (+ w_u w_v on the gate block), u ≤ v, row by row; the gradient of the experts. */
function denseSums(f: Fn): void {
  const N16 = f.local('n16', 'i32');
  const G16 = f.local('g16', 'i32');
  f.set('pp', i32(GACC), 'i32');
  const pp = f.local('pp', 'i32');
  const step = (): void => void f.set('pp', iadd(pp, i32(16)), 'i32');
  loop(f, 'uo', i32(0), N16, 16, () => {
    const zu = f.set('zu', `(f64x2.neg ${at16(SZ, L('uo'))})`);
    const wu = f.set('wu', at16(SW, L('uo')));
    // v < G1 (empty when u ≥ G1): both products
    loop(f, 'vo', L('uo'), G16, 16, () => {
      accAdd(f, pp, add(mul(zu, at16(SZ, L('vo'))), mul(wu, at16(SW, L('vo')))));
      step();
    });
    const from = `(select ${L('uo')} ${G16} (i32.gt_u ${L('uo')} ${G16}))`;
    loop(f, 'vo', from, N16, 16, () => {
      accAdd(f, pp, mul(zu, at16(SZ, L('vo'))));
      step();
    });
  });
  // gradient of the experts: Σ r_j h_j (after the gate's and τ's)
  loop(f, 'uo', G16, N16, 16, () => accAdd(f, iadd(L('ograd'), L('uo')), at16(SZ, L('uo'))));
}

/** byte address of acc(u, v) for u ≤ v (u, v slot indices): GACC + 16(uN − u(u − 1)/2 + v − u) */
function accAt(f: Fn, u: string, v: string): string {
  const row = `(i32.sub (i32.mul ${u} ${L('nn')}) (i32.shr_u (i32.mul ${u} (i32.sub ${u} (i32.const 1))) (i32.const 1)))`;
  return iadd(i32(GACC), shl4(iadd(row, `(i32.sub ${v} ${u})`)));
}

/** The per-expert δ terms of the gate, τ and the experts' blocks, and the gate's and τ's gradient. */
function deltaSums(f: Fn): void {
  const it = f.local('it');
  const M = L('m');
  const me = L('me');
  const G = L('g');
  // gate l: (l, l) q(a aᵀ + σ''/τ ψψᵀ), (l, τ) q t a − q σ'/τ² ψ, (l, expert l) a (r h)ᵀ, gradient q a
  loop(f, 'l', i32(0), L('k'), 1, () => {
    const l8 = f.set('l8', `(i32.shl ${L('l')} (i32.const 3))`, 'i32');
    const ql = f.set('ql', at(SQ, l8));
    const c2 = f.set('c2', mul(ql, at(SH1, l8)));
    const cA = f.set('cA', mul(ql, at(ST, l8)));
    const cP = f.set('cP', `(f64x2.neg ${mul(mul(ql, at(SJ1, l8)), it)})`);
    const u0 = f.set('u0', imul(L('l'), M), 'i32');
    const h0 = f.set('h0', iadd(f.local('g1', 'i32'), imul(L('l'), me)), 'i32');
    loop(f, 'al', i32(0), M, 1, () => {
      const u = f.set('uu', iadd(u0, L('al')), 'i32');
      const au = f.set('au', at16(SA, shl4(u)));
      const qa = f.set('qa', mul(ql, au));
      const pp = f.set('pq', mul(c2, at16(SPSI, shl4(L('al')))));
      const p = f.set('pr', accAt(f, u, u), 'i32');
      loop(f, 'be', L('al'), M, 1, () => {
        const b16 = shl4(L('be'));
        accAdd(
          f,
          iadd(p, shl4(`(i32.sub ${L('be')} ${L('al')})`)),
          add(mul(qa, at16(SA, shl4(iadd(u0, L('be'))))), mul(pp, at16(SPSI, b16))),
        );
      });
      accAdd(f, iadd(p, shl4(`(i32.sub ${G} ${u})`)), add(mul(cA, au), mul(cP, at16(SPSI, shl4(L('al'))))));
      const pe = f.set('pe', iadd(p, shl4(`(i32.sub ${f.local('h0', 'i32')} ${u})`)), 'i32');
      loop(f, 'be', i32(0), me, 1, () => {
        accAdd(f, iadd(pe, shl4(L('be'))), mul(au, at16(SZ, shl4(iadd(f.local('h0', 'i32'), L('be'))))));
      });
      accAdd(f, iadd(L('ograd'), shl4(u)), qa);
    });
  });
  // τ: (τ, τ), its gradient T_r − T_π, (τ, expert j) t_j r_j h_j
  const pt = f.set('pt', accAt(f, G, G), 'i32');
  accAdd(f, pt, f.local('tt'));
  accAdd(f, iadd(L('ograd'), shl4(G)), sub(f.local('tr'), f.local('tp')));
  f.set('pt', iadd(pt, i32(16)), 'i32');
  f.set('zq', shl4(f.local('g1', 'i32')), 'i32');
  loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
    const tj = f.set('tj', at(ST, JO));
    loop(f, 'be', i32(0), me, 1, () => {
      accAdd(f, f.local('pt', 'i32'), mul(tj, at16(SZ, f.local('zq', 'i32'))));
      f.set('pt', iadd(f.local('pt', 'i32'), i32(16)), 'i32');
      f.set('zq', iadd(f.local('zq', 'i32'), i32(16)), 'i32');
    });
  });
  expertDeltas(f);
}

/** experts (j, j): r_j ∇² log f_j + r_j h_j h_jᵀ (the −r r h hᵀ part is in denseSums) */
function expertDeltas(f: Fn): void {
  const me = L('me');
  const d = L('d');
  loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
    const rj = f.set('rj', at(SR, JO));
    const iv = f.set('iv', splat(iadd(L('piv'), JO)));
    const e = f.set('ee', at(SE, JO));
    const cAB = f.set('cab', `(f64x2.neg ${mul(rj, iv)})`);
    const cAN = f.set('can', `(f64x2.neg ${mul(mul(mul(rj, e), iv), iv)})`);
    const u0 = f.set('u0', iadd(f.local('g1', 'i32'), imul(`(i32.shr_u ${JO} (i32.const 3))`, me)), 'i32');
    const h0 = f.set('h0', imul(`(i32.shr_u ${JO} (i32.const 3))`, me), 'i32');
    loop(f, 'al', i32(0), iadd(d, i32(1)), 1, () => {
      const u = f.set('uu', iadd(u0, L('al')), 'i32');
      const va = f.set('va', at16(SZ, shl4(u)));
      const pa = f.set('pq', mul(cAB, at16(SPHI, shl4(L('al')))));
      const p = f.set('pr', accAt(f, u, u), 'i32');
      loop(f, 'be', L('al'), iadd(d, i32(1)), 1, () => {
        accAdd(
          f,
          iadd(p, shl4(`(i32.sub ${L('be')} ${L('al')})`)),
          add(mul(va, at16(SH, shl4(iadd(h0, L('be'))))), mul(pa, at16(SPHI, shl4(L('be'))))),
        );
      });
      accAdd(
        f,
        iadd(p, shl4(`(i32.sub ${iadd(d, i32(1))} ${L('al')})`)),
        add(mul(va, at16(SH, shl4(iadd(h0, iadd(d, i32(1)))))), mul(cAN, at16(SPHI, shl4(L('al'))))),
      );
    });
    const un = f.set('uu', iadd(u0, iadd(d, i32(1))), 'i32');
    const hn = at16(SH, shl4(iadd(h0, iadd(d, i32(1)))));
    const nuTerm = mul(rj, sub(mul(mul(F2(0.5), iv), iv), mul(mul(mul(e, e), iv), mul(iv, iv))));
    accAdd(f, accAt(f, un, un), add(mul(at16(SZ, shl4(un)), hn), nuTerm));
  });
}

/**
 * denseSums and deltaSums for a fixed (k, d): straight-line code, z, w, a, h and the per-expert values read at
 * constant scratch addresses, the sums at constant addresses (same terms, same order per sum).
 */
function fixedSums(f: Fn, k: number, d: number): void {
  const M = d + 1,
    me = d + 2,
    G = k * M,
    G1 = G + 1,
    N = G1 + k * me;
  const c = (base: number, slot: number): string => `(v128.load offset=${base + 16 * slot} (i32.const 0))`;
  const acc = (t: number, v: string): void => accAdd(f, `(i32.const ${GACC + 16 * t})`, v);
  const ix = (u: number, v: number): number => u * N - (u * (u - 1)) / 2 + v - u;
  const grad = (u: number, v: string): void => acc((N * (N + 1)) / 2 + u, v);
  // the held gate slots' sums (rows and columns) are left out, the others as in the full kernel
  const kept = (u: number): boolean => !held.has(u);
  for (let u = 0; u < N; u++) {
    if (!kept(u)) continue;
    const zu = f.set('zu', `(f64x2.neg ${c(SZ, u)})`);
    const wu = u < G1 ? f.set('wu', c(SW, u)) : '';
    for (let v = u; v < N; v++)
      if (kept(v)) acc(ix(u, v), v < G1 ? add(mul(zu, c(SZ, v)), mul(wu, c(SW, v))) : mul(zu, c(SZ, v)));
  }
  for (let u = G1; u < N; u++) grad(u, c(SZ, u));
  const it = f.local('it');
  const tau = tauFree();
  for (let l = 0; l < k; l++) {
    if (!gateFree(l)) continue;
    const ql = f.set('ql', c(SQ, l));
    const c2 = f.set('c2', mul(ql, c(SH1, l)));
    const cA = tau ? f.set('cA', mul(ql, c(ST, l))) : '';
    const cP = tau ? f.set('cP', `(f64x2.neg ${mul(mul(ql, c(SJ1, l)), it)})`) : '';
    for (let a = 0; a < M; a++) {
      const u = l * M + a;
      if (!kept(u)) continue;
      const au = f.set('au', c(SA, u));
      const qa = f.set('qa', mul(ql, au));
      const pp = f.set('pq', mul(c2, c(SPSI, a)));
      for (let b = a; b < M; b++)
        if (kept(l * M + b)) acc(ix(u, l * M + b), add(mul(qa, c(SA, l * M + b)), mul(pp, c(SPSI, b))));
      if (tau) acc(ix(u, G), add(mul(cA, au), mul(cP, c(SPSI, a))));
      for (let b = 0; b < me; b++) acc(ix(u, G1 + l * me + b), mul(au, c(SZ, G1 + l * me + b)));
      grad(u, qa);
    }
  }
  if (tau) {
    acc(ix(G, G), f.local('tt'));
    grad(G, sub(f.local('tr'), f.local('tp')));
    for (let j = 0; j < k; j++) {
      const tj = f.set('tj', c(ST, j));
      for (let b = 0; b < me; b++) acc(ix(G, G1 + j * me + b), mul(tj, c(SZ, G1 + j * me + b)));
    }
  }
  for (let j = 0; j < k; j++) {
    const rj = f.set('rj', c(SR, j));
    const iv = f.set('iv', splat(iadd(L('piv'), i32(8 * j))));
    const e = f.set('ee', c(SE, j));
    const cAB = f.set('cab', `(f64x2.neg ${mul(rj, iv)})`);
    const cAN = f.set('can', `(f64x2.neg ${mul(mul(mul(rj, e), iv), iv)})`);
    const u0 = G1 + j * me;
    for (let a = 0; a <= d; a++) {
      const va = f.set('va', c(SZ, u0 + a));
      const pa = f.set('pq', mul(cAB, c(SPHI, a)));
      for (let b = a; b <= d; b++) acc(ix(u0 + a, u0 + b), add(mul(va, c(SH, j * me + b)), mul(pa, c(SPHI, b))));
      acc(ix(u0 + a, u0 + d + 1), add(mul(va, c(SH, j * me + d + 1)), mul(cAN, c(SPHI, a))));
    }
    const un = u0 + d + 1;
    const nuTerm = mul(rj, sub(mul(mul(F2(0.5), iv), iv), mul(mul(mul(e, e), iv), mul(iv, iv))));
    acc(ix(un, un), add(mul(c(SZ, un), c(SH, j * me + d + 1)), nuTerm));
  }
}

/**
 * acthess_<grad>(x, y, k, d, start, end): the sums above over row pairs [start, end); acthess<k><d>_<grad>
 * (fixed k, d; the same arguments) with the sums unrolled ({@link fixedSums}); acthess<k><d>_<grad>_h<u>_…
 * without the sums of the held gate slots u (zero at GACC; every other sum the same bits).
 */
function actHess(act: ActivationSimd, fix: [number, number] | null, hold: readonly number[] = []): string {
  const base = fix === null ? `acthess_${act.grad}` : `acthess${fix[0]}${fix[1]}_${act.grad}`;
  const f = new Fn(
    hold.length === 0 ? base : `${base}_h${hold.join('_')}`,
    [
      ['x', 'i32'],
      ['y', 'i32'],
      ['k', 'i32'],
      ['d', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    null,
  );
  // an unrolled kernel's k and d as constants: its strides and offsets fold
  if (fix !== null) {
    f.emit(`(local.set $k (i32.const ${fix[0]}))`);
    f.emit(`(local.set $d (i32.const ${fix[1]}))`);
  }
  strides(f);
  const k8 = f.local('k8', 'i32');
  const kd8 = imul(k8, L('d'));
  f.set('it', splat(i32(GPAR)));
  f.set('bin', splat(i32(GPAR + 8)));
  f.set('bout', splat(i32(GPAR + 16)));
  f.set('pb0', i32(GPAR + 24), 'i32');
  f.set('pb1', iadd(L('pb0'), k8), 'i32');
  f.set('pa', iadd(L('pb1'), kd8), 'i32');
  f.set('pb', iadd(L('pa'), kd8), 'i32');
  f.set('pc', iadd(L('pb'), k8), 'i32');
  f.set('piv', iadd(L('pc'), k8), 'i32');
  // sizes: M = d + 1, me = d + 2, G = kM, G1, N (slots) and their byte strides
  f.set('m', iadd(L('d'), i32(1)), 'i32');
  f.set('me', iadd(L('d'), i32(2)), 'i32');
  f.set('m8', `(i32.shl ${L('m')} (i32.const 3))`, 'i32');
  f.set('me8', `(i32.shl ${L('me')} (i32.const 3))`, 'i32');
  f.set('g', imul(L('k'), L('m')), 'i32');
  f.set('g1', iadd(L('g'), i32(1)), 'i32');
  f.set('nn', iadd(L('g1'), imul(L('k'), L('me'))), 'i32');
  f.set('g8', `(i32.shl ${L('g')} (i32.const 3))`, 'i32');
  f.set('g16', shl4(L('g1')), 'i32');
  f.set('n16', shl4(L('nn')), 'i32');
  // the gradient after the packed triangle, L after the gradient
  const tri = `(i32.shr_u (i32.mul ${L('nn')} (i32.add ${L('nn')} (i32.const 1))) (i32.const 1))`;
  f.set('ograd', iadd(i32(GACC), shl4(tri)), 'i32');
  f.set('oll', iadd(L('ograd'), L('n16')), 'i32');
  f.set('ll', `(v128.load ${L('oll')})`);
  held = new Set(hold);
  pairLoop(f, () => {
    shape = fix;
    rowValues(f, act);
    vectors(f);
    if (fix === null) {
      denseSums(f);
      deltaSums(f);
    } else fixedSums(f, fix[0], fix[1]);
    shape = null;
  });
  held = new Set();
  f.emit(`(v128.store ${L('oll')} ${L('ll')})`);
  return f.text();
}

/**
 * The gate slots the presets' fits hold (gates/layout.ts; hybrid.ts hybridLayout): the reference
 * expert's β0 (bias outside), its β1 where σ is linear, τ where σ is positively homogeneous.
 */
function presetHold(a: ActivationDescriptor, k: number, d: number): number[] {
  const r = (k - 1) * (d + 1);
  const b1 = a.linear ? Array.from({ length: d }, (_, t) => r + 1 + t) : [];
  return [r, ...b1, ...(a.positivelyHomogeneous ? [k * (d + 1)] : [])];
}

export function actHessKernels(): string[] {
  const fixed: Array<[number, number] | null> = [null, ...ACTHESS_FIXED];
  return ACTIVATION_DESCRIPTORS.flatMap((a) =>
    a.simd
      ? [
          ...fixed.map((fx) => actHess(a.simd!, fx)),
          ...ACTHESS_FIXED.map((fx) => actHess(a.simd!, fx, presetHold(a, fx[0], fx[1]))),
        ]
      : [],
  );
}
