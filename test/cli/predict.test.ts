/** `gmoe predict` end to end: spawns `node bin/gmoe.js` as a user would run it. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeDatasetCsv } from '../../src/models/dataset-io.js';
import { modelToJSON } from '../../src/models/io.js';
import { predictMoE } from '../../src/models/predict.js';
import { predictiveCdf, predictiveQuantile } from '../../src/models/predictive-quantile.js';
import { ksUniform } from '../../src/math/kolmogorov.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { gmoe } from './run-gmoe.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('cli-predict');

const truth = truthPreset('demy');
const data = simulate(truth, { n: 300, seed: 9 });
writeDatasetCsv(join(dir, 'd.csv'), data);

describe('gmoe predict', () => {
  it("with y: the input columns, then the library's predictions to the last bit, and a summary on stderr", async () => {
    const r = await gmoe(['predict', '--model', 'demy', '--data', 'd.csv', '--out', 'p.csv'], dir);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(join(dir, 'p.csv'), 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('x1,y,mean,sd,gate1,gate2,mu1,mu2,logdens,pit,post1,post2,expert');
    expect(lines).toHaveLength(301);
    const p = predictMoE(truth, data.X, data.n, data.y);
    const pit = predictiveCdf(p, truth.nu, data.y);
    const counts = [0, 0];
    let ll = 0;
    lines.slice(1).forEach((line, i) => {
      const c = line.split(',').map(Number);
      expect(c.slice(0, 4)).toEqual([data.X[i], data.y[i], p.mean[i], p.sd[i]]);
      expect(c.slice(4, 8)).toEqual([p.gate[2 * i], p.gate[2 * i + 1], p.expertMean[2 * i], p.expertMean[2 * i + 1]]);
      expect(c.slice(8, 12)).toEqual([p.logDensity![i], pit[i], p.posterior![2 * i], p.posterior![2 * i + 1]]);
      expect(c[12]).toBe(p.expert![i]! + 1); // 1-based, the suffix of gate1, post1, ...
      counts[c[12]! - 1]!++;
      ll += p.logDensity![i]!;
    });
    const err = r.stderr.trimEnd().split('\n');
    expect(err[0]).toBe('gmoe predict: wrote 300 rows (k = 2, y = y) to p.csv');
    expect(err[1]).toMatch(new RegExp(`^gmoe predict: log-likelihood ${Number(ll.toPrecision(6))} \\(`));
    expect(err[2]).toBe(`gmoe predict: most probable expert: 1: ${counts[0]}, 2: ${counts[1]}`);
    const ks = ksUniform(pit);
    const g = (v: number) => Number(v.toPrecision(3));
    expect(ks.pValue).toBeGreaterThan(0.01); // the truth on its own draws
    expect(err[3]).toBe(
      `gmoe predict: calibration: pit = F(y|x) is uniform where the model holds; Kolmogorov–Smirnov D = ${g(ks.statistic)}, p = ${g(ks.pValue)}: no evidence against p(y|x) (the p-value is conservative on the data the model was fitted on)`,
    );
  });

  it("the calibration line says when p(y|x) does not fit y (a model whose experts' variances are 4×)", async () => {
    const wide = { ...truth, nu: truth.nu.map((v) => 4 * v) };
    writeFileSync(join(dir, 'wide.json'), JSON.stringify(modelToJSON(wide)));
    const r = await gmoe(['predict', '--model', 'wide.json', '--data', 'd.csv', '--out', '-'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /calibration: .*Kolmogorov–Smirnov D = [0-9.]+, p < 1e-4: p\(y\|x\) does not fit y: see the pit column/,
    );
  });

  it('--interval 0.9: lower and upper after sd, the library quantiles to the last bit, and its coverage', async () => {
    const r = await gmoe(['predict', '--model', 'demy', '--data', 'd.csv', '--out', '-', '--interval', '0.9'], dir);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('x1,y,mean,sd,lower,upper,gate1,gate2,mu1,mu2,logdens,pit,post1,post2,expert');
    const p = predictMoE(truth, data.X, data.n, data.y);
    const lower = predictiveQuantile(p, truth.nu, (1 - 0.9) / 2);
    const upper = predictiveQuantile(p, truth.nu, (1 + 0.9) / 2);
    let inside = 0;
    lines.slice(1).forEach((line, i) => {
      const c = line.split(',').map(Number);
      expect(c.slice(2, 6)).toEqual([p.mean[i], p.sd[i], lower[i], upper[i]]);
      if (c[1]! >= c[4]! && c[1]! <= c[5]!) inside++;
    });
    expect(inside).toBeGreaterThan(240); // 90 % of 300 is 270 (binomial sd 5.2)
    const pct = Number(((100 * inside) / 300).toPrecision(6));
    expect(r.stderr).toContain(
      `gmoe predict: 90 % predictive interval [lower, upper]: holds ${inside} of 300 samples (${pct} %)`,
    );
  });

  it('new x only, columns chosen by name, standard output', async () => {
    writeFileSync(join(dir, 'new.csv'), 'id,dose\n"a",0.25\n"b",0.75\n');
    const [r, fitted] = await Promise.all([
      gmoe(['predict', '--model', 'demy', '--data', 'new.csv', '--x', 'dose', '--out', '-'], dir),
      gmoe(['predict', '--model', 'demy', '--data', 'd.csv', '--x', 'x1', '--y', 'y', '--out', '-'], dir),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('dose,mean,sd,gate1,gate2,mu1,mu2');
    const p = predictMoE(truth, Float64Array.of(0.25, 0.75), 2);
    expect(lines[2]!.split(',').map(Number)).toEqual([
      0.75,
      p.mean[1],
      p.sd[1],
      p.gate[2],
      p.gate[3],
      p.expertMean[2],
      p.expertMean[3],
    ]);
    expect(r.stderr).toMatch(/wrote 2 rows \(k = 2, no y\) to standard output/);
    expect(fitted.stdout).toBe(readFileSync(join(dir, 'p.csv'), 'utf8'));
  });

  it('--plot writes the figure (HTML; --no-png skips the PNG); d > 1 without y: a warning, no figure', async () => {
    const d2 = truthPreset('d2');
    const x2 = simulate(d2, { n: 50, seed: 2 });
    writeFileSync(
      join(dir, 'x2.csv'),
      `x1,x2\n${Array.from({ length: 50 }, (_, i) => `${x2.X[2 * i]},${x2.X[2 * i + 1]}`).join('\n')}\n`,
    );
    const [one, two] = await Promise.all([
      gmoe(['predict', '--model', 'demy', '--data', 'd.csv', '--out', 'q.csv', '--plot', 'q.html', '--no-png'], dir),
      gmoe(['predict', '--model', 'd2', '--data', 'x2.csv', '--out', 'q2.csv', '--plot', 'q2.html', '--no-png'], dir),
    ]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toMatch(/^gmoe predict: figure: q.html$/m);
    const html = readFileSync(join(dir, 'q.html'), 'utf8');
    expect(html).toContain('most probably expert 2');
    expect(existsSync(join(dir, 'q.png'))).toBe(false);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stderr).toMatch(
      /warning: no figure: with d > 1 it plots observed y against the prediction, and the data have no y/,
    );
    expect(existsSync(join(dir, 'q2.html'))).toBe(false);
    expect(existsSync(join(dir, 'q2.csv'))).toBe(true);
  });

  it('a model from gmoe fit / select predicts on files with its own column names, without --x/--y', async () => {
    // as R's write.csv writes them: row names, the response first, a text column
    const rows = Array.from({ length: 300 }, (_, i) => `"${i + 1}",${data.y[i]},${data.X[i]},"g"`);
    writeFileSync(join(dir, 'r.csv'), `"","resp","dose","grp"\n${rows.join('\n')}\n`);
    writeFileSync(join(dir, 'rnew.csv'), '"","dose"\n"1",0.25\n"2",0.75\n');
    writeFileSync(join(dir, 'other.csv'), 'a,b\n0.1,2\n');
    const fit = await gmoe(
      [
        'fit',
        '--data',
        'r.csv',
        '--y',
        'resp',
        '--x',
        'dose',
        '--gate',
        'softmax',
        '--k',
        '2',
        '--restarts',
        '1',
        '--out',
        'rfit.json',
      ],
      dir,
    );
    expect(fit.code, fit.stderr).toBe(0);
    const [own, fresh, named, other] = await Promise.all([
      gmoe(['predict', '--model', 'rfit.json', '--data', 'r.csv', '--out', '-'], dir),
      gmoe(['predict', '--model', 'rfit.json', '--data', 'rnew.csv', '--out', '-'], dir),
      gmoe(['predict', '--model', 'rfit.json', '--data', 'r.csv', '--x', 'dose', '--y', 'resp', '--out', '-'], dir),
      gmoe(['predict', '--model', 'rfit.json', '--data', 'other.csv', '--out', '-'], dir),
    ]);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout.split('\n')[0]).toBe('dose,resp,mean,sd,gate1,gate2,mu1,mu2,logdens,pit,post1,post2,expert');
    expect(own.stdout).toBe(named.stdout);
    expect(own.stderr).toMatch(/^gmoe predict: x = dose \(the model's columns, from its fit block\)$/m);
    expect(own.stderr).toMatch(/wrote 300 rows \(k = 2, y = resp\)/);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout.split('\n')[0]).toBe('dose,mean,sd,gate1,gate2,mu1,mu2');
    expect(fresh.stderr).toMatch(/wrote 2 rows \(k = 2, no y column "resp": --y COL names one\)/);
    expect(other.code).toBe(2);
    expect(other.stderr.trimEnd()).toMatch(
      /^gmoe: other.csv: no column "dose" for x; the columns are "a","b" \(the model was fitted on that column; choose the x columns with --x/,
    );
  });

  it("--x naming the model's columns in another order: read as given, with a warning", async () => {
    const d2 = {
      ...JSON.parse((await gmoe(['presets', 'd2'], dir)).stdout),
      fit: { columns: { x: ['u', 'v'], y: 'w' } },
    };
    writeFileSync(join(dir, 'd2c.json'), JSON.stringify(d2));
    writeFileSync(join(dir, 'uv.csv'), 'u,v,w\n0.1,0.2,1\n0.5,0.3,2\n');
    const [swapped, own] = await Promise.all([
      gmoe(['predict', '--model', 'd2c.json', '--data', 'uv.csv', '--x', 'v,u', '--out', '-'], dir),
      gmoe(['predict', '--model', 'd2c.json', '--data', 'uv.csv', '--out', '-'], dir),
    ]);
    expect(swapped.code, swapped.stderr).toBe(0);
    expect(swapped.stdout.split('\n')[0]).toMatch(/^v,u,w,mean,/);
    expect(swapped.stderr.split('\n')[0]).toBe(
      "gmoe predict: warning: --x v,u names the model's columns in another order than it was fitted on (u,v): they are read in the order given, as x1..x2; leave --x out to use the model's order",
    );
    expect(own.stderr).not.toMatch(/warning/);
    expect(own.stdout.split('\n')[0]).toMatch(/^u,v,w,mean,/);
  });

  it("rows outside the x range the model file's fit saw: a warning with their count and the range", async () => {
    const withRange = { ...modelToJSON(truth), fit: { xRange: { min: [0.2], max: [0.8] } } };
    writeFileSync(join(dir, 'ranged.json'), JSON.stringify(withRange));
    const [r, inside] = await Promise.all([
      gmoe(['predict', '--model', 'ranged.json', '--data', 'd.csv', '--out', '-'], dir),
      gmoe(['predict', '--model', 'demy', '--data', 'd.csv', '--out', '-'], dir), // a preset: no range, no warning
    ]);
    expect(r.code, r.stderr).toBe(0);
    const outside = Array.from(data.X).filter((x) => x < 0.2 || x > 0.8).length;
    expect(outside).toBeGreaterThan(0);
    expect(r.stderr).toContain(
      `gmoe predict: warning: ${outside} of 300 row(s) have x outside the range the model was fitted on (x1 in [0.2, 0.8])`,
    );
    expect(inside.stderr).not.toContain('warning');
  });

  it('bad input: exit code 2, one line naming what is wrong, nothing written', async () => {
    writeFileSync(join(dir, 'ab.csv'), 'a,b\n0.1,2\n');
    writeFileSync(join(dir, 'clash.csv'), 'x1,sd\n0.1,2\n');
    writeFileSync(join(dir, 'na.csv'), 'x1,y\n0.1,NA\n0.2,1\n');
    const cases: [string[], RegExp][] = [
      [
        ['--data', 'ab.csv'],
        /^gmoe: ab.csv: no column "x1" for x; the columns are "a","b" \(choose the x columns with --x/,
      ],
      [['--data', 'ab.csv', '--x', 'a,b'], /^gmoe: --x names 2 column\(s\); the model demy has d = 1$/],
      [['--data', 'ab.csv', '--x', 'a', '--y', 'c'], /^gmoe: ab.csv: no column "c" for y; the columns are "a","b"$/],
      [
        ['--data', 'clash.csv', '--x', 'x1', '--y', 'sd'],
        /^gmoe: clash.csv: column "sd" has the name of a prediction column: rename it$/,
      ],
      [['--data', 'na.csv'], /^gmoe: na.csv: line 2, column y: missing value \(drop such rows with --drop-missing/],
      [['--data', 'nope.csv'], /^gmoe: cannot read data file nope.csv/],
      [['--data', 'd.csv', '--model', 'nosuch'], /^gmoe: --model must be a truth preset .* Value: nosuch/],
      [
        ['--data', 'd.csv', '--plot', '.'],
        /^gmoe: --plot must name a file \(e.g. pred.html; the PNG goes beside it\). Value: .$/,
      ],
      [
        ['--data', 'd.csv', '--interval', '90'],
        /^gmoe: --interval must be a level in \(0, 1\), e\.g\. 0\.9 .* Value: 90$/,
      ],
      [['--data', 'd.csv', '--interval', 'x'], /^gmoe: --interval must be a level in \(0, 1\).* Value: x$/],
    ];
    const runs = await Promise.all(
      cases.map(([args]) => gmoe(['predict', '--model', 'demy', ...args, '--out', 'never.csv'], dir)),
    );
    runs.forEach((r, t) => {
      expect(r.code, cases[t]![0].join(' ')).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr.trimEnd()).toMatch(cases[t]![1]);
    });
    expect(existsSync(join(dir, 'never.csv'))).toBe(false);
    const dropped = await gmoe(['predict', '--model', 'demy', '--data', 'na.csv', '--drop-missing', '--out', '-'], dir);
    expect(dropped.code).toBe(0);
    expect(dropped.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(dropped.stderr).toMatch(
      /wrote 1 row \(k = 2, y = y\) to standard output; dropped 1 row\(s\) with a missing value/,
    );
  });
});
