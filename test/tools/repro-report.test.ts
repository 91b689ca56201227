import { describe, expect, it } from 'vitest';
import { presetSpec } from '../../src/experiments/presets.js';
import { checkSummary } from '../../tools/repro/checks.js';
import { checksTable, formatReport, type PresetReport, type ReportInput } from '../../tools/repro/report.js';
import { syntheticSummary } from './repro-helpers.js';

const { summary } = syntheticSummary({
  metrics: {
    D1: { f: (n) => 2 * n ** -0.5, prediction: { exponent: -0.5 } },
    'beta1|m=2': { f: (n) => 3 * n ** -0.3, prediction: { exponent: -0.125 } },
  },
});
const checks = checkSummary(summary, {
  preset: 'demy-exact',
  rules: [
    { metric: 'D1', kind: 'rate' },
    { metric: 'beta1|m=2', kind: 'rate', margin: 0.05, reason: 'bends at quick sizes' },
  ],
});
const preset: PresetReport = {
  preset: 'demy-exact',
  spec: presetSpec('demy-exact', { quick: true }),
  checks,
  regression: {
    status: 'fail',
    hash: 'aaaaaaaaaaaa',
    goldenHash: 'bbbbbbbbbbbb',
    details: ['D1 mean at n = 500: golden 0.1, now 0.2 (relative 5.0e-1)'],
  },
  figure: 'figures/demy-exact.png',
  wallSeconds: 75.2,
  cpuSeconds: 140.4,
  bootstrap: { B: 1000, seed: 1, level: 0.95 },
};
const input: ReportInput = {
  provenance: {
    gmoe: '0.1.0',
    commit: 'c0ffee',
    dirty: true,
    node: 'v20.19.0',
    platform: 'linux-x64',
    cpus: 2,
    workers: 2,
    created: '2025-01-01T00:00:00.000Z',
  },
  presets: [preset],
  changelogMissing: [{ preset: 'demy-exact', hash: 'aaaaaaaaaaaa' }],
  failures: ['demy-exact: theory check beta1|m=2 (rate -1/8) failed: …'],
  update: false,
  totalWallSeconds: 80,
};

describe('REPORT.md', () => {
  const md = formatReport(input);

  it('says red or green first, and lists every failure', () => {
    expect(md).toMatch(/\*\*Result: ❌ 1 failed\*\*/);
    expect(md).toContain('- demy-exact: theory check beta1|m=2 (rate -1/8) failed: …');
    expect(formatReport({ ...input, failures: [] })).toMatch(/\*\*Result: ✅ all checks pass\*\*/);
  });

  it('has one row per checked metric with slope, interval, prediction, rule and verdict, and the golden row', () => {
    const d1 = checks.find((c) => c.metric === 'D1')!;
    const row = md.split('\n').find((l) => l.startsWith('| demy-exact | `D1` |'))!;
    expect(row).toContain(
      `| ${d1.slope!.toFixed(3)} | [${d1.ci![0].toFixed(3)}, ${d1.ci![1].toFixed(3)}] | -1/2 | not contradicted | ✅ confirmed |`,
    );
    const slow = md.split('\n').find((l) => l.startsWith('| demy-exact | `beta1\\|m=2` |'))!;
    expect(slow).toContain('| -1/8 | not contradicted (± 0.05) | ❌ FAIL: contradicted (faster) |');
    expect(slow).toContain('margin: bends at quick sizes');
    expect(md).toContain(
      '| demy-exact | golden |  |  |  | rel 1e-9 | ❌ FAIL | differs from golden `bbbbbbbbbbbb` (now `aaaaaaaaaaaa`): D1 mean at n = 500',
    );
    expect(md).toContain('| demy-exact | cells |');
  });

  it('links the figures and records provenance, spec, seeds and timings', () => {
    expect(md).toContain('![demy-exact (quick)](figures/demy-exact.png)');
    expect(md).toContain('gmoe 0.1.0, commit `c0ffee` **with uncommitted changes**');
    expect(md).toContain('Node v20.19.0, linux-x64, 2 CPUs, 2 worker threads');
    const spec = preset.spec;
    expect(md).toContain(
      `| demy-exact | ${(spec.n as number[]).join(', ')} | ${spec.replications} | ${spec.seed} | softmax: softmax, k = 2`,
    );
    expect(md).toContain('| B = 1000, seed 1 | 1 min 15 s | 2 min 20 s |');
    expect(md).toContain('CHANGELOG.md does not mention these golden hashes: demy-exact `aaaaaaaaaaaa`');
  });

  it('the README version keeps only the checked rows, without details', () => {
    const t = checksTable([preset], { checkedOnly: true, details: false });
    expect(t.split('\n')[0]).toBe('| preset | metric | slope | 95% interval | predicted | rule | verdict |');
    expect(t).not.toContain('detail');
    expect(t.split('\n')).toHaveLength(2 + 1 + 2 + 1); // header, rule, cells, two metrics, golden
  });
});
