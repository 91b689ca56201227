import type { CellRecord, ExperimentSpec, Prediction } from '../../src/experiments/types.js';
import { createRng } from '../../src/random/rng.js';

/** Synthetic cell records: metric = c·n^slope·exp(σε) (or a custom law), some failed / non-converged. */
export function syntheticRecords(opts: {
  ns: number[];
  reps: number;
  seed?: number;
  models?: string[];
  prefix?: boolean;
  metrics: Record<string, (n: number) => number>;
  sigma?: number;
  failed?: (n: number, rep: number, model: string) => boolean;
  notConverged?: (n: number, rep: number, model: string) => boolean;
}): CellRecord[] {
  const rng = createRng(opts.seed ?? 1);
  const sigma = opts.sigma ?? 0.3;
  const out: CellRecord[] = [];
  for (const model of opts.models ?? ['softmax']) {
    for (const n of opts.ns) {
      for (let rep = 0; rep < opts.reps; rep++) {
        const failed = opts.failed?.(n, rep, model) ?? false;
        const metrics: Record<string, number> = {};
        if (!failed) {
          for (const [k, f] of Object.entries(opts.metrics))
            metrics[opts.prefix ? `${model}:${k}` : k] = f(n) * Math.exp(sigma * rng.normal());
        }
        out.push({
          n,
          rep,
          seed: 1000 * n + rep,
          model,
          status: failed ? 'failed' : 'ok',
          ...(failed ? { error: 'EM: log-likelihood is NaN' } : {}),
          metrics,
          logLik: -1,
          iterations: 10,
          converged: !failed && !(opts.notConverged?.(n, rep, model) ?? false),
          warnings: [],
          seconds: 0.01,
        });
      }
    }
  }
  return out;
}

export function syntheticSpec(
  theory: Record<string, Prediction>,
  models: string[] = ['softmax'],
  seed = 5,
): ExperimentSpec {
  return {
    name: 'synthetic',
    truth: 'demy',
    design: 'uniform',
    models: models.map((label) => ({
      label,
      gate: { kind: 'softmax' } as ExperimentSpec['models'][number]['gate'],
      k: 2,
    })),
    n: [100, 1000],
    replications: 10,
    init: { kind: 'near-truth', noise: 'shrinking' },
    restarts: 1,
    em: {},
    loss: 'D1',
    theory,
    seed,
  };
}
