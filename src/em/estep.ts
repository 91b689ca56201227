/** The E-step as a stand-alone function (the fitter itself calls the backend directly). */
import type { Dataset, Model } from '../models/types.js';
import { isMasked } from '../models/gates/index.js';
import { createBackend, type Backend } from './backend/index.js';

/**
 * Responsibilities and log-likelihood of a model on data, through a backend.
 * @returns resp (n × k, row-major; inactive top-K experts exactly 0), logPi (n × k, log π_j(x_i)),
 *   logLik = Σ_i log p(y_i | x_i)
 * @throws when model and data disagree in d
 */
export function eStep(
  model: Model,
  data: Dataset,
  backend: 'cpu' | 'gpu' | 'auto' | Backend = 'cpu',
): { resp: Float64Array; logPi: Float64Array; logLik: number } {
  if (model.d !== data.d) throw new Error(`data.d must equal the model's d = ${model.d}. Value: ${data.d}`);
  const be = createBackend(backend, { n: data.n, k: model.k });
  const { n } = data;
  const k = model.k;
  const logPi = new Float64Array(n * k);
  const pi = new Float64Array(n * k);
  const resp = new Float64Array(n * k);
  const topk = isMasked(model.gate);
  be.gateProbs(model, data.X, n, logPi, pi, topk ? new Uint8Array(n * k) : null, topk ? 'compute' : 'none');
  const logLik = be.eStep(model, data.X, data.y, n, logPi, resp);
  return { resp, logPi, logLik };
}
