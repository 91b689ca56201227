import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitWorkModel, formatPlan, planRates } from '../../src/experiments/analysis/planner.js';
import { runSweep } from '../../src/experiments/runner.js';
import { validateSpec } from '../../src/experiments/spec.js';
import { readResults } from '../../src/experiments/store.js';
import type { ExperimentSpec } from '../../src/experiments/types.js';
import { syntheticRecords, syntheticSpec } from './analysis-helpers.js';
import { summarise } from '../../src/experiments/analysis/summarise.js';
import { parseBudget } from '../../src/cli/commands/plan.js';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp-dir.js';

const BIN = fileURLToPath(new URL('../../bin/gmoe.js', import.meta.url));
function gmoe(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const tmp = () => tempDir('planner');

describe('planner', () => {
  it('asks for more replications or a wider n range where the interval is wide, none where it already decides', () => {
    const ns = [1000, 2000, 5000, 10000, 20000];
    const records = syntheticRecords({
      ns,
      reps: 8,
      sigma: 0.8,
      metrics: { D1: (n) => n ** -0.5, 'b|m=1': (n) => n ** -0.5 },
    }).map((r) => ({ ...r, metrics: { ...r.metrics, 'b|m=1': r.n ** -0.5 * Math.exp(0.02 * Math.sin(r.rep + r.n)) } }));
    const s = summarise(records, syntheticSpec({ D1: { exponent: -0.5 }, 'b|m=1': { exponent: -0.5 } }), {
      bootstrap: 400,
    });
    const plan = s.plan!;
    const d1 = plan.rows.find((r) => r.metric === 'D1')!;
    const b = plan.rows.find((r) => r.metric === 'b|m=1')!;
    expect(d1.halfWidth).toBeGreaterThan(0.125);
    expect(d1.target).toBeCloseTo(0.125, 12);
    expect(d1.predictedHalfWidth!).toBeLessThanOrEqual(0.125);
    expect(d1.design!.replications * d1.design!.n.count).toBeGreaterThan(8 * 5);
    expect(b.design!.replications).toBe(5); // already decisive: the fewest replications allowed
    expect(plan.figure!.design.replications).toBeGreaterThanOrEqual(
      d1.design!.replications * (d1.design!.n.count >= plan.figure!.design.n.count ? 0 : 1),
    );
    // work ∝ n here (10 iterations per cell): the model finds the power
    expect(fitWorkModel(records).slope).toBeCloseTo(1, 10);
    const text = formatPlan(plan, { secondsPerWork: 1e-6, workers: 2, budgetSeconds: 1e-3 }).join('\n');
    expect(text).toMatch(/D1 \(-1\/2, \w+\): ±\d\.\d\d → ±0\.125: n 1000–\d+ \(\d+ log-spaced\) × \d+ reps/);
    expect(text).toMatch(/over the budget/);
    expect(text).toMatch(/whole figure/);
  });

  it('reads durations for --budget and rejects others, naming the flag', () => {
    expect(parseBudget('1h')).toBe(3600);
    expect(parseBudget('30min')).toBe(1800);
    expect(parseBudget('2d')).toBe(172800);
    expect(parseBudget('90')).toBe(90);
    expect(() => parseBudget('soon')).toThrow(/--budget must be .* Value: soon/);
  });

  it('predicts the width of a planned sweep within 25 % (pilot, plan, run the plan)', async () => {
    const base: ExperimentSpec = validateSpec({
      name: 'planner-check',
      truth: 'demy',
      models: [{ label: 'softmax', gate: { kind: 'softmax' }, k: 2 }],
      n: { from: 300, to: 3000, count: 4, spacing: 'log' },
      replications: 8,
      init: { kind: 'near-truth', noise: 'shrinking' },
      restarts: 1,
      loss: 'D1',
      record: { hellinger: false, perParameter: false, fitted: false },
      theory: { D1: { exponent: -0.5 } },
      seed: 11,
    });
    const pilotDir = tmp();
    const pilot = await runSweep(base, { outDir: pilotDir, workers: 1, plots: 'none' });
    const s = pilot.analysis!.summary;
    const d1 = s.metrics.find((m) => m.metric === 'D1')!;
    const hw0 = (d1.mean.ci[1] - d1.mean.ci[0]) / 2;
    // half the pilot's width, on the pilot's n grid: about four times the replications
    const plan = planRates(s, readResults(join(pilotDir, 'results.jsonl')).records, {
      metrics: ['D1'],
      targetHalfWidth: hw0 / 2,
      toFactors: [1],
      counts: [4],
    })!;
    const row = plan.rows[0];
    expect(row.design!.n).toEqual({ from: 300, to: 3000, count: 4, spacing: 'log' });
    expect(row.design!.replications).toBeGreaterThanOrEqual(28);
    const big = validateSpec({ ...base, n: row.design!.n, replications: row.design!.replications, seed: 12 });
    const res = await runSweep(big, { outDir: tmp(), workers: 1, plots: 'none' });
    const got = res.analysis!.summary.metrics.find((m) => m.metric === 'D1')!;
    const achieved = (got.mean.ci[1] - got.mean.ci[0]) / 2;
    expect(Math.abs(achieved / row.predictedHalfWidth! - 1)).toBeLessThan(0.25);

    // gmoe plan on the pilot's directory: a design and a CPU time per row and for the figure
    const r = await gmoe(['plan', pilotDir, '--metric', 'D1', '--workers', '2', '--budget', '1h']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /D1 \(-1\/2, \w+\): ±\d\.\d\d → ±0\.125: n 300–\d+ \(\d+ log-spaced\) × \d+ reps \(predicted ±0\.\d+\), CPU .* on 2 workers\)/,
    );
    expect(r.stdout).toMatch(/whole figure \(1 rows\): .* CPU /);
    expect(r.stdout).toContain("(--write-spec FILE writes the whole figure's design as a spec to run with gmoe sweep)");
    // --write-spec: the whole figure's design as a spec gmoe sweep runs; never over an existing file
    const specPath = join(tmp(), 'decisive.json');
    const w = await gmoe(['plan', pilotDir, '--metric', 'D1', '--workers', '2', '--write-spec', specPath]);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr).toContain(`gmoe plan: wrote ${specPath}: the whole figure's design (`);
    // the pilot's cells at the design's n (its first, 300, is the pilot's) need not run again
    expect(w.stderr).toMatch(
      new RegExp(
        `run it with \`gmoe sweep ${specPath} --workers 2 --reuse ${pilotDir}\` \\(\\d+ of its cells are done in ${pilotDir}\\)`,
      ),
    );
    const written = readFileSync(specPath, 'utf8');
    const decisive = validateSpec(JSON.parse(written));
    const n = decisive.n as number[];
    expect([decisive.name, n[0], decisive.seed, decisive.theory]).toEqual([
      'planner-check-decisive',
      300,
      11,
      base.theory,
    ]);
    expect(w.stderr).toContain(`(${decisive.replications} reps; models softmax)`);
    const again = await gmoe(['plan', pilotDir, '--write-spec', specPath]);
    expect([again.code, again.stderr]).toEqual([
      2,
      `gmoe: --write-spec: ${specPath} already exists; choose another file\n`,
    ]);
    expect(readFileSync(specPath, 'utf8')).toBe(written);
    const bad = await gmoe(['plan', pilotDir, '--metric', 'D3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--metric must name a metric of planner-check .*Value: D3/);
  }, 180_000);
});
