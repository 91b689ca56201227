/** `gmoe sweep | report | merge` end to end, spawning `node bin/gmoe.js` as a user would. */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSweep } from '../../src/experiments/runner.js';
import { validateSpec } from '../../src/experiments/spec.js';
import { tempDir } from '../helpers/temp-dir.js';

const BIN = fileURLToPath(new URL('../../bin/gmoe.js', import.meta.url));
const FAKE = new URL('./fixtures/fake-cell.ts', import.meta.url).href;
const HAS_CHROMIUM = existsSync('/usr/bin/chromium');

function gmoe(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const tinySpec = {
  name: 'cli-tiny',
  truth: 'demy',
  models: [{ label: 'softmax', gate: { kind: 'softmax' }, k: 2 }],
  n: [300, 600],
  replications: 2,
  loss: 'D1',
  theory: { D1: { exponent: -0.5 } },
  record: { hellingerPoints: 200 },
  seed: 2,
};

describe('gmoe sweep: bad input exits 2 with one line and writes nothing', () => {
  it('rejects a bad spec file, unknown presets and bad options', async () => {
    const dir = tempDir('cli-sweep');
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ ...tinySpec, models: [{ label: 'm', gate: { kind: 'topk', K: 3, selectOn: 'logit' }, k: 2 }] }),
    );
    const cases: [string[], RegExp][] = [
      [
        ['sweep', bad, '--out', join(dir, 'o1')],
        /bad\.json: models\[0\]\.gate\.K must be ≤ models\[0\]\.k \(2\)\. Value: 3/,
      ],
      [
        ['sweep', 'no-such-preset', '--out', join(dir, 'o2')],
        /the experiment must be a preset \(demy-exact, .*\) or a spec JSON file\. Value: no-such-preset/,
      ],
      [
        ['sweep', 'demy-exact', '--quick', '--reps', '0', '--out', join(dir, 'o3')],
        /--reps must be an integer in \[1, 1000000\]\. Value: 0/,
      ],
      [
        ['sweep', 'demy-exact', '--quick', '--shard', '4/3', '--out', join(dir, 'o4')],
        /--shard must be i\/N with 1 ≤ i ≤ N/,
      ],
      [['sweep', 'demy-exact', '--quick', '--resume'], /--resume needs --out DIR/],
      [
        ['sweep', 'demy-exact', '--quick', '--out', join(dir, 'o8'), '--reuse', join(dir, 'nothing')],
        /nothing is not a sweep directory: no spec\.json/,
      ],
      [['sweep', bad, '--quick', '--out', join(dir, 'o5')], /--quick applies to presets only/],
      [['sweep', 'demy-exact', '--workers', 'many', '--out', join(dir, 'o6')], /--workers must be an integer/],
      [
        // every cell at n = 500 would fail: refused before any runs
        ['sweep', 'demy-exact', '--quick', '--prefit', '100', '--out', join(dir, 'o7')],
        /^gmoe: --prefit leaves 5 samples per start at the smallest n \(500\): it must leave more than the 8 free parameters\. Value: 100/,
      ],
      [['report', join(dir, 'nothing')], /is not a sweep directory: no spec\.json/],
      [['report', join(dir, 'nothing'), '--cells', '2;1'], /^gmoe: --cells must be comma-separated integers ≥ 0/],
    ];
    const runs = await Promise.all(cases.map(([args]) => gmoe(args, dir)));
    runs.forEach((r, t) => {
      expect(r.code, cases[t]![0].join(' ')).toBe(2);
      expect(r.stderr).toMatch(cases[t]![1]);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
    expect(readdirSync(dir).sort()).toEqual(['bad.json']); // no output directory, no results/
  });

  it('--out naming a file (sweep, plan, merge, select), and plan --out naming a sweep: one line, exit 2', async () => {
    const dir = tempDir('cli-out');
    writeFileSync(join(dir, 'f.csv'), 'x1,y\n0.5,1\n');
    const file = /^gmoe: --out f\.csv is a file, not a directory: choose a directory$/;
    const cases: [string[], RegExp][] = [
      [['sweep', 'demy-exact', '--quick', '--no-png', '--out', 'f.csv'], file],
      [['plan', 'demy-exact', '--out', 'f.csv'], file],
      [['merge', dir, '--out', 'f.csv'], file],
      [['select', '--data', 'f.csv', '--gate', 'softmax', '--k', '1..2', '--out', 'f.csv'], file],
      // under a file, and under /proc (where Node's recursive mkdir never returns)
      [
        ['sweep', 'demy-exact', '--quick', '--no-png', '--out', 'f.csv/o'],
        /^gmoe: cannot create f\.csv\/o: .*f\.csv is not a directory$/,
      ],
      ...(existsSync('/proc/self')
        ? ([
            [
              ['sweep', 'demy-exact', '--quick', '--no-png', '--out', '/proc/gmoe-x/o'],
              /^gmoe: cannot create \/proc\/gmoe-x\/o: \/proc does not accept new directories$/,
            ],
          ] as [string[], RegExp][])
        : []),
    ];
    for (const [args, re] of cases) {
      const r = await gmoe(args, dir);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(re);
    }
    // a spec without predictions: refused before its pilot runs
    const noTheory = join(dir, 'no-theory.json');
    writeFileSync(noTheory, JSON.stringify({ ...tinySpec, theory: {} }));
    const nt = await gmoe(['plan', 'no-theory.json', '--out', 'pilot'], dir);
    expect([nt.code, nt.stderr.trim()]).toEqual([
      2,
      'gmoe: nothing to plan: no-theory.json predicts no rate (its spec has no "theory")',
    ]);
    expect(existsSync(join(dir, 'pilot'))).toBe(false);
    const sweepDir = join(dir, 'run');
    await runSweep(validateSpec(tinySpec), { outDir: sweepDir, workers: 1, evaluator: FAKE, plots: 'none' });
    const r = await gmoe(['plan', 'demy-exact', '--out', sweepDir], dir);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `gmoe: ${sweepDir} already holds a sweep: plan from it with \`gmoe plan ${sweepDir}\`, or choose another --out`,
    );
  });
});

describe('gmoe sweep, report, merge', () => {
  it('sweep writes results/<name>-<timestamp>/ with spec, results, summary, table and plots', async () => {
    const dir = tempDir('cli-sweep');
    writeFileSync(join(dir, 'tiny.json'), JSON.stringify(tinySpec));
    const r = await gmoe(['sweep', 'tiny.json', '--workers', '2', ...(HAS_CHROMIUM ? [] : ['--no-png'])], dir);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const runs = readdirSync(join(dir, 'results'));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(/^cli-tiny-\d{8}-\d{6}$/);
    const out = join(dir, 'results', runs[0]!);
    const files = readdirSync(out).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        'plot.html',
        'results.jsonl',
        'spec.json',
        'summary.json',
        'summary.txt',
        'rates.csv',
        'curves.csv',
        ...(HAS_CHROMIUM ? ['plot.png', 'plot.svg'] : []),
      ]),
    );
    const meta = JSON.parse(readFileSync(join(out, 'spec.json'), 'utf8'));
    expect(meta.spec.n).toEqual([300, 600]);
    expect(meta.provenance.init).toMatch(/^near-truth .*shrinking with n/);
    expect(meta.provenance.node).toBe(process.version);
    const recs = readFileSync(join(out, 'results.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(recs).toHaveLength(4);
    for (const rec of recs) {
      expect(rec.status).toBe('ok');
      expect(Object.keys(rec.metrics)).toEqual(
        expect.arrayContaining(['loss', 'D1', 'hellinger', 'beta1|m=1', 'a|m=1', 'b|m=1', 'nu|m=1', 'beta0|m=1']),
      );
      expect(rec.metrics.D1).toBeGreaterThan(0);
      expect(rec.fitted.a).toHaveLength(2);
      expect(Number.isFinite(rec.logLik)).toBe(true);
    }
    expect(r.stdout).toContain('D1');
    if (HAS_CHROMIUM) {
      expect(readFileSync(join(out, 'plot.png')).subarray(1, 4).toString()).toBe('PNG');
      // the same figure as a vector image, at its CSS size
      const svg = readFileSync(join(out, 'plot.svg'), 'utf8');
      expect(svg).toMatch(/^<svg [^>]*width="\d+" height="\d+"/);
      expect(svg).toContain('cli-tiny: convergence rates');
    }

    // report re-analyses the directory to the same summary
    const summary = readFileSync(join(out, 'summary.json'), 'utf8');
    const rep = await gmoe(['report', out, '--no-png']);
    expect(rep.code).toBe(0);
    expect(rep.stdout).toBe(r.stdout);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe(summary);
  });

  it('merge joins shards, and refuses shards of different specs', async () => {
    const dir = tempDir('cli-merge');
    const spec = validateSpec({ ...tinySpec, n: [100, 1000, 10000], replications: 3 });
    for (const i of [1, 2])
      await runSweep(spec, {
        outDir: join(dir, `s${i}`),
        shard: { index: i, count: 2 },
        workers: 1,
        evaluator: FAKE,
        plots: 'none',
      });
    await runSweep({ ...spec, seed: 3 }, { outDir: join(dir, 'other'), workers: 1, evaluator: FAKE, plots: 'none' });
    const m = await gmoe(['merge', join(dir, 's1'), join(dir, 's2'), '--out', join(dir, 'all'), '--no-png']);
    expect(m.code).toBe(0);
    expect(m.stderr).toMatch(/9 cells from 2 directories/);
    expect(
      readFileSync(join(dir, 'all', 'results.jsonl'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(9);
    expect(existsSync(join(dir, 'all', 'plot.html'))).toBe(true);
    const bad = await gmoe(['merge', join(dir, 's1'), join(dir, 'other'), '--out', join(dir, 'bad')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/their specs differ \(first difference: seed\)/);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });

  it('gmoe presets lists the experiment presets', async () => {
    const r = await gmoe(['presets']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/experiment presets \(gmoe sweep <name> \[--quick\]\):/);
    for (const name of ['demy-exact', 'demy-over', 'topk-exact', 'topk-over', 'temp-exact', 'temp-over'])
      expect(r.stdout).toMatch(new RegExp(`^ {2}${name} +\\[`, 'm'));
  });
});
