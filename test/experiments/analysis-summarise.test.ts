import { describe, expect, it } from 'vitest';
import { fixed, formatSummaryTable, summarise } from '../../src/experiments/analysis/index.js';
import type { CellRecord } from '../../src/experiments/types.js';
import { createRng } from '../../src/random/rng.js';
import { syntheticRecords, syntheticSpec } from './analysis-helpers.js';

const NS = [100, 300, 1000, 3000, 10000];

describe('summarise', () => {
  const records = syntheticRecords({
    ns: NS,
    reps: 12,
    metrics: { D1: (n) => 2 * n ** -0.5, 'beta1|m=1': (n) => 5 * n ** -0.5, 'a|m=2': (n) => n ** -0.25 },
    failed: (n, rep) => n === 300 && rep < 3,
    notConverged: (n, rep) => n === 1000 && rep >= 8,
  });
  const spec = syntheticSpec({ D1: { exponent: -0.5 }, 'beta1|m=1': { exponent: -1 }, 'nu|m=2': { exponent: -0.25 } });
  const s = summarise(records, spec, { bootstrap: 300 });

  it('counts failed and non-converged cells, overall and per n, and keeps non-converged ones in the statistics', () => {
    expect(s.cells).toEqual({ total: 60, ok: 57, failed: 3, notConverged: 4 });
    expect(s.failures).toEqual([{ error: 'EM: log-likelihood is NaN', count: 3 }]);
    const d1 = s.metrics.find((m) => m.metric === 'D1')!;
    const p300 = d1.points.find((p) => p.n === 300)!;
    expect(p300).toMatchObject({ count: 9, failed: 3, notConverged: 0, missing: 0 });
    const p1000 = d1.points.find((p) => p.n === 1000)!;
    expect(p1000).toMatchObject({ count: 12, failed: 0, notConverged: 4 });
    const vals = records.filter((r) => r.n === 1000).map((r) => r.metrics.D1);
    expect(p1000.mean).toBeCloseTo(vals.reduce((a, b) => a + b, 0) / vals.length, 14);
  });

  it('puts the prediction beside the slope and says whether the interval holds it', () => {
    const d1 = s.metrics.find((m) => m.metric === 'D1')!;
    expect(d1.prediction).toEqual({ exponent: -0.5 });
    expect(d1.consistent).toBe(true);
    expect(d1.verdict).toBe('confirmed');
    const b1 = s.metrics.find((m) => m.metric === 'beta1|m=1')!;
    expect(b1.consistent).toBe(false);
    expect(b1.verdict).toBe('contradicted'); // -0.5 measured, -1 predicted
    expect(b1.verdictDetail).toMatch(/slower/);
    expect(b1.mean.ci[0]).toBeGreaterThan(-1);
    expect(s.metrics.find((m) => m.metric === 'a|m=2')!.prediction).toBeUndefined();
  });

  it('orders metrics losses first, then by cell size and parameter, and keeps predicted metrics without data', () => {
    expect(s.metrics.map((m) => m.metric)).toEqual(['D1', 'beta1|m=1', 'a|m=2', 'nu|m=2']);
    const nu = s.metrics.find((m) => m.metric === 'nu|m=2')!;
    expect(nu.points).toEqual([]);
    expect(nu.warnings!.join('\n')).toMatch(/no cell recorded this metric/);
  });

  it('gives equal metrics equal intervals (one bootstrap stream per model)', () => {
    const rs = records.map((r) => (r.status === 'ok' ? { ...r, metrics: { ...r.metrics, loss: r.metrics.D1 } } : r));
    const t = summarise(rs, spec, { bootstrap: 200 });
    const d1 = t.metrics.find((m) => m.metric === 'D1')!;
    const loss = t.metrics.find((m) => m.metric === 'loss')!;
    expect(loss.mean).toEqual(d1.mean);
    expect(loss.median).toEqual(d1.median);
  });

  it('does not depend on the order of the records (shards merged in any order)', () => {
    const rng = createRng(9);
    const shuffled = [...records];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    expect(JSON.stringify(summarise(shuffled, spec, { bootstrap: 300 }))).toBe(JSON.stringify(s));
  });

  it('counts ok cells without a finite value as missing (JSON turns NaN into null)', () => {
    const rs: CellRecord[] = JSON.parse(JSON.stringify(records));
    rs[0].metrics.D1 = null as unknown as number;
    delete rs[1].metrics.D1;
    const t = summarise(rs, spec, { bootstrap: 0 });
    const d1 = t.metrics.find((m) => m.metric === 'D1')!;
    expect(d1.points[0]).toMatchObject({ n: 100, count: 10, missing: 2 });
    expect(d1.warnings!.join('\n')).toMatch(/2 ok cells have no finite value/);
    expect(Number.isNaN(d1.mean.ci[0])).toBe(true); // B = 0: no interval
  });

  it('rejects duplicate cells and malformed records, naming them', () => {
    expect(() => summarise([...records, records[5]], spec)).toThrow(/cell \(model "softmax", n = 100, rep = 5\) twice/);
    const bad = JSON.parse(JSON.stringify(records.slice(0, 3)));
    bad[2].n = 0;
    expect(() => summarise(bad, spec)).toThrow(/records\[2\].n must be an integer ≥ 2. Value: 0/);
    bad[2].n = 100;
    bad[2].status = 'done';
    expect(() => summarise(bad, spec)).toThrow(/records\[2\].status must be "ok" or "failed". Value: "done"/);
    expect(() => summarise(records, spec, { level: 2 })).toThrow(/options.level must be in \(0, 1\). Value: 2/);
  });

  it('formats an aligned table with the numbers of the summary and the counts', () => {
    const t = formatSummaryTable(s);
    expect(t).toMatch(/60 cells: 57 ok, 3 failed, 4 not converged/);
    const d1 = s.metrics.find((m) => m.metric === 'D1')!;
    const row = t.split('\n').find((l) => l.startsWith('D1 '))!;
    expect(row).toContain(`${fixed(d1.mean.slope)} [${fixed(d1.mean.ci[0])}, ${fixed(d1.mean.ci[1])}]`);
    expect(row).toContain(fixed(d1.median.slope));
    expect(row).toContain(fixed(d1.mean.slopeDroppingSmallest));
    expect(row).toMatch(/-1\/2\s+confirmed/);
    expect(t).toMatch(/3× EM: log-likelihood is NaN/);
    // columns line up: every row's second column starts where the header's does
    const lines = t.split('\n');
    const header = lines.find((l) => l.startsWith('metric'))!;
    const col = header.indexOf('mean slope');
    for (const m of s.metrics) {
      const l = lines.find((x) => x.startsWith(`${m.metric} `))!;
      expect(l[col - 1]).toBe(' ');
      expect(l[col]).not.toBe(' ');
    }
  });
});

describe('summarise: multi-model specs and the law comparison', () => {
  const records = syntheticRecords({
    ns: [100, 1000, 10000, 100000, 1000000],
    reps: 20,
    sigma: 0.1,
    models: ['identity', 'tanh'],
    metrics: { D1: (n) => 2 / Math.log(n) },
  }).map((r) =>
    r.model === 'tanh' && r.status === 'ok' ? { ...r, metrics: { D1: r.metrics.D1 * Math.log(r.n) * r.n ** -0.5 } } : r,
  );
  const spec = syntheticSpec({ 'identity:D1': { law: '1/log n' }, D1: { exponent: -0.5 } }, ['identity', 'tanh']);

  it('prefixes unprefixed metrics with the model label and applies unprefixed predictions to every model', () => {
    const s = summarise(records, spec, { bootstrap: 200 });
    expect(s.metrics.map((m) => m.metric)).toEqual(['identity:D1', 'tanh:D1']);
    expect(s.cellsByModel).toEqual({
      identity: { total: 100, ok: 100, failed: 0, notConverged: 0 },
      tanh: { total: 100, ok: 100, failed: 0, notConverged: 0 },
    });
    const [id, tanh] = s.metrics;
    expect(id.prediction).toEqual({ law: '1/log n' });
    expect(tanh.prediction).toEqual({ exponent: -0.5 });
    expect(tanh.consistent).toBe(true);
    // auto: a 1/log n prediction in the spec → every metric gets the comparison
    expect(id.law!.preferred).toBe('1/log n');
    expect(id.verdict).toBe('confirmed');
    expect(id.consistent).toBe(true);
    expect(id.law!.bootstrapPreferInvLog).toBeGreaterThan(0.9);
    expect(tanh.law!.preferred).toBe('power');
    expect(tanh.law!.bootstrapPreferInvLog).toBeLessThan(0.1);
    const table = formatSummaryTable(s);
    expect(table).toMatch(/identity:D1 .*confirmed.*1\/log n ×/);
    expect(table).toMatch(/identity: 100 cells/);
  });

  it('makes the comparison only where asked', () => {
    expect(
      summarise(records, spec, { bootstrap: 0, laws: 'predicted' }).metrics.map((m) => m.law !== undefined),
    ).toEqual([true, false]);
    expect(summarise(records, spec, { bootstrap: 0, laws: 'none' }).metrics.every((m) => m.law === undefined)).toBe(
      true,
    );
    const plain = syntheticSpec({ D1: { exponent: -0.5 } }, ['identity', 'tanh']);
    expect(summarise(records, plain, { bootstrap: 0 }).metrics.every((m) => m.law === undefined)).toBe(true);
  });
});

describe('verdicts read on the median curve', () => {
  // n^-1/2 with one replication in eight a spurious optimum 10^4 times larger, whose share of the
  // mean grows with n (the over-specified presets' heavy tail): the mean slope is far from -1/2
  const ns = [1000, 2000, 5000, 10000, 20000];
  const records = syntheticRecords({ ns, reps: 16, metrics: { D2: (n) => 3 * n ** -0.5 } }).map((r) =>
    r.rep % 8 === 3 ? { ...r, metrics: { D2: r.metrics.D2! * 1e4 * (r.n / 1000) ** 1.5 } } : r,
  );

  it('the mean curve is misled by the tail, the median curve holds the rate; the table shows the interval read', () => {
    const onMean = summarise(records, syntheticSpec({ D2: { exponent: -0.5 } }), { bootstrap: 300 }).metrics[0]!;
    expect(onMean.mean.slope).toBeGreaterThan(0.5);
    const width = (ci: [number, number]) => ci[1] - ci[0];
    const s = summarise(records, syntheticSpec({ D2: { exponent: -0.5, statistic: 'median' } }), { bootstrap: 300 });
    const m = s.metrics[0]!;
    expect(m.median.slope).toBeGreaterThan(-0.65);
    expect(m.median.slope).toBeLessThan(-0.35);
    expect(m.median.ci[0]).toBeLessThanOrEqual(-0.5);
    expect(m.median.ci[1]).toBeGreaterThanOrEqual(-0.5);
    expect(m.consistent).toBe(true);
    expect(m.verdict).toBe('confirmed');
    expect(width(m.median.ci)).toBeLessThan(width(onMean.mean.ci) / 3);
    const row = formatSummaryTable(s)
      .split('\n')
      .find((l) => l.startsWith('D2 '))!;
    expect(row).toContain(`${fixed(m.median.slope)} [${fixed(m.median.ci[0])}, ${fixed(m.median.ci[1])}]`);
    expect(row).toContain('-1/2 (median)');
  });
});

describe('one replication at some n', () => {
  const spec = syntheticSpec({ D1: { exponent: -0.5 } });
  it('gives no interval and no verdict (resampling a single replication gives it back), saying which n', () => {
    const one = summarise(
      syntheticRecords({ ns: [1000, 2000, 4000, 8000], reps: 1, metrics: { D1: (n) => n ** -0.4 } }),
      spec,
    );
    const m = one.metrics.find((x) => x.metric === 'D1')!;
    expect(m.mean.ci.every(Number.isNaN)).toBe(true);
    expect(m.verdict).toBe('no interval');
    expect(m.consistent).toBeUndefined();
    expect(m.warnings).toContain(
      'mean curve: no interval — the bootstrap resamples the replications at each n, and n = 1000, 2000, 4000, 8000 have only one replication',
    );
    // one n with a single replication among several (a shard's own summary): still none
    const mixed = syntheticRecords({ ns: [1000, 2000, 4000], reps: 4, metrics: { D1: (n) => n ** -0.5 } }).filter(
      (r) => r.n !== 2000 || r.rep === 0,
    );
    const m2 = summarise(mixed, spec).metrics.find((x) => x.metric === 'D1')!;
    expect(m2.verdict).toBe('no interval');
    expect(m2.warnings).toContain(
      'mean curve: no interval — the bootstrap resamples the replications at each n, and n = 2000 has only one replication',
    );
    // two replications everywhere: an interval and a verdict
    const two = summarise(
      syntheticRecords({ ns: [1000, 2000, 4000], reps: 2, metrics: { D1: (n) => n ** -0.5 } }),
      spec,
    );
    expect(two.metrics.find((x) => x.metric === 'D1')!.mean.ci.every(Number.isFinite)).toBe(true);
  });
});
