/**
 * The starts audit (issue 17): single-start fits on the presets' data, each compared with the best
 * log-likelihood any start (or a near-truth start) reached on the same data. A fit that ends more
 * than GAP nats below that best must carry a warning (degenerate ending, no convergence): one that
 * does not is a silent failure. `npx tsx scripts/starts-audit.ts [--big]` prints the table of
 * docs/fitting.md (gate × n × start: fits, how many reach the best, how many warn, how many fail silently);
 * test/em/starts-audit.test.ts runs the CI-sized grid and requires zero silent failures.
 */
import { pathToFileURL } from 'node:url';
import { simulate, truthPreset, type Model } from '../src/models/index.js';
import { fitMoE, type InitOption } from '../src/em/index.js';

export const GAP = 1;

export interface AuditRow {
  truth: string;
  n: number;
  start: string;
  fits: number;
  best: number;
  warned: number;
  silent: number;
  worstSilent: number;
}

export interface AuditCase {
  truth: string;
  k: number;
}

export const AUDIT_CASES: AuditCase[] = [
  { truth: 'demy', k: 2 },
  { truth: 'demy', k: 3 },
  { truth: 'k3', k: 3 },
  { truth: 'topk1', k: 2 },
  { truth: 'temp-tanh', k: 2 },
];
export const AUDIT_STARTS: [string, InitOption][] = [
  ['kmeans', { kind: 'kmeans' }],
  ['random', { kind: 'random' }],
  ['softmax-first', { kind: 'softmax-first' }],
  ['softmax-first:random', { kind: 'softmax-first', from: 'random' }],
];

/** Runs the audit: per case, n and data seed, `seeds` single-start fits of every start family. */
export function runAudit(ns: number[], dataSeeds: number, seeds: number, maxIter = 2000): AuditRow[] {
  const rows: AuditRow[] = [];
  for (const c of AUDIT_CASES) {
    const truth: Model = truthPreset(c.truth);
    for (const n of ns) {
      const per = new Map<string, AuditRow>();
      for (let ds = 1; ds <= dataSeeds; ds++) {
        const data = simulate(truth, { n, seed: 1000 + ds });
        const fits: { start: string; logLik: number; warned: boolean }[] = [];
        for (const [start, init] of AUDIT_STARTS) {
          for (let s = 1; s <= seeds; s++) {
            const f = fitMoE(data, { gate: truth.gate, k: c.k, init, seed: s, maxIter });
            fits.push({ start, logLik: f.logLik, warned: f.warnings.length > 0 });
          }
        }
        const near = fitMoE(data, { gate: truth.gate, k: c.k, init: { kind: 'near-truth', truth }, seed: 1, maxIter });
        const best = Math.max(near.logLik, ...fits.map((f) => f.logLik));
        for (const f of fits) {
          const row = per.get(f.start) ?? {
            truth: `${c.truth} k=${c.k}`,
            n,
            start: f.start,
            fits: 0,
            best: 0,
            warned: 0,
            silent: 0,
            worstSilent: 0,
          };
          per.set(f.start, row);
          row.fits++;
          const gap = best - f.logLik;
          if (gap <= GAP) row.best++;
          if (f.warned) row.warned++;
          if (gap > GAP && !f.warned) {
            row.silent++;
            row.worstSilent = Math.max(row.worstSilent, gap);
          }
        }
      }
      rows.push(...per.values());
    }
  }
  return rows;
}

/** The audit as a markdown table. */
export function auditTable(rows: AuditRow[]): string {
  const lines = [
    '| truth (fit k) | n | start | fits | reach the best (±1 nat) | warn | silent failures (worst gap, nats) |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.truth} | ${r.n} | ${r.start} | ${r.fits} | ${r.best} | ${r.warned} | ${r.silent}${r.silent ? ` (${r.worstSilent.toFixed(1)})` : ''} |`,
    );
  const t = rows.reduce(
    (a, r) => ({
      fits: a.fits + r.fits,
      best: a.best + r.best,
      warned: a.warned + r.warned,
      silent: a.silent + r.silent,
    }),
    { fits: 0, best: 0, warned: 0, silent: 0 },
  );
  lines.push(`| **all** | | | ${t.fits} | ${t.best} | ${t.warned} | ${t.silent} |`);
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const big = process.argv.includes('--big');
  process.stdout.write(`${auditTable(runAudit(big ? [300, 3000] : [300], big ? 2 : 1, big ? 3 : 5))}\n`);
}
