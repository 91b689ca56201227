/**
 * A small builder of WebAssembly text (WAT) for the SIMD kernels of the CPU backend
 * (src/em/backend/simd/gen/kernels.ts): a function body as a list of folded instructions over named locals,
 * f64x2 helpers, and the inline exponential and logarithm, which follow src/math/exp.ts and
 * src/math/log.ts operation for operation, so that each lane gives the bits expCore / logCore give.
 *
 * Why generated text and not a compiler: the kernels are a few hundred instructions, the toolchain
 * stays one npm devDependency (wabt), and the generator can expand the exponential inline in every
 * kernel (V8 does not inline WebAssembly calls).
 */
import { C3, C4, C5, INV_L, L_HI, L_LO, SHIFT } from '../../../../math/exp.js';
import type { SimdOps } from '../../../../math/activation/types.js';
import { LN2_HI, LN2_LO } from '../../../../math/log.js';
import { EXP_TABLE, LOG_TABLE } from '../layout.js';

/** Exact hexadecimal literal of a double (no decimal round trip). */
export function hex(c: number): string {
  if (Number.isNaN(c)) return 'nan';
  if (c === Infinity) return 'inf';
  if (c === -Infinity) return '-inf';
  if (c === 0) return Object.is(c, -0) ? '-0x0p+0' : '0x0p+0';
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, c);
  const hi = v.getUint32(0);
  const lo = v.getUint32(4);
  const sign = hi >>> 31 ? '-' : '';
  const e = (hi >>> 20) & 0x7ff;
  const mant = ((BigInt(hi & 0xfffff) << 32n) | BigInt(lo)).toString(16).padStart(13, '0');
  return e === 0 ? `${sign}0x0.${mant}p-1022` : `${sign}0x1.${mant}p${e - 1023}`;
}

/** f64x2 constant with both lanes c. */
export const F2 = (c: number): string => `(v128.const f64x2 ${hex(c)} ${hex(c)})`;
/** i64x2 constant with both lanes c. */
export const I2 = (c: number | bigint): string => `(v128.const i64x2 ${c} ${c})`;
export const add = (a: string, b: string): string => `(f64x2.add ${a} ${b})`;
export const sub = (a: string, b: string): string => `(f64x2.sub ${a} ${b})`;
export const mul = (a: string, b: string): string => `(f64x2.mul ${a} ${b})`;
export const div = (a: string, b: string): string => `(f64x2.div ${a} ${b})`;
export const abs = (a: string): string => `(f64x2.abs ${a})`;

const LANE0 = '0 1 2 3 4 5 6 7';
const LANE1 = '8 9 10 11 12 13 14 15';
const LANE0B = '16 17 18 19 20 21 22 23';
const LANE1B = '24 25 26 27 28 29 30 31';
/** (a.lane ia, b.lane ib) as a new f64x2 */
export function pick(a: string, ia: 0 | 1, b: string, ib: 0 | 1): string {
  return `(i8x16.shuffle ${ia ? LANE1 : LANE0} ${ib ? LANE1B : LANE0B} ${a} ${b})`;
}

type ValType = 'v128' | 'i32' | 'i64' | 'f64';

/** One exported function: parameters, named locals, and a body of folded instructions. */
export class Fn {
  private readonly locals = new Map<string, ValType>();
  private readonly body: string[] = [];

  constructor(
    readonly name: string,
    readonly params: [string, ValType][],
    readonly result: ValType | null,
  ) {}

  /** local.get of `name`, declaring it (type `type`) on first use */
  local(name: string, type: ValType = 'v128'): string {
    if (this.params.some(([p]) => p === name)) return `(local.get $${name})`;
    const t = this.locals.get(name);
    if (t === undefined) this.locals.set(name, type);
    else if (t !== type) throw new Error(`local ${name}: ${t}, used as ${type}`);
    return `(local.get $${name})`;
  }

  /** local.set name = expr; returns the local.get */
  set(name: string, expr: string, type: ValType = 'v128'): string {
    const get = this.local(name, type);
    this.body.push(`(local.set $${name} ${expr})`);
    return get;
  }

  emit(instr: string): void {
    this.body.push(instr);
  }

  text(): string {
    const ps = this.params.map(([n, t]) => `(param $${n} ${t})`).join(' ');
    const ls = [...this.locals].map(([n, t]) => `(local $${n} ${t})`).join(' ');
    return `(func $${this.name} (export "${this.name}") ${ps}${this.result ? ` (result ${this.result})` : ''} ${ls}\n  ${this.body.join('\n  ')})`;
  }
}

/** (hi, lo) pairs of the table entries whose byte offsets (index·16) are in the i64 lanes of j */
function gather(f: Fn, j: string, tag: string, base: number): [string, string] {
  const A = f.set(`${tag}_ga`, `(v128.load offset=${base} (i32.wrap_i64 (i64x2.extract_lane 0 ${j})))`);
  const B = f.set(`${tag}_gb`, `(v128.load offset=${base} (i32.wrap_i64 (i64x2.extract_lane 1 ${j})))`);
  return [f.set(`${tag}_hi`, pick(A, 0, B, 0)), f.set(`${tag}_lo`, pick(A, 1, B, 1))];
}

/**
 * e^x per lane for x in [−708, 709]: expCore of src/math/exp.ts, the same operations in the same
 * order (bit for bit), with 2^m built from its exponent bits instead of a table.
 * `x` must be a local.get (it is read several times). Returns the local.get of the result.
 */
export function expv(f: Fn, x: string, tag: string): string {
  const t = f.set(`${tag}_t`, add(mul(x, F2(INV_L)), F2(SHIFT)));
  // t − SHIFT as an integer: the low bits of t's representation (|k| < 2^51)
  const k = f.set(`${tag}_k`, `(i64x2.sub ${t} ${I2(0x4338000000000000n)})`);
  const kf = f.set(`${tag}_kf`, sub(t, F2(SHIFT)));
  const r = f.set(`${tag}_r`, sub(sub(x, mul(kf, F2(L_HI))), mul(kf, F2(L_LO))));
  const j = f.set(`${tag}_j`, `(i64x2.shl (v128.and ${k} ${I2(127)}) (i32.const 4))`);
  const sc = f.set(`${tag}_sc`, `(i64x2.shl (i64x2.add (i64x2.shr_s ${k} (i32.const 7)) ${I2(1023)}) (i32.const 52))`);
  const [th, tl] = gather(f, j, tag, EXP_TABLE);
  const r2 = f.set(`${tag}_r2`, mul(r, r));
  const p = f.set(
    `${tag}_p`,
    add(add(r, mul(r2, add(F2(0.5), mul(r, F2(C3))))), mul(mul(r2, r2), add(F2(C4), mul(r, F2(C5))))),
  );
  return f.set(`${tag}_e`, mul(add(th, add(tl, mul(th, p))), sc));
}

/** bits of 1.5·2^52, whose low bits carry a small integer added to them */
const MAGIC = 0x4338000000000000n;

/**
 * log(x) per lane for x in [2^-1000, 2^1000]: logCore of src/math/log.ts, the same operations in
 * the same order (bit for bit); 2^-e is built from its exponent bits (hence the narrower domain).
 * `x` must be a local.get. Returns the local.get of the result.
 */
export function logv(f: Fn, x: string, tag: string): string {
  const hw = f.set(`${tag}_hw`, `(i64x2.shr_u ${x} (i32.const 32))`);
  const i0 = f.set(
    `${tag}_i0`,
    `(i64x2.shr_u (i64x2.add (i64x2.shr_u (v128.and ${hw} ${I2(0xfffff)}) (i32.const 12)) ${I2(1)}) (i32.const 1))`,
  );
  const e = f.set(
    `${tag}_e`,
    `(i64x2.add (i64x2.sub (i64x2.shr_u ${hw} (i32.const 20)) ${I2(1023)}) (i64x2.shr_u ${i0} (i32.const 7)))`,
  );
  const i = f.set(`${tag}_i`, `(v128.and ${i0} ${I2(127)})`);
  // small integers to doubles through the 1.5·2^52 bias (exact)
  const ef = f.set(`${tag}_ef`, sub(`(i64x2.add ${e} ${I2(MAGIC)})`, F2(SHIFT)));
  const ifl = f.set(`${tag}_if`, sub(`(i64x2.add ${i} ${I2(MAGIC)})`, F2(SHIFT)));
  const c = f.set(`${tag}_c`, add(F2(1), mul(ifl, F2(0.0078125))));
  const p2 = `(i64x2.shl (i64x2.sub ${I2(1023)} ${e}) (i32.const 52))`;
  const r = f.set(`${tag}_r`, div(sub(mul(x, p2), c), c));
  const r2 = f.set(`${tag}_r2`, mul(r, r));
  const r4 = f.set(`${tag}_r4`, mul(r2, r2));
  const t = f.set(
    `${tag}_t`,
    add(
      mul(r2, add(F2(-0.5), mul(r, F2(1 / 3)))),
      mul(r4, add(add(F2(-0.25), mul(r, F2(0.2))), mul(r2, add(F2(-1 / 6), mul(r, F2(1 / 7)))))),
    ),
  );
  const [lh, ll] = gather(f, `(i64x2.shl ${i} (i32.const 4))`, tag, LOG_TABLE);
  return f.set(`${tag}_log`, add(add(mul(ef, F2(LN2_HI)), lh), add(add(mul(ef, F2(LN2_LO)), ll), add(r, t))));
}

/** The f64x2 operations handed to the activations' SIMD emitters (src/math/activation), over kernel f. */
export function simdOps(f: Fn): SimdOps {
  return {
    c: F2,
    add,
    sub,
    mul,
    div,
    neg: (a) => `(f64x2.neg ${a})`,
    // pmin(u, c) is `c < u ? c : u`, pmax(·, −c) is `· < −c ? −c : ·`: the JS ternaries, NaN and −0 included
    clamp: (u, c) => `(f64x2.pmax (f64x2.pmin ${u} ${F2(c)}) ${F2(-c)})`,
    exp: (x, tag) => expv(f, x, tag),
    let: (tag, expr) => f.set(tag, expr),
  };
}
