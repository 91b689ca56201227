/**
 * The bootstrap standard errors as a text table (for the CLI): the observed-information table's rows
 * and number format, the bootstrap SD as the error, and the percentile interval; beside the
 * observed-information errors (and their ratio) when both were computed.
 */
import type { BootstrapStandardErrors } from './boot-se.js';
import { alignColumns, formatSeNumber as fmt, type StandardErrors } from './se.js';

/** "2.5 %" for a level of 0.95. */
const percent = (p: number) => `${Number((100 * p).toPrecision(4))} %`;

/** The table, then the notes (the information's too, when given). */
export function formatBootstrapStandardErrors(r: BootstrapStandardErrors, info?: StandardErrors): string {
  const a = (1 - r.level) / 2;
  const interval = [percent(a), percent(1 - a)];
  const error = (se: number | null, fixed?: string) => (se !== null ? fmt(se) : fixed ? 'fixed' : '—');
  const body = r.rows.map((row, i) => {
    const bounds = [row.lower, row.upper].map((v) => (v === null ? '' : fmt(v)));
    if (!info) {
      const z = row.se !== null && row.se > 0 ? (row.estimate / row.se).toFixed(2) : '';
      return [row.param, fmt(row.estimate), error(row.se, row.fixed), z, ...bounds];
    }
    const h = info.rows[i]!.se;
    const ratio = h !== null && h > 0 && row.se !== null ? (row.se / h).toFixed(3) : '';
    return [row.param, fmt(row.estimate), error(h, info.rows[i]!.fixed), error(row.se, row.fixed), ratio, ...bounds];
  });
  const head = info
    ? ['parameter', 'estimate', 'information', 'bootstrap', 'boot/info', ...interval]
    : ['parameter', 'estimate', 'std. error', 'z', ...interval];
  const counts = `${r.used} used, ${r.failed} failed, ${r.relabelled} relabelled`;
  const title = info
    ? `standard errors (inverse observed information, status ${info.status}; parametric bootstrap, B = ${r.B}: ${counts}; n = ${r.n}; percentile interval of the bootstrap):`
    : `standard errors (parametric bootstrap, B = ${r.B}: ${counts}; n = ${r.n}; percentile interval):`;
  const out = [title, ...alignColumns(head, body)];
  // the notes both give (the reference expert) once
  for (const note of new Set([...(info?.notes ?? []), ...r.notes])) out.push(`note: ${note}`);
  return `${out.join('\n')}\n`;
}
