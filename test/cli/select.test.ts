/** `gmoe select` end to end, and the library's selectK it is built on. */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { NESTING_TOL, nestingNotes, selectK, type SelectRow } from '../../src/em/select.js';
import { writeDatasetCsv } from '../../src/models/dataset-io.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { parseKs } from '../../src/cli/commands/select.js';
import { DEFAULT_INIT, DEFAULT_STARTS } from '../../src/cli/commands/fit.js';
import { gmoe } from './run-gmoe.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('cli-select');
const truth = truthPreset('demy');
const sim = simulate(truth, { n: 800, seed: 5 });
const data = { n: sim.n, d: sim.d, X: sim.X, y: sim.y };
beforeAll(() => writeDatasetCsv(join(dir, 'd.csv'), data));

describe('selectK', () => {
  const r = selectK(data, { gate: { kind: 'softmax' }, ks: [3, 1, 2], restarts: 2, seed: 7 });

  it("finds the true k = 2 by every criterion; rows in increasing k with flexmix's formulas", () => {
    expect(r.rows.map((x) => x.k)).toEqual([1, 2, 3]);
    expect(r.best).toEqual({ bic: 2, aic: 2, icl: 2 });
    expect(r.chosen).toBe(2);
    expect(r.rows.map((x) => x.df)).toEqual([3, 8, 13]); // k(d + 2) + (k − 1)(d + 1)
    for (const x of r.rows) {
      expect(x.aic).toBeCloseTo(-2 * x.logLik + 2 * x.df, 9);
      expect(x.bic).toBeCloseTo(-2 * x.logLik + x.df * Math.log(data.n), 9);
      expect(x.icl).toBeGreaterThanOrEqual(x.bic);
    }
    expect(r.fit.model.k).toBe(2);
    expect(r.rows[1]!.logLik).toBeCloseTo(r.fit.logLik, 6);
  });

  it('each k has its own seed: adding a k does not change the others; the criterion chooses', () => {
    const two = selectK(data, { gate: { kind: 'softmax' }, ks: [2], restarts: 2, seed: 7, criterion: 'aic' });
    expect(two.rows[0]).toEqual(r.rows[1]);
    expect(two.criterion).toBe('aic');
    expect(() => selectK(data, { gate: { kind: 'softmax' }, ks: [], restarts: 1 })).toThrow(
      /ks must list at least one k/,
    );
    expect(() => selectK(data, { gate: { kind: 'softmax' }, ks: [2, 2] })).toThrow(/ks must not repeat a k/);
    expect(() => selectK(data, { gate: { kind: 'softmax' }, ks: [2], criterion: 'dic' as never })).toThrow(
      /criterion must be one of bic, aic, icl/,
    );
  });
});

describe('nestingNotes', () => {
  const row = (k: number, logLik: number) => ({ k, logLik }) as SelectRow;
  it('says a larger k that ended below a smaller one (beyond NESTING_TOL), against the best smaller k', () => {
    const rows = [row(1, -100), row(2, -50), row(3, -60), row(4, -50 - NESTING_TOL / 2), row(5, -49)];
    const notes = nestingNotes(rows, { kind: 'softmax' });
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^k = 3 ended 10\.0 nats below k = 2 \(-60\.0000 < -50\.0000\)/);
    expect(
      nestingNotes([row(2, -50), row(3, -50 - 2 * NESTING_TOL)], { kind: 'topk', K: 1, selectOn: 'logit' }),
    ).toHaveLength(1);
    // bounded logits: a larger k does not contain the smaller model
    const inside = { kind: 'activation', activation: 'tanh', bias: 'inside' } as const;
    expect(nestingNotes(rows, inside)).toEqual([]);
    expect(selectK(data, { gate: { kind: 'softmax' }, ks: [1, 2], restarts: 2, seed: 7 }).notes).toEqual([]);
  });
});

describe('spikeNotes', () => {
  it("R's cars (integer speed and dist): k = 5 fits three collinear points exactly, a spike its criteria choose — said", () => {
    const speed = [
      4, 4, 7, 7, 8, 9, 10, 10, 10, 11, 11, 12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 16, 16, 17, 17,
      17, 18, 18, 18, 18, 19, 19, 19, 20, 20, 20, 20, 20, 22, 23, 24, 24, 24, 24, 25,
    ];
    const dist = [
      2, 10, 4, 22, 16, 10, 18, 26, 34, 17, 28, 14, 20, 24, 28, 26, 34, 34, 46, 26, 36, 60, 80, 20, 26, 54, 32, 40, 32,
      40, 50, 42, 56, 76, 84, 36, 46, 68, 32, 48, 52, 56, 64, 66, 54, 70, 92, 93, 120, 85,
    ];
    const cars = { n: 50, d: 1, X: Float64Array.from(speed), y: Float64Array.from(dist) };
    const opts = {
      gate: { kind: 'softmax' } as const,
      init: { kind: 'auto' } as const,
      restarts: DEFAULT_STARTS,
      seed: 1,
    };
    const r = selectK(cars, { ...opts, ks: [4, 5] });
    expect(r.chosen).toBe(5);
    expect(r.notes).toEqual([
      expect.stringMatching(
        /^k = 5 ended with expert 4 at the variance floor 0\.000651, fitting a few samples exactly: its log-likelihood is a spurious spike, and its AIC, BIC and ICL too low \(chosen by BIC, AIC, ICL: do not trust that choice\) — a larger --variance-floor, or leave this k out$/,
      ),
    ]);
    // a floor of 1 % of var(y) bounds the spike: the criteria then choose k = 1 (larger k still reach that floor)
    const floored = selectK(cars, { ...opts, ks: [1, 2, 4, 5], varianceFloor: 6.5 });
    expect(floored.chosen).toBe(1);
    expect(floored.notes.some((n) => n.includes('chosen by'))).toBe(false);
  });
});

describe('gmoe select', () => {
  it('--k syntax', () => {
    expect(parseKs('1..4')).toEqual([1, 2, 3, 4]);
    expect(parseKs('4,1,2')).toEqual([1, 2, 4]);
    expect(parseKs('3')).toEqual([3]);
    expect(() => parseKs('4..1')).toThrow(/--k range must go up/);
    expect(() => parseKs('0..3')).toThrow(/--k \(from\) must be an integer in \[1, 10000\]/);
    expect(() => parseKs('1,x')).toThrow(/--k must be an integer/);
  });

  it('prints the table and the choice, writes JSON, CSV, the chosen fit and the HTML plot', async () => {
    const res = await gmoe(
      [
        'select',
        '--data',
        'd.csv',
        '--gate',
        'softmax',
        '--k',
        '1..3',
        '--restarts',
        '2',
        '--seed',
        '7',
        '--out',
        'sel',
        '--no-png',
      ],
      dir,
    );
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^k\s+logLik\s+df\s+AIC\s+BIC\s+ICL\s+converged$/);
    expect(lines[2]).toMatch(/^2 \*\s+-\d+\.\d{4}\s+8\s/);
    expect(lines[4]).toBe('chosen k = 2 by BIC (AIC: 2, ICL: 2)');
    const lib = selectK(data, {
      gate: { kind: 'softmax' },
      ks: [1, 2, 3],
      restarts: 2,
      seed: 7,
      init: { kind: 'auto' }, // gmoe fit's default start
    });
    const json = JSON.parse(readFileSync(join(dir, 'sel', 'select.json'), 'utf8'));
    expect(json.chosen).toBe(2);
    expect(json.rows.map((x: { bic: number }) => x.bic)).toEqual(lib.rows.map((x) => x.bic));
    const csv = readFileSync(join(dir, 'sel', 'select.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(csv[0]).toBe('k,logLik,df,AIC,BIC,ICL,converged,iterations,chosen');
    expect(csv[2]!.split(',').slice(0, 6).map(Number)).toEqual([
      2,
      lib.rows[1]!.logLik,
      8,
      lib.rows[1]!.aic,
      lib.rows[1]!.bic,
      lib.rows[1]!.icl,
    ]);
    expect(JSON.parse(readFileSync(join(dir, 'sel', 'fit.json'), 'utf8')).experts.a.length).toBe(2);
    expect(readFileSync(join(dir, 'sel', 'select.html'), 'utf8')).toContain('Plotly.newPlot(');
    expect(existsSync(join(dir, 'sel', 'select.png'))).toBe(false);
  }, 300_000);

  it("defaults to gmoe fit's starts: --init auto with DEFAULT_STARTS starts (one constant)", async () => {
    const res = await gmoe(
      ['select', '--data', 'd.csv', '--gate', 'softmax', '--k', '2', '--out', 'def', '--no-png'],
      dir,
    );
    expect(res.code, res.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'def', 'select.json'), 'utf8'));
    expect([json.init, json.restarts]).toEqual([DEFAULT_INIT, DEFAULT_STARTS]);
    const lib = selectK(data, { gate: { kind: 'softmax' }, ks: [2], restarts: DEFAULT_STARTS, init: { kind: 'auto' } });
    expect(json.rows[0].logLik).toBe(lib.rows[0]!.logLik);
    expect(json.rows[0].restarts).toBe(DEFAULT_STARTS);
  }, 300_000);

  it('several gates: each in its own directory as one gate alone, compare.* over every (gate, k), the best in fit.json', async () => {
    const res = await gmoe(
      [
        'select',
        '--data',
        'd.csv',
        '--gate',
        'softmax,topk:1:logit',
        '--k',
        '1..2',
        '--restarts',
        '2',
        '--seed',
        '7',
      ].concat(['--out', 'cmp', '--no-png']),
      dir,
    );
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/^gmoe select: topk:1:logit: k = 2: log-likelihood/m);
    // each gate's files equal a run of that gate alone
    const alone = await gmoe(
      ['select', '--data', 'd.csv', '--gate', 'topk:1:logit', '--k', '1..2', '--restarts', '2', '--seed', '7'].concat([
        '--out',
        'alone',
        '--no-png',
      ]),
      dir,
    );
    expect(alone.code, alone.stderr).toBe(0);
    for (const f of ['select.csv', 'fit.json'])
      expect(readFileSync(join(dir, 'cmp', 'topk-1-logit', f), 'utf8')).toBe(
        readFileSync(join(dir, 'alone', f), 'utf8'),
      );
    const csv = readFileSync(join(dir, 'cmp', 'compare.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(csv[0]).toBe('gate,k,logLik,df,AIC,BIC,ICL,converged,iterations,chosen');
    const rows = csv.slice(1).map((l) => l.split(','));
    expect(rows.map((r) => `${r[0]} ${r[1]}`)).toEqual(['softmax 1', 'softmax 2', 'topk:1:logit 1', 'topk:1:logit 2']);
    const bic = rows.map((r) => Number(r[5]));
    const best = bic.indexOf(Math.min(...bic));
    expect(rows.map((r) => r[9])).toEqual(rows.map((_, i) => String(i === best)));
    const json = JSON.parse(readFileSync(join(dir, 'cmp', 'compare.json'), 'utf8'));
    expect(json.chosen).toEqual({ gate: rows[best]![0], k: Number(rows[best]![1]) });
    const fit = JSON.parse(readFileSync(join(dir, 'cmp', 'fit.json'), 'utf8'));
    expect([fit.fit.logLik, fit.k]).toEqual([Number(rows[best]![2]), json.chosen.k]);
    expect(fit.fit.xRange).toEqual({ min: [Math.min(...data.X)], max: [Math.max(...data.X)] });
    expect(res.stdout).toMatch(
      new RegExp(`^chosen: gate ${json.chosen.gate}, k = ${json.chosen.k} by BIC \\(AIC: `, 'm'),
    );
    expect(readFileSync(join(dir, 'cmp', 'compare.html'), 'utf8')).toContain('Plotly.newPlot(');
  }, 300_000);

  it('--drop-missing: the dropped rows are said on stderr and recorded in select.json and fit.json, as gmoe fit does', async () => {
    const text = readFileSync(join(dir, 'd.csv'), 'utf8').split('\n');
    text[3] = `${text[3]!.split(',')[0]},NA`; // line 4: y missing
    writeFileSync(join(dir, 'na.csv'), text.join('\n'));
    const args = ['select', '--data', 'na.csv', '--gate', 'softmax', '--k', '2', '--restarts', '1', '--no-png'];
    const res = await gmoe([...args, '--drop-missing', '--out', 'na'], dir);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('dropped 1 row(s) with a missing value, 799 left');
    const json = JSON.parse(readFileSync(join(dir, 'na', 'select.json'), 'utf8'));
    expect([json.n, json.droppedRows]).toEqual([799, 1]);
    expect(JSON.parse(readFileSync(join(dir, 'na', 'fit.json'), 'utf8')).fit.droppedRows).toBe(1);
    // nothing dropped: no field
    const clean = await gmoe([...args.slice(0, 2), 'd.csv', ...args.slice(3), '--out', 'clean'], dir);
    expect(clean.code, clean.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'clean', 'select.json'), 'utf8'))).not.toHaveProperty('droppedRows');
  }, 300_000);

  it("a rerun into the same --out replaces the earlier selection's files; --tol, --variance-floor, --optimizer as gmoe fit", async () => {
    const base = ['select', '--data', 'd.csv', '--k', '1..2', '--restarts', '1', '--no-png', '--out', 'again'];
    const first = await gmoe([...base, '--gate', 'softmax,topk:1:logit', '--boot', '19'], dir);
    expect(first.code, first.stderr).toBe(0);
    expect(existsSync(join(dir, 'again', 'topk-1-logit', 'lrt.csv'))).toBe(true);
    const fitOpts = ['--tol', '1e-8', '--variance-floor', '0.01', '--optimizer', 'hybrid'];
    const second = await gmoe([...base, '--gate', 'softmax', ...fitOpts], dir);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('gmoe select: replacing the earlier selection in again');
    expect(readdirSync(join(dir, 'again')).sort()).toEqual(['fit.json', 'select.csv', 'select.html', 'select.json']);
    const json = JSON.parse(readFileSync(join(dir, 'again', 'select.json'), 'utf8'));
    expect([json.tol, json.varianceFloor, json.optimizer]).toEqual([1e-8, 0.01, 'hybrid']);
    // the options reach the fits: the same selection by the library
    const lib = selectK(data, {
      gate: { kind: 'softmax' },
      ks: [1, 2],
      restarts: 1,
      seed: 1,
      init: { kind: 'auto' },
      tol: 1e-8,
      varianceFloor: 0.01,
      optimizer: 'hybrid',
    });
    expect(json.rows.map((r: SelectRow) => r.logLik)).toEqual(lib.rows.map((r) => r.logLik));
  }, 300_000);

  it('bad input: exit 2, one line naming the flag and the value', async () => {
    writeFileSync(join(dir, 'r.csv'), 'a,b\n1,2\n');
    writeDatasetCsv(join(dir, 'n30.csv'), simulate(truthPreset('demy'), { n: 30, seed: 4 }));
    const cases: [string[], RegExp][] = [
      [
        ['--data', 'd.csv', '--gate', 'softmax', '--k', '3..1'],
        /^gmoe: --k range must go up \(a\.\.b with a ≤ b\)\. Value: 3\.\.1$/,
      ],
      [
        ['--data', 'd.csv', '--gate', 'topk:2', '--k', '1..3'],
        /^gmoe: --k must start at K = 2 or more for --gate topk:2\. Value: 1\.\.3$/,
      ],
      [
        ['--data', 'd.csv', '--gate', 'softmax', '--k', '1..2', '--criterion', 'dic'],
        /^gmoe: --criterion must be one of bic, aic, icl\. Value: dic$/,
      ],
      [
        ['--data', 'd.csv', '--gate', 'softmax', '--k', '1..2', '--init', 'near-truth:demy'],
        /^gmoe: --init must be one of auto, softmax-first, softmax-first:kmeans, softmax-first:random, kmeans, random\. Value: near-truth:demy$/,
      ],
      [
        ['--data', 'r.csv', '--gate', 'softmax', '--k', '1..2'],
        /^gmoe: r\.csv: line 1: the columns are "a","b", not the layout/,
      ],
      [
        // checked before any fit (n30.csv: 30 samples; k = 7 has 33 free parameters)
        ['--data', 'n30.csv', '--gate', 'softmax', '--k', '1..8'],
        /^gmoe: --k must leave more samples than free parameters: k = 7 has 33 and n = 30\. Value: 7$/,
      ],
      [['--data', 'd.csv', '--gate', 'softmax,softmax', '--k', '1..2'], /^gmoe: --gate lists softmax twice/],
      [
        ['--data', 'd.csv', '--gate', 'temperature,softmax', '--k', '1..2', '--tau', 'fixed'],
        /^gmoe: --tau fixed needs a gate with a temperature .* Value: --gate softmax$/,
      ],
      [
        // the second gate's k too large for n: refused before the first gate's fits
        ['--data', 'n30.csv', '--gate', 'softmax,activation:tanh', '--k', '1..6'],
        /^gmoe: --k must leave more samples than free parameters: k = 6 has \d+ and n = 30\. Value: 6$/,
      ],
    ];
    cases.push(
      [
        ['--data', 'd.csv', '--gate', 'softmax', '--k', '1..2', '--optimizer', 'newton'],
        /^gmoe: --optimizer .*newton$/,
      ],
      [
        ['--data', 'd.csv', '--gate', 'softmax', '--k', '1..2', '--variance-floor', '0'],
        /^gmoe: --variance-floor must be a finite number > 0\. Value: 0$/,
      ],
    );
    const results = await Promise.all(
      cases.map(([args]) => gmoe(['select', ...args, '--out', 'bad', '--no-png'], dir)),
    );
    results.forEach((res, i) => {
      expect(res.code).toBe(2);
      expect(res.stderr.trim()).toMatch(cases[i]![1]);
    });
    expect(existsSync(join(dir, 'bad'))).toBe(false);
    // an --out holding other files: refused before any fit, nothing touched
    mkdirSync(join(dir, 'mine'));
    writeFileSync(join(dir, 'mine', 'notes.txt'), 'keep');
    const mine = await gmoe(['select', '--data', 'd.csv', '--gate', 'softmax', '--k', '1', '--out', 'mine'], dir);
    expect([mine.code, mine.stderr.trim()]).toEqual([
      2,
      "gmoe: --out mine is not empty and holds more than an earlier gmoe select's files: choose a new directory",
    ]);
    expect(readdirSync(join(dir, 'mine'))).toEqual(['notes.txt']);
  }, 300_000);
});
