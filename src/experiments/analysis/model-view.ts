/**
 * One model of a multi-model run seen as a run of that model alone (`gmoe compare DIR:MODEL`): its spec with
 * that model only and its predictions unprefixed, its records with their metric names unprefixed — so two
 * models of one run line up by metric name, and their cells (the same n and seeds) pair in the difference.
 */
import type { CellRecord, ExperimentSpec } from '../types.js';
import { parseMetric } from './metrics.js';

/**
 * The run's model `label` alone.
 * @throws Error naming the run's models when it has no model `label`
 */
export function modelView(
  spec: ExperimentSpec,
  records: readonly CellRecord[],
  label: string,
): { spec: ExperimentSpec; records: CellRecord[] } {
  const labels = spec.models.map((m) => m.label);
  const model = spec.models.find((m) => m.label === label);
  if (!model) throw new Error(`${spec.name} has no model "${label}" (its models: ${labels.join(', ')})`);
  const theory: ExperimentSpec['theory'] = {};
  // the model's own prediction wins over one the spec makes for every model
  for (const [k, p] of Object.entries(spec.theory))
    if (parseMetric(k, labels).model === undefined && !(k in theory)) theory[k] = p;
  for (const [k, p] of Object.entries(spec.theory)) {
    const m = parseMetric(k, labels);
    if (m.model === label) theory[m.base] = p;
  }
  const prefix = `${label}:`;
  const bare = (k: string) => (k.startsWith(prefix) ? k.slice(prefix.length) : k);
  return {
    // named for the model, so that tables and figures say which one the run is
    spec: { ...spec, name: `${spec.name}:${label}`, models: [model], theory },
    records: records
      .filter((r) => r.model === label)
      .map((r) => ({ ...r, metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [bare(k), v])) })),
  };
}
