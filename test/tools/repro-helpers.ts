import { summarise } from '../../src/experiments/analysis/summarise.js';
import type { CellRecord, ExperimentSpec, Prediction, Summary } from '../../src/experiments/types.js';
import { createRng } from '../../src/random/rng.js';

/** Small synthetic summaries for the repro checks: metric = f(n)·exp(σε), a few n and replications. */
export function syntheticSummary(opts: {
  metrics: Record<string, { f: (n: number) => number; prediction?: Prediction }>;
  ns?: number[];
  reps?: number;
  sigma?: number;
  seed?: number;
  failed?: number;
  bootstrap?: number;
  laws?: 'auto' | 'all' | 'none' | 'predicted';
}): { summary: Summary; spec: ExperimentSpec; records: CellRecord[] } {
  const ns = opts.ns ?? [500, 1000, 2000, 5000, 10000, 20000, 50000];
  const reps = opts.reps ?? 8;
  const sigma = opts.sigma ?? 0.1;
  const rng = createRng(opts.seed ?? 3);
  const records: CellRecord[] = [];
  let failedLeft = opts.failed ?? 0;
  for (const n of ns) {
    for (let rep = 0; rep < reps; rep++) {
      const failed = failedLeft > 0 && n === ns[0];
      if (failed) failedLeft--;
      const metrics: Record<string, number> = {};
      if (!failed)
        for (const [k, m] of Object.entries(opts.metrics)) metrics[k] = m.f(n) * Math.exp(sigma * rng.normal());
      records.push({
        n,
        rep,
        seed: n * 100 + rep,
        model: 'softmax',
        status: failed ? 'failed' : 'ok',
        ...(failed ? { error: 'fit: boom' } : {}),
        metrics,
        logLik: -1,
        iterations: 5,
        converged: !failed,
        warnings: [],
        seconds: 0,
      });
    }
  }
  const theory: Record<string, Prediction> = {};
  for (const [k, m] of Object.entries(opts.metrics)) if (m.prediction) theory[k] = m.prediction;
  const spec: ExperimentSpec = {
    name: 'synthetic',
    truth: 'demy',
    design: 'uniform',
    models: [{ label: 'softmax', gate: { kind: 'softmax' }, k: 2 }],
    n: ns,
    replications: reps,
    init: { kind: 'near-truth', noise: 'shrinking' },
    restarts: 1,
    em: {},
    loss: 'D1',
    theory,
    seed: 11,
  };
  const summary = summarise(records, spec, {
    bootstrap: opts.bootstrap ?? 200,
    laws: opts.laws ?? 'auto',
    provenance: { gmoe: 'test', node: 'v20', platform: 'test' },
  });
  return { summary, spec, records };
}
