/** `gmoe fit --optimizer hybrid`: the stop reason, the Newton decrement and −H's definiteness, printed and written. */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDatasetCsv } from '../../src/models/dataset-io.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { gmoe } from './run-gmoe.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('cli-hybrid');
const data = simulate(truthPreset('demy'), { n: 2000, seed: 4 });
beforeAll(() => writeDatasetCsv(join(dir, 'd.csv'), data));

const args = ['fit', '--data', 'd.csv', '--gate', 'softmax', '--k', '3', '--init', 'near-truth:demy', '--seed', '2'];

describe('gmoe fit --optimizer hybrid', () => {
  it('prints the stop reason, the Newton decrement and whether −H is positive definite; writes fit.hybrid', async () => {
    const r = await gmoe([...args, '--optimizer', 'hybrid', '--out', 'h.json'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/converged \(newton-decrement\)/);
    expect(r.stdout).toMatch(
      /hybrid: \d+ EM \+ \d+ trust-region iterations, \d+ Hessians; at the end Newton decrement \S+ nats, −H positive definite/,
    );
    const file = JSON.parse(readFileSync(join(dir, 'h.json'), 'utf8')) as {
      fit: {
        stopReason: string;
        hybrid: { negativeDefinite: boolean; decrement: number };
        options: { optimizer: string };
      };
    };
    expect(file.fit.stopReason).toBe('newton-decrement');
    expect(file.fit.hybrid.negativeDefinite).toBe(true);
    expect(file.fit.hybrid.decrement).toBeLessThanOrEqual(1e-8);
    expect(file.fit.options.optimizer).toBe('hybrid');
  });

  it('--trace writes every iteration as CSV: phase, and the trust-region steps; a bad --trace is one line, nothing written', async () => {
    const r = await gmoe([...args, '--optimizer', 'hybrid', '--out', 'tr.json', '--trace', 'tr.csv'], dir);
    expect(r.code, r.stderr).toBe(0);
    const fit = (
      JSON.parse(readFileSync(join(dir, 'tr.json'), 'utf8')) as {
        fit: { trace: number[]; hybrid: { newtonIterations: number } };
      }
    ).fit;
    const rows = parse(readFileSync(join(dir, 'tr.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((x) => Number(x.logLik))).toEqual(fit.trace);
    expect(rows[0]).toMatchObject({ restart: '1', iteration: '0', phase: 'start', radius: '' });
    const tr = rows.filter((x) => x.phase === 'trust-region');
    expect(tr).toHaveLength(fit.hybrid.newtonIterations);
    expect(tr.every((x) => Number(x.radius) > 0 && Number(x.rho) > 0 && ['true', 'false'].includes(x.newton!))).toBe(
      true,
    );
    for (const [bad, re] of [
      ['-', /--trace must be a file path other than --out's\. Value: "-"/],
      ['t2.json', /--trace must be a file path other than --out's/],
    ] as const) {
      const e = await gmoe([...args, '--optimizer', 'hybrid', '--out', 't2.json', '--trace', bad], dir);
      expect([e.code, e.stderr.trim().split('\n').length]).toEqual([2, 1]);
      expect(e.stderr).toMatch(re);
    }
    expect(existsSync(join(dir, 't2.json'))).toBe(false);
  });

  it('--prefit m fits each start on every m-th sample first and writes what each prefit reached', async () => {
    const r = await gmoe(
      [...args, '--optimizer', 'hybrid', '--restarts', '2', '--prefit', '4', '--out', 'p.json'],
      dir,
    );
    expect(r.code).toBe(0);
    const file = JSON.parse(readFileSync(join(dir, 'p.json'), 'utf8')) as {
      fit: { prefits: { samples: number; logLik: number }[]; options: { prefit: number } };
    };
    expect(file.fit.options.prefit).toBe(4);
    expect(file.fit.prefits.map((p) => p.samples)).toEqual([500, 500]);
    const line = file.fit.prefits.map((p) => `${p.logLik.toFixed(4)} on 500 \\(`).join('.*');
    expect(r.stdout).toMatch(new RegExp(`^prefit: every start first on 1 sample in 4: ${line}`, 'm'));
    const bad = await gmoe([...args, '--prefit', '1', '--out', 'q.json'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--prefit/);
  });

  it('a top-K fit ending on a region boundary prints its pinned switches, as the model file holds them', async () => {
    // topk1 data, n = 2000, seed 2: the hybrid ends with one switch pinned (measured)
    writeDatasetCsv(join(dir, 'tk.csv'), simulate(truthPreset('topk1'), { n: 2000, seed: 2 }));
    const tk = ['fit', '--data', 'tk.csv', '--gate', 'topk:2:logit', '--k', '3', '--init', 'near-truth:topk1'];
    const r = await gmoe([...tk, '--seed', '2', '--optimizer', 'hybrid', '--out', 'tk.json'], dir);
    expect(r.code).toBe(0);
    const file = JSON.parse(readFileSync(join(dir, 'tk.json'), 'utf8')) as {
      fit: { hybrid: { pinned: { sample: number; experts: [number, number] }[] } };
    };
    const pinned = file.fit.hybrid.pinned;
    expect(pinned.length).toBeGreaterThan(0);
    const line = /^pinned switches \(on top-K region boundaries, decrement along them\): (.*)$/m.exec(r.stdout);
    expect(line?.[1]).toBe(
      pinned
        .map((p) => `sample ${p.sample}, experts ${p.experts[0] + 1} (active) and ${p.experts[1] + 1} tie`)
        .join('; '),
    );
    // a softmax fit has none
    const soft = await gmoe([...args, '--optimizer', 'hybrid', '--out', 's.json'], dir);
    expect(soft.stdout).not.toMatch(/pinned switches/);
  });

  it('--stop-rule tol: the relative tol stopped it, said once ("converged", not "converged (converged)")', async () => {
    const r = await gmoe([...args, '--optimizer', 'hybrid', '--stop-rule', 'tol', '--out', 't.json'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^iterations \d+, converged, /m);
    expect(JSON.parse(readFileSync(join(dir, 't.json'), 'utf8')).fit.stopReason).toBe('converged');
  });

  it('refuses a bad --optimizer or --decrement-tol with exit code 2 and the value', async () => {
    const a = await gmoe([...args, '--optimizer', 'newton', '--out', 'x.json'], dir);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--optimizer must be one of em, hybrid.*Value: newton/);
    const b = await gmoe([...args, '--optimizer', 'hybrid', '--decrement-tol', '-1', '--out', 'x.json'], dir);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--decrement-tol .*Value: -1/);
  });

  it('says which starts were dropped as dominated, and --keep-dominated runs every start to its stop', async () => {
    // plain EM from random starts: two of five crawl below the best earlier start (test/em/dominated.test.ts)
    const many = ['fit', '--data', 'd3.csv', '--gate', 'softmax', '--k', '3', '--init', 'random', '--restarts', '5'];
    const rest = ['--seed', '1', '--accelerate', 'none', '--max-iter', '2000', '--no-progress', '--out', 'x.json'];
    writeDatasetCsv(join(dir, 'd3.csv'), simulate(truthPreset('demy'), { n: 2000, seed: 3 }));
    const dropped = await gmoe([...many, ...rest], dir);
    expect(dropped.code).toBe(0);
    expect(dropped.stdout).toMatch(/starts: .*\(random, dropped at iteration \d+: dominated\)/);
    const kept = await gmoe([...many, ...rest, '--keep-dominated'], dir);
    expect(kept.code).toBe(0);
    expect(kept.stdout).not.toMatch(/dominated/);
    // the same returned fit
    const ll = (out: string) => /^log-likelihood (\S+)/m.exec(out)?.[1];
    expect(ll(dropped.stdout)).toMatch(/^-\d/);
    expect(ll(kept.stdout)).toBe(ll(dropped.stdout));
  });
});
