/**
 * The fitted parameters as `gmoe fit` prints them: one row per expert — its weight (π_j averaged over the
 * data, flexmix's `prior`), gate intercept and slopes, the expert's slopes, intercept and sd — and τ where
 * the gate has one. The model file holds every digit; this is for reading.
 */
import { columnMeanSd } from '../../models/column-stats.js';
import { meanGateWeights } from '../../models/density.js';
import { scaledLinearBias } from '../../models/gates/index.js';
import { hasTau, type Dataset, type Model } from '../../models/types.js';

const fmt = (v: number): string => {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(3) : Number(v.toPrecision(5)).toString();
};

/**
 * The table's lines; `xNames` label the slopes (the data's x columns). A gate that is a softmax's over τ
 * (the identity activation) also gets what its data identify: β1/τ, and β0/τ with the bias inside.
 */
export function parameterTable(m: Model, data: Dataset, xNames: string[]): string[] {
  const { k, d } = m;
  const weight = meanGateWeights(m, data.X, data.n);
  const names = xNames.length === d ? xNames : Array.from({ length: d }, (_, l) => `x${l + 1}`);
  const bias = scaledLinearBias(m.gate);
  const header = [
    'expert',
    'weight',
    'gate β0',
    ...names.map((x) => `gate β1[${x}]`),
    ...(bias === 'inside' ? ['β0/τ'] : []),
    ...(bias !== null ? names.map((x) => `β1/τ[${x}]`) : []),
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
      ...(bias === 'inside' ? [fmt(m.beta0[j]! / m.tau)] : []),
      ...(bias !== null ? names.map((_, l) => fmt(m.beta1[j * d + l]! / m.tau)) : []),
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
  const identified =
    bias === null
      ? ''
      : `; ${bias === 'inside' ? 'β0/τ and β1/τ are' : 'β1/τ is'} what the data identify, ${bias === 'inside' ? 'β0, β1' : 'β1'} and τ apart are not`;
  return [`parameters (weight: π averaged over the data; sd = √ν${tau}${identified}):`, ...lines];
}

/**
 * An activation gate with the bias outside σ sees σ(β1·x), centred at x = 0: on a column whose values sit
 * far from 0 against their spread (|mean| > 3 sd, e.g. a waiting time of 43–96) σ saturates and the fit
 * crawls (τ → 0). The hint names the columns; centring them (or --bias inside) is the user's choice, as it
 * changes the model.
 */
export function saturationHint(m: Model, data: Dataset, xNames: string[]): string | null {
  if (m.gate.kind !== 'activation' || m.gate.bias !== 'outside') return null;
  const far = columnMeanSd(data.X, data.n, data.d, 1).flatMap(({ mean, sd }, l) =>
    Math.abs(mean) > 3 * sd ? [`${xNames[l] ?? `x${l + 1}`} (mean ${fmt(mean)}, sd ${fmt(sd)})`] : [],
  );
  if (far.length === 0) return null;
  return `the gate is σ(β1·x) with the bias outside, centred at x = 0, and ${far.join(', ')} ${far.length === 1 ? 'lies' : 'lie'} far from 0: σ saturates there and the fit may crawl (τ → 0); centring x, or --bias inside, fits a gate that can switch within the data (a different model)`;
}
