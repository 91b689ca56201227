/**
 * The fitted parameters as `gmoe fit` prints them: one row per expert — its weight (π_j averaged over the
 * data, flexmix's `prior`), gate intercept and slopes, the expert's slopes, intercept and sd — and τ where
 * the gate has one. The model file holds every digit; this is for reading.
 */
import { gateProbs } from '../../models/density.js';
import { hasTau, type Dataset, type Model } from '../../models/types.js';

const fmt = (v: number): string => {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(3) : Number(v.toPrecision(5)).toString();
};

/** The table's lines; `xNames` label the slopes (the data's x columns). */
export function parameterTable(m: Model, data: Dataset, xNames: string[]): string[] {
  const { k, d } = m;
  const pi = gateProbs(m, data.X, data.n);
  const weight = new Float64Array(k);
  for (let i = 0; i < data.n; i++) for (let j = 0; j < k; j++) weight[j] += pi[i * k + j]! / data.n;
  const names = xNames.length === d ? xNames : Array.from({ length: d }, (_, l) => `x${l + 1}`);
  const header = [
    'expert',
    'weight',
    'gate β0',
    ...names.map((x) => `gate β1[${x}]`),
    ...names.map((x) => `a[${x}]`),
    'b',
    'sd',
  ];
  const rows = [header];
  for (let j = 0; j < k; j++) {
    rows.push([
      String(j + 1),
      weight[j]!.toFixed(4),
      fmt(m.beta0[j]!),
      ...names.map((_, l) => fmt(m.beta1[j * d + l]!)),
      ...names.map((_, l) => fmt(m.a[j * d + l]!)),
      fmt(m.b[j]!),
      fmt(Math.sqrt(m.nu[j]!)),
    ]);
  }
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) =>
    r
      .map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
  const tau = hasTau(m.gate) ? `; τ = ${fmt(m.tau)}` : '';
  return [`parameters (weight: π averaged over the data; sd = √ν${tau}):`, ...lines];
}
