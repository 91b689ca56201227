/**
 * Exponents of the Voronoi losses, as data (THEORY.md §4).
 *
 * A cell with one fitted atom uses exponent 1 on every parameter (the D1 form). A cell with
 * m ≥ 2 atoms (D2) uses per-parameter exponents that are either fixed numbers or multiples of
 * r̄(m), the solvability index of [DEMY]: r̄(1) = 1, r̄(2) = 4, r̄(3) = 6. r̄(m) for m ≥ 4 is not
 * known, and {@link rBar} says so instead of inventing a value.
 */
import type { GateKind } from '../models/types.js';
import { findGate, gateKinds, getGate } from '../models/gates/index.js';
import type { ExponentRule, ExponentTable } from '../models/gates/index.js';

export type { ExponentRule, ExponentTable } from '../models/gates/index.js';

/** Concrete exponents of one cell. */
export interface CellExponents {
  beta1: number;
  a: number;
  b: number;
  nu: number;
}

/** The parameters an exponent table covers, in a fixed order. */
export const EXPONENT_PARAMS = Object.freeze(['beta1', 'a', 'b', 'nu', 'tau'] as const);

/** r̄(m) for the known cell sizes m = 1, 2, 3 [DEMY, V]. */
export const R_BAR: readonly number[] = Object.freeze([1, 4, 6]);

/**
 * Thrown for a Voronoi cell of m ≥ 4 atoms under D2: r̄(m) is unknown.
 * `cellSize` is m; `trueAtom` the (0-based) true atom of the cell when known.
 */
export class UnknownRBarError extends Error {
  constructor(
    readonly cellSize: number,
    readonly trueAtom?: number,
  ) {
    super(
      `r̄(${cellSize}) is unknown: D2 is defined only for Voronoi cells of at most 3 fitted atoms` +
        (trueAtom === undefined ? '' : ` (cell of true atom ${trueAtom} has ${cellSize})`) +
        '; use fewer fitted experts or loss "D1"',
    );
    this.name = 'UnknownRBarError';
  }
}

/**
 * r̄(m): 1, 4, 6 for m = 1, 2, 3.
 * @throws UnknownRBarError for m ≥ 4 (never invented)
 * @throws Error when m is not an integer ≥ 1
 * @example rBar(2) // 4
 */
export function rBar(m: number): number {
  if (!Number.isInteger(m) || m < 1) throw new Error(`rBar: m must be an integer ≥ 1. Value: ${m}`);
  if (m > R_BAR.length) throw new UnknownRBarError(m);
  return R_BAR[m - 1]!;
}

/**
 * Default multi-atom exponent tables per gate kind, each owned by its gate descriptor
 * (src/models/gates/exponents.ts). top-K [U] and temperature follow the softmax pattern (the
 * temperature gate is the softmax gate with β1/τ); the activation table is THEORY's [U] item.
 * Override per call with `exponents` in the loss options.
 */
export const EXPONENT_TABLES: Readonly<Record<GateKind, ExponentTable>> = Object.freeze(
  Object.fromEntries(gateKinds().map((kind) => [kind, getGate(kind as GateKind).exponents])) as Record<
    GateKind,
    ExponentTable
  >,
);

function checkRule(rule: unknown, field: string): ExponentRule {
  if (typeof rule === 'number') {
    if (!Number.isFinite(rule) || !(rule > 0)) throw new Error(`${field} must be a finite number > 0. Value: ${rule}`);
    return rule;
  }
  if (typeof rule === 'object' && rule !== null && !Array.isArray(rule)) {
    const keys = Object.keys(rule);
    const r = (rule as { r?: unknown }).r;
    if (keys.length === 1 && typeof r === 'number' && Number.isFinite(r) && r > 0) return { r };
  }
  let shown: string;
  try {
    shown = JSON.stringify(rule) ?? String(rule);
  } catch {
    shown = String(rule);
  }
  throw new Error(`${field} must be a number > 0 or { r: f } with f > 0 (f·r̄(m)). Value: ${shown}`);
}

/**
 * The exponent table of a gate kind with optional overrides merged in (each checked).
 * @param overrides per-parameter rules replacing the defaults
 * @throws Error naming the field (`exponents.beta1`) for a rule that is not a number > 0 or `{ r: f > 0 }`
 */
export function exponentTable(kind: GateKind, overrides?: Partial<ExponentTable>): ExponentTable {
  const base = findGate(kind)?.exponents;
  if (!base) throw new Error(`gate.kind must be one of ${gateKinds().join(', ')}. Value: ${String(kind)}`);
  const out = { ...base };
  if (overrides !== undefined) {
    if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
      throw new Error(
        `exponents must be an object with some of ${EXPONENT_PARAMS.join(', ')}. Value: ${String(overrides)}`,
      );
    }
    for (const [key, rule] of Object.entries(overrides)) {
      if (!(EXPONENT_PARAMS as readonly string[]).includes(key)) {
        throw new Error(`exponents.${key} is not an exponent (allowed: ${EXPONENT_PARAMS.join(', ')})`);
      }
      if (rule === undefined) continue;
      if (key === 'tau') {
        if (typeof rule !== 'number' || !Number.isFinite(rule) || !(rule > 0))
          throw new Error(`exponents.tau must be a finite number > 0. Value: ${String(rule)}`);
        out.tau = rule;
      } else {
        out[key as Exclude<keyof ExponentTable, 'tau'>] = checkRule(rule, `exponents.${key}`);
      }
    }
  }
  return out;
}

/**
 * The exponents of a cell of m atoms: all 1 for m ≤ 1 or under D1, the table's rules with r̄(m) for m ≥ 2 under D2.
 * @throws UnknownRBarError for m ≥ 4 under D2
 */
export function cellExponents(table: ExponentTable, m: number, kind: 'D1' | 'D2'): CellExponents {
  if (kind === 'D1' || m <= 1) return { beta1: 1, a: 1, b: 1, nu: 1 };
  const r = rBar(m);
  const val = (rule: ExponentRule) => (typeof rule === 'number' ? rule : rule.r * r);
  return { beta1: val(table.beta1), a: val(table.a), b: val(table.b), nu: val(table.nu) };
}
