/**
 * `gmoe select --gate A,B,...` (and the table of one gate): every gate's selection of k side by side, and the (gate, k) with the
 * smallest criterion over all of them — comparing gates as flexmix users compare models by AIC / BIC.
 */
import { csvNumber as num } from '../../models/dataset-io.js';
import { SELECT_CRITERIA, type SelectCriterion, type SelectResult, type SelectRow } from '../../em/select.js';

/** One gate's selection, under its --gate text. */
export interface GateSelection {
  gate: string;
  result: SelectResult;
}

export type CompareRow = Pick<
  SelectRow,
  'k' | 'logLik' | 'df' | 'aic' | 'bic' | 'icl' | 'converged' | 'stopReason' | 'iterations'
> & { gate: string };

export interface Comparison {
  criterion: SelectCriterion;
  rows: CompareRow[];
  /** the (gate, k) each criterion would choose */
  best: Record<SelectCriterion, { gate: string; k: number }>;
  chosen: { gate: string; k: number };
  /** each gate's notes (a larger k below a smaller one), prefixed with the gate */
  notes: string[];
}

/** Every (gate, k) row; each criterion's smallest (the first on a tie: gates in the order given, k increasing). */
export function compareGates(results: GateSelection[], criterion: SelectCriterion): Comparison {
  const rows: CompareRow[] = results.flatMap(({ gate, result }) =>
    result.rows.map(({ k, logLik, df, aic, bic, icl, converged, stopReason, iterations }) => ({
      gate,
      ...{ k, logLik, df, aic, bic, icl, converged, stopReason, iterations },
    })),
  );
  const argmin = (key: SelectCriterion) => {
    let best = rows[0]!;
    for (const r of rows) if (r[key] < best[key]) best = r;
    return { gate: best.gate, k: best.k };
  };
  const best = { bic: argmin('bic'), aic: argmin('aic'), icl: argmin('icl') };
  const notes = results.flatMap(({ gate, result }) => result.notes.map((n) => `${gate}: ${n}`));
  return { criterion, rows, best, chosen: best[criterion], notes };
}

/** A row's cells: its k (starred when chosen), log-likelihood, df, criteria and convergence. */
export function rowCells(
  x: Pick<SelectRow, 'k' | 'logLik' | 'df' | 'aic' | 'bic' | 'icl' | 'converged' | 'stopReason'>,
  chosen: boolean,
): string[] {
  return [
    `${x.k}${chosen ? ' *' : ''}`,
    x.logLik.toFixed(4),
    String(x.df),
    x.aic.toFixed(3),
    x.bic.toFixed(3),
    x.icl.toFixed(3),
    x.converged ? 'yes' : `no (${x.stopReason})`,
  ];
}

/** Text columns: the first `left` and the last padded to the right, the numbers between to the left. */
export function alignCells(cells: string[][], left: number): string[] {
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  return cells.map((row) =>
    row
      .map((v, c) => (c < left || c === row.length - 1 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}

const isChosen = (c: Comparison, r: CompareRow) => r.gate === c.chosen.gate && r.k === c.chosen.k;

/** The rows as CSV. */
export function compareCsv(c: Comparison): string {
  const head = 'gate,k,logLik,df,AIC,BIC,ICL,converged,iterations,chosen';
  const rows = c.rows.map((r) =>
    [
      r.gate,
      r.k,
      num(r.logLik),
      r.df,
      num(r.aic),
      num(r.bic),
      num(r.icl),
      r.converged,
      r.iterations,
      isChosen(c, r),
    ].join(','),
  );
  return `${[head, ...rows].join('\n')}\n`;
}

/** The rows as text, and the choice. */
export function compareTable(c: Comparison): string {
  const cells = [['gate', 'k', 'logLik', 'df', 'AIC', 'BIC', 'ICL', 'converged']];
  for (const r of c.rows) cells.push([r.gate, ...rowCells(r, isChosen(c, r))]);
  const lines = alignCells(cells, 2);
  const others = SELECT_CRITERIA.filter((k) => k !== c.criterion)
    .map((k) => `${k.toUpperCase()}: ${c.best[k].gate}, k = ${c.best[k].k}`)
    .join('; ');
  lines.push(`chosen: gate ${c.chosen.gate}, k = ${c.chosen.k} by ${c.criterion.toUpperCase()} (${others})`);
  for (const note of c.notes) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}
