/**
 * Spurious atoms with and without bounds (issue 13, item 3): for each sweep directory given, per n,
 * the share of fits whose D2 exceeds 100 × that n's median D2 (a spurious atom), the mean/median
 * ratio of D2, the fits that ended on a bound, and the D2 slopes of the mean and median curves
 * (summary.json) with the cells' CPU time. Prints a Markdown table (docs/experiments.md).
 *
 *   npx tsx scripts/bounds-measure.ts <label>=<sweep dir> ...
 *
 * The sweeps compared should share their spec but for em.bounds (same seeds: the cell seeds derive
 * from (seed, n, rep) only). Run them with, e.g.,
 *   nice -n 10 npx gmoe sweep demy-over --quick --reps 48 --workers 1 --no-png --out /tmp/none
 *   nice -n 10 npx gmoe sweep demy-over --quick --reps 48 --workers 1 --no-png --out /tmp/wide --bounds beta1=50,beta0=20,nu=0.01:10
 * CPU: the user time in `<dir>.time` when there is one (`/usr/bin/time -f "%U %e" -o <dir>.time …`),
 * else the sum of the cells' wall times (inflated on a loaded machine).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A fit is spurious when its D2 exceeds this many times the per-n median. */
const SPURIOUS_FACTOR = 100;

interface Rec {
  n: number;
  status: string;
  metrics?: Record<string, number>;
  seconds: number;
  warnings?: string[];
}
interface Slope {
  slope: number;
  ci: [number, number];
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : 0.5 * (s[h - 1]! + s[h]!);
}

const fmt = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '—');
const slope = (s: Slope | undefined) => (s ? `${fmt(s.slope)} [${fmt(s.ci[0])}, ${fmt(s.ci[1])}]` : '—');

function analyse(label: string, dir: string): string[] {
  const recs: Rec[] = readFileSync(join(dir, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Rec);
  const { spec } = JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8')) as {
    spec: { name: string; replications: number; em: { bounds?: Record<string, unknown> } };
  };
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as {
    metrics: { metric: string; mean?: Slope; median?: Slope }[];
  };
  const d2 = summary.metrics.find((m) => m.metric === 'D2');
  const hel = summary.metrics.find((m) => m.metric === 'hellinger');
  const byN = new Map<number, Rec[]>();
  for (const r of recs)
    if (r.status === 'ok' && r.metrics?.D2 !== undefined) byN.set(r.n, [...(byN.get(r.n) ?? []), r]);
  const timeFile = `${dir.replace(/\/$/, '')}.time`;
  const cpu = existsSync(timeFile)
    ? `${fmt(Number(readFileSync(timeFile, 'utf8').split(/\s+/)[0]), 0)} s`
    : `${fmt(
        recs.reduce((s, r) => s + r.seconds, 0),
        0,
      )} s (cells' wall)`;
  const rows: string[] = [];
  let spurious = 0;
  let total = 0;
  const shares: string[] = [];
  const ratios: string[] = [];
  let onBound = 0;
  for (const n of [...byN.keys()].sort((a, b) => a - b)) {
    const rs = byN.get(n)!;
    const v = rs.map((r) => r.metrics!.D2!);
    const med = median(v);
    const s = v.filter((x) => x > SPURIOUS_FACTOR * med).length;
    spurious += s;
    total += v.length;
    shares.push(`${s}/${v.length}`);
    ratios.push(fmt(v.reduce((a, b) => a + b, 0) / v.length / med, 1));
    onBound += rs.filter((r) => r.warnings?.some((w) => w.includes('ended on its bounds'))).length;
  }
  rows.push(
    `| ${spec.name} × ${spec.replications} | ${label} | ${shares.join(', ')} | ${fmt((100 * spurious) / total, 0)} % | ${ratios.join(', ')} | ${slope(d2?.mean)} | ${slope(d2?.median)} | ${slope(hel?.median)} | ${onBound}/${total} | ${cpu} |`,
  );
  return rows;
}

const args = process.argv.slice(2);
if (args.length === 0) {
  process.stderr.write('usage: tsx scripts/bounds-measure.ts <label>=<sweep dir> ...\n');
  process.exit(2);
}
process.stdout.write(
  `| preset × reps | bounds | spurious fits at each n (D2 > ${SPURIOUS_FACTOR}× median) | share | mean / median of D2 at each n | D2 slope, mean curve [95 %] | median curve [95 %] | Hellinger (median) | fits ending on a bound | CPU |\n|---|---|---|---|---|---|---|---|---|---|\n`,
);
for (const a of args) {
  const eq = a.indexOf('=');
  if (eq <= 0) {
    process.stderr.write(`bounds-measure: expected <label>=<dir>. Value: ${a}\n`);
    process.exit(2);
  }
  for (const row of analyse(a.slice(0, eq), a.slice(eq + 1))) process.stdout.write(`${row}\n`);
}
