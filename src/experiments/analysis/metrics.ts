/**
 * Metric names (see types.ts): losses "D1", "D2", "loss", "hellinger"; per-parameter errors
 * `${param}|m=${m}`; in multi-model specs either may carry a `${label}:` prefix.
 * Parsing them once here gives summaries, tables and figures one order and one grouping.
 */

export const LOSS_ORDER = ['D1', 'D2', 'loss', 'hellinger'] as const;
export const PARAM_ORDER = ['beta1', 'beta1tau', 'a', 'b', 'nu', 'beta0', 'beta0tau', 'tau'] as const;

/** A metric name taken apart. */
export interface MetricName {
  /** the full name as stored */
  name: string;
  /** model label prefix, if any */
  model?: string;
  /** the name without the model prefix */
  base: string;
  kind: 'loss' | 'param' | 'other';
  /** parameter of a per-parameter error */
  param?: string;
  /** Voronoi cell size of a per-parameter error */
  m?: number;
  /** a weighted error of a multi-atom cell (`${param}_w|m=${m}`, param the plain name) or `share_min|m=${m}` */
  weighted?: boolean;
}

const PARAM_RE = /^([A-Za-z0-9_]+)\|m=(\d+)$/;

/**
 * Splits a metric name into model prefix, base name, and parameter / cell size.
 * @param labels model labels that may appear as `${label}:` prefixes
 */
export function parseMetric(name: string, labels: readonly string[] = []): MetricName {
  let model: string | undefined;
  let base = name;
  for (const l of labels) {
    if (name.startsWith(`${l}:`)) {
      model = l;
      base = name.slice(l.length + 1);
      break;
    }
  }
  if (model === undefined) {
    const i = name.indexOf(':');
    if (i > 0) {
      model = name.slice(0, i);
      base = name.slice(i + 1);
    }
  }
  if ((LOSS_ORDER as readonly string[]).includes(base)) return { name, model, base, kind: 'loss' };
  const m = PARAM_RE.exec(base);
  if (m) {
    const p = m[1]!;
    if (p.endsWith('_w'))
      return { name, model, base, kind: 'param', param: p.slice(0, -2), m: Number(m[2]), weighted: true };
    if (p === 'share_min') return { name, model, base, kind: 'param', param: p, m: Number(m[2]), weighted: true };
    return { name, model, base, kind: 'param', param: p, m: Number(m[2]) };
  }
  return { name, model, base, kind: 'other' };
}

/**
 * Sort key: model (in the given label order, unknown ones after, by name), then losses,
 * then per-parameter errors by cell size and parameter, then other metrics by name.
 */
export function compareMetrics(a: MetricName, b: MetricName, labels: readonly string[] = []): number {
  const mi = (x: MetricName) =>
    x.model === undefined ? -1 : labels.indexOf(x.model) >= 0 ? labels.indexOf(x.model) : labels.length;
  if (mi(a) !== mi(b)) return mi(a) - mi(b);
  if ((a.model ?? '') !== (b.model ?? '')) return (a.model ?? '') < (b.model ?? '') ? -1 : 1;
  const rank = (x: MetricName) => (x.kind === 'loss' ? 0 : x.kind === 'param' ? 1 : 2);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (a.kind === 'loss') return LOSS_ORDER.indexOf(a.base as never) - LOSS_ORDER.indexOf(b.base as never);
  if (a.kind === 'param') {
    if (a.m !== b.m) return (a.m ?? 0) - (b.m ?? 0);
    if (!a.weighted !== !b.weighted) return a.weighted ? 1 : -1;
    const pa = PARAM_ORDER.indexOf(a.param as never);
    const pb = PARAM_ORDER.indexOf(b.param as never);
    const ra = pa < 0 ? PARAM_ORDER.length : pa;
    const rb = pb < 0 ? PARAM_ORDER.length : pb;
    if (ra !== rb) return ra - rb;
  }
  return a.base < b.base ? -1 : a.base > b.base ? 1 : 0;
}

const PARAM_LABEL: Record<string, string> = {
  beta1: 'β₁',
  beta1tau: 'β₁/τ',
  a: 'a',
  b: 'b',
  nu: 'ν',
  beta0: 'weight',
  beta0tau: 'weight of β₀/τ',
  tau: 'τ',
  share_min: 'smallest weight share',
};

const LOSS_LABEL: Record<string, string> = { D1: 'D₁', D2: 'D₂', loss: 'loss', hellinger: 'Hellinger' };

/** A short human name for a metric's base, e.g. "β₁" or "D₁" (no model prefix). */
export function displayName(m: MetricName): string {
  if (m.kind === 'loss') return LOSS_LABEL[m.base] ?? m.base;
  if (m.kind === 'param') return PARAM_LABEL[m.param ?? ''] ?? m.param ?? m.base;
  return m.base;
}
