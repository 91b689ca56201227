/**
 * The spec of a plan's whole-figure design: the planned run's spec with the design's n grid and
 * replications, and only the models that own a planned row, so that `gmoe sweep` runs it as it is.
 */
import { validateSpec } from '../spec.js';
import type { ExperimentSpec } from '../types.js';
import { parseMetric } from './metrics.js';
import type { RatePlan } from './planner.js';

/** What {@link decisiveSpec} returns: the spec, and the labels of the models it left out. */
export interface DecisiveSpec {
  spec: ExperimentSpec;
  /** models of the planned run without a planned row (left out of the spec) */
  leftOut: string[];
}

/**
 * The planned run's spec sized to the plan's whole-figure design: `n` and `replications` from it, the
 * name suffixed `-decisive` (once), no `quick` flag; a multi-model spec keeps the models some planned row
 * names (and their theory; a single one left keeps its metrics without the label). Everything else —
 * seed, starts, EM options, records — stays the pilot's, since the plan's widths and costs were
 * measured with them.
 * @throws Error when the plan has no whole-figure design
 * @example decisiveSpec(meta.spec, planRates(summary, records)!).spec.replications
 */
export function decisiveSpec(spec: ExperimentSpec, plan: RatePlan): DecisiveSpec {
  if (!plan.figure) throw new Error('the plan has no design that decides every planned row at once');
  const labels = spec.models.map((m) => m.label);
  const owners = new Set(plan.figure.metrics.map((m) => parseMetric(m, labels).model));
  // a single-model spec's rows carry no label; a multi-model one's rows all do
  const kept = labels.length > 1 ? labels.filter((l) => owners.has(l)) : labels;
  const keptSet = new Set(kept);
  // a spec of one model names its metrics without the label
  const unlabel = labels.length > 1 && kept.length === 1;
  const theory = Object.fromEntries(
    Object.entries(spec.theory).flatMap(([k, p]) => {
      const { model, base } = parseMetric(k, labels);
      if (model === undefined) return [[k, p]];
      return keptSet.has(model) ? [[unlabel ? base : k, p]] : [];
    }),
  );
  const { quick: _quick, ...rest } = spec;
  const out = validateSpec({
    ...rest,
    // planned again from a decisive run: one suffix
    name: spec.name.endsWith('-decisive') ? spec.name : `${spec.name}-decisive`,
    models: spec.models.filter((m) => keptSet.has(m.label)),
    n: plan.figure.design.n,
    replications: plan.figure.design.replications,
    theory,
  });
  return { spec: out, leftOut: labels.filter((l) => !keptSet.has(l)) };
}
