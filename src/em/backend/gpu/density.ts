/** E-step and log-likelihood on the device: per-sample log-densities (and responsibilities), summed on the host. */
import type { Model } from '../../../models/types.js';
import { NO_DENSITY_THRESHOLD, estepSource } from '../gpu-kernels.js';
import { RESOLUTION_SIGMAS, U32, centredX, centredY, chunkLength, kernel, run, type GpuContext } from './context.js';
import { packExperts, uploadLogPi } from './pack.js';

/** Shared by eStep and logLik: Σ_i log p(y_i | x_i), responsibilities into resp when given. */
export function gpuDensity(
  g: GpuContext,
  m: Model,
  X: Float64Array,
  y: Float64Array,
  n: number,
  logPi: Float64Array,
  resp: Float64Array | null,
): number {
  const { k, d } = m;
  const xe = centredX(g, X, n, d);
  const ye = centredY(g, y, n);
  const lp = xe.safe && ye.safe && packExperts(g, m, xe.mu, ye.mu[0]!) ? uploadLogPi(g, logPi, n * k) : null;
  if (lp === null) {
    g.stats.cpuDelegations++;
    g.resolution = 0;
    return resp ? g.cpu.eStep(m, X, y, n, logPi, resp) : g.cpu.logLik(m, X, y, n, logPi);
  }
  const row = resp ? k + 2 : 2;
  const C = chunkLength(g, n, k, d);
  // Neumaier-compensated Float64 sum of the float32 per-sample values
  let sum = 0;
  let comp = 0;
  let bad = 0; // −Infinity or NaN, as the CPU backend would return
  let kap2 = 0;
  for (let s0 = 0; s0 < n; s0 += C) {
    const c = Math.min(C, n - s0);
    const key = `${resp ? 'estep' : 'loglik'}|c=${c}|k=${k}|d=${d}`;
    const e = kernel(g, key, c * row, ['X', 'Y', 'LP', 'E'], () => estepSource(c, k, d, resp !== null));
    const out = run(g, e, key, [
      xe.c.subarray(s0 * d, (s0 + c) * d),
      ye.c.subarray(s0, s0 + c),
      lp.subarray(s0 * k, (s0 + c) * k),
      g.eP,
    ]);
    for (let i = 0, p = 0; i < c; i++, p += row) {
      const ll = out[p + row - 2]!;
      const o = (s0 + i) * k;
      if (!(ll > NO_DENSITY_THRESHOLD)) {
        bad += ll === ll ? -Infinity : NaN;
        if (resp) for (let j = 0; j < k; j++) resp[o + j] = NaN;
        continue;
      }
      if (resp) for (let j = 0; j < k; j++) resp[o + j] = out[p + j]!;
      const t = sum + ll;
      comp += Math.abs(sum) >= Math.abs(ll) ? sum - t + ll : ll - t + sum;
      sum = t;
      const kap = out[p + row - 1]!;
      kap2 += kap * kap;
    }
  }
  g.resolution = RESOLUTION_SIGMAS * U32 * Math.sqrt(kap2);
  return bad !== 0 ? bad : sum + comp;
}
