/** `gmoe fit` end to end: spawns `node bin/gmoe.js` as a user would run it. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDatasetCsv } from '../../src/models/dataset-io.js';
import { readModelFile } from '../../src/models/io.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { fitMoE } from '../../src/em/index.js';
import { parseGate } from '../../src/cli/commands/fit.js';
import { getGate } from '../../src/models/gates/index.js';
import { parseGateSpec } from '../../src/models/validate.js';
import { gmoe } from './run-gmoe.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('cli-fit');
const truth = truthPreset('demy');
const data = simulate(truth, { n: 3000, seed: 1 });
beforeAll(() => writeDatasetCsv(join(dir, 'd.csv'), { n: data.n, d: data.d, X: data.X, y: data.y }));

describe('gmoe fit', () => {
  it('fits, prints a summary, writes a model file with a fit block that `gmoe loss` reads', async () => {
    const args = [
      'fit',
      '--data',
      'd.csv',
      '--gate',
      'softmax',
      '--k',
      '2',
      '--init',
      'near-truth:demy',
      '--seed',
      '3',
    ];
    const [r, r2] = await Promise.all([
      gmoe([...args, '--out', 'f.json'], dir),
      gmoe([...args, '--out', 'g.json'], dir),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^log-likelihood -\d+\.\d+ \(start 1 of 1, near-truth\)\niterations \d+, converged, \d+\.\d\d s on cpu\ngate softmax, k = 2\n/,
    );
    expect(r.stdout).toMatch(/wrote f\.json/);
    const json = JSON.parse(readFileSync(join(dir, 'f.json'), 'utf8'));
    // the x range the fit saw, for gmoe predict's extrapolation warning
    const xs = readFileSync(join(dir, 'd.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',')[0]));
    expect(json.fit.xRange).toEqual({ min: [Math.min(...xs)], max: [Math.max(...xs)] });
    // the parameter table: one row per expert, 5 significant digits of the file's numbers, sd = √ν
    const table = r.stdout.slice(r.stdout.indexOf('parameters (weight:')).split('\n');
    expect(table[1]).toMatch(/^expert\s+weight\s+gate β0\s+gate β1\[x1\]\s+a\[x1\]\s+b\s+sd$/);
    for (let j = 0; j < 2; j++) {
      const cells = table[2 + j]!.trim().split(/\s+/).map(Number);
      const p5 = (v: number) => Number(v.toPrecision(5));
      expect(cells.slice(2)).toEqual(
        [
          json.gating.beta0[j],
          json.gating.beta1[j][0],
          json.experts.a[j][0],
          json.experts.b[j],
          Math.sqrt(json.experts.nu[j]),
        ].map(p5),
      );
      expect(cells[0]).toBe(j + 1);
    }
    const w = [table[2], table[3]].map((l) => Number(l!.trim().split(/\s+/)[1]));
    expect(w[0]! + w[1]!).toBeCloseTo(1, 3);
    expect(json.format).toBe('gmoe-model');
    expect(json.fit.converged).toBe(true);
    expect(json.fit.stopReason).toBe('converged');
    expect(json.fit.trace.at(-1)).toBe(json.fit.logLik);
    expect(json.fit.options.seed).toBe(3);
    expect(typeof json.fit.seconds).toBe('number');
    // the same fit as the library with the same options, to the bit
    const lib = fitMoE(data, { gate: { kind: 'softmax' }, k: 2, init: { kind: 'near-truth', truth }, seed: 3 });
    expect(json.fit.logLik).toBe(lib.logLik);
    const back = readModelFile(join(dir, 'f.json'));
    expect(Array.from(back.a)).toEqual(Array.from(lib.model.a));
    // same seed → same file except for the time it took
    const g = JSON.parse(readFileSync(join(dir, 'g.json'), 'utf8'));
    delete json.fit.seconds;
    delete g.fit.seconds;
    g.fit.options.data = json.fit.options.data;
    expect(g).toEqual(json);
    expect(r2.code).toBe(0);
    const loss = await gmoe(['loss', '--fit', 'f.json', '--truth', 'demy'], dir);
    expect(loss.code, loss.stderr).toBe(0);
    const lj = JSON.parse(loss.stdout);
    expect(lj.kind).toBe('D1');
    expect(lj.loss).toBeGreaterThan(0);
    expect(lj.loss).toBeLessThan(1);
  });

  it('by default: several starts, their optima, and the top-K rule it chose, said on stderr', async () => {
    const r = await gmoe(
      ['fit', '--data', 'd.csv', '--gate', 'topk:1', '--k', '2', '--restarts', '3', '--out', 't.json'],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/gmoe fit: --gate topk:1 gives no selection rule: using logit/);
    expect(r.stdout).toMatch(/\ngate topk:1:logit, k = 2\n/);
    expect(r.stdout).toMatch(/\noptima: \d+ distinct \(within 0\.1 nats\); the best reached by \d of 3 starts/);
    expect(r.stdout).not.toMatch(/warning/);
    const json = JSON.parse(readFileSync(join(dir, 't.json'), 'utf8'));
    expect(json.gate).toEqual({ kind: 'topk', K: 1, selectOn: 'logit' });
    expect(json.fit.gate).toBe('topk:1:logit');
    expect(json.fit.starts).toEqual(['softmax-kmeans', 'softmax-random', 'random']);
    expect(json.fit.optima.reduce((a: number, o: { count: number }) => a + o.count, 0)).toBe(3);
    expect(json.fit.optima[0].logLik).toBe(json.fit.logLik);
    for (const w of json.fit.warnings) expect(r.stderr).toContain(`gmoe fit: warning: ${w}`);
  });

  it('--restarts-max M: starts added while one start alone reached the best, as many as fitMoE runs; refused below --restarts', async () => {
    const args = ['fit', '--data', 'd.csv', '--gate', 'softmax', '--k', '3', '--init', 'random', '--max-iter', '200'];
    const r = await gmoe([...args, '--restarts', '1', '--restarts-max', '6', '--out', 'm.json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8'));
    const lib = fitMoE(data, {
      gate: { kind: 'softmax' },
      k: 3,
      init: { kind: 'random' },
      maxIter: 200,
      restarts: 1,
      restartsMax: 6,
    });
    expect(lib.restarts).toBeGreaterThan(1); // one start alone is never settled
    expect(json.fit.restarts).toBe(lib.restarts);
    expect(json.fit.options.restartsMax).toBe(6);
    expect(r.stdout).toMatch(new RegExp(`the best reached by ${lib.optima[0]!.count} of ${lib.restarts} starts`));
    const bad = await gmoe([...args, '--restarts', '3', '--restarts-max', '2', '--out', 'n.json'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('gmoe: --restarts-max must be at least --restarts (3). Value: 2');
    expect(existsSync(join(dir, 'n.json'))).toBe(false);
  });

  it('an option the init or the gate does not use is refused, not ignored; its value is checked either way', async () => {
    const args = ['fit', '--data', 'd.csv', '--gate', 'softmax', '--k', '2', '--out', 'x.json'];
    const cases: [string[], string][] = [
      [['--noise', 'foo'], '--noise must be one of shrinking, fixed. Value: foo'],
      [['--noise', 'fixed'], '--noise applies only to --init near-truth:<truth>. Value: fixed'],
      [['--noise-scale', '-1'], '--noise-scale must be a finite number ≥ 0. Value: -1'],
      [['--assign', 'ordered'], '--assign applies only to --init near-truth:<truth>. Value: ordered'],
      [['--select-on', 'slope'], '--select-on applies only to top-K gates (--gate topk:K). Value: slope'],
      [['--bias', 'inside'], '--bias applies only to activation gates (--gate activation:<σ>). Value: inside'],
      [
        ['--bounds', 'tau=1:2'],
        '--bounds tau applies only to gates with a temperature (temperature, activation:<σ>). Value: tau=1:2',
      ],
      // the hybrid's stopping options, without --optimizer hybrid (the default em), were ignored
      [['--decrement-tol', '1e-6'], '--decrement-tol applies only to --optimizer hybrid. Value: 1e-6'],
      [['--stop-rule', 'tol'], '--stop-rule applies only to --optimizer hybrid. Value: tol'],
      [['--optimizer', 'em', '--switch-tol', '1e-4'], '--switch-tol applies only to --optimizer hybrid. Value: 1e-4'],
    ];
    const runs = await Promise.all(cases.map(([extra]) => gmoe([...args, ...extra], dir)));
    runs.forEach((r, i) => {
      expect([r.code, r.stderr.trim()]).toEqual([2, `gmoe: ${cases[i]![1]}`]);
    });
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
  });

  it('y too large for the default variance floor, and --out -: one line naming what to change, nothing written', async () => {
    writeFileSync(
      join(dir, 'big.csv'),
      `x1,y\n${[...Array(50).keys()].map((i) => `${i / 50},${(i % 7) * 1e200}`).join('\n')}\n`,
    );
    const big = await gmoe(['fit', '--data', 'big.csv', '--gate', 'softmax', '--k', '2', '--out', 'big.json'], dir);
    expect(big.code).toBe(2);
    expect(big.stderr.trim()).toBe(
      'gmoe: data.y must have a finite, positive variance for the default variance floor (1e-6 × var(y) = Infinity): rescale y, or give a variance floor. Value: Infinity',
    );
    const dash = await gmoe(['fit', '--data', 'd.csv', '--gate', 'softmax', '--k', '2', '--out', '-'], dir);
    expect([dash.code, dash.stderr.trim()]).toEqual([
      2,
      'gmoe: --out must be a file path (the summary goes to stdout). Value: -',
    ]);
    expect(existsSync(join(dir, 'big.json')) || existsSync(join(dir, '-'))).toBe(false);
  });

  it('bad input exits 2 with one line and writes nothing', async () => {
    const nan = 'x1,y\n0.1,1\n0.2,NaN\n';
    writeFileSync(join(dir, 'nan.csv'), nan);
    const cases: [string[], RegExp][] = [
      [
        ['--data', 'd.csv', '--gate', 'topk:3', '--k', '2'],
        /--gate topk:K must be an integer in \[1, 2\] \(--k = 2\)\. Value: 3/,
      ],
      [['--data', 'd.csv', '--gate', 'softmax', '--k', '0'], /--k must be an integer in \[1, 10000\]\. Value: 0/],
      [
        ['--data', 'd.csv', '--gate', 'soft', '--k', '2'],
        /--gate must be one of softmax \| topk:K\[:logit\|slope\] \| temperature \| activation:<.*>\. Value: soft/,
      ],
      [['--data', 'missing.csv', '--gate', 'softmax', '--k', '2'], /missing\.csv/],
      [['--data', 'nan.csv', '--gate', 'softmax', '--k', '2'], /nan\.csv.*line 3.*y/i],
      [
        ['--data', 'd.csv', '--gate', 'softmax', '--k', '2', '--tol', '-1'],
        /--tol must be a finite number ≥ 0\. Value: -1/,
      ],
      [['--data', 'd.csv', '--gate', 'softmax', '--k', '2', '--init', 'near-truth:nope'], /nope/],
      // the library's option paths said as the flags typed
      [
        ['--data', 'd.csv', '--gate', 'softmax', '--k', '2', '--init', 'near-truth:demy', '--assign', '0,5'],
        /^gmoe: --assign must hold true atoms 0\.\.1 \(the truth has 2\)\. Value: \[0,5\]/,
      ],
      [
        ['--data', 'd.csv', '--gate', 'softmax', '--k', '3', '--init', 'demy'],
        /^gmoe: --init's model: k must equal the fit's k = 3\. Value: 2/,
      ],
      [
        // a mistyped keyword: the keywords are listed with the presets
        ['--data', 'd.csv', '--gate', 'softmax', '--k', '2', '--init', 'kmean'],
        /^gmoe: --init must be auto, .*kmeans, random, near-truth:<preset\|model\.json>, a truth preset \(demy, .*\) or a path to a model file\. Value: kmean \(no such keyword, preset or file\)/,
      ],
      [
        ['--data', 'd.csv', '--gate', 'softmax', '--k', '2', '--tau', 'fixed'],
        /--tau fixed needs a gate with a temperature/,
      ],
    ];
    const results = await Promise.all(cases.map(([a]) => gmoe(['fit', ...a, '--out', 'bad.json'], dir)));
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(cases[i]![1]);
    });
    expect(existsSync(join(dir, 'bad.json'))).toBe(false);
  });
});

describe('--gate syntax', () => {
  it('parses every gate, and takes the top-K ranking from a top-K init model unless told', () => {
    expect(parseGate('softmax', 2, { bias: 'outside' })).toEqual({ kind: 'softmax' });
    expect(parseGate('temperature', 2, { bias: 'outside' })).toEqual({ kind: 'temperature' });
    expect(parseGate('activation:tanh', 2, { bias: 'inside' })).toEqual({
      kind: 'activation',
      activation: 'tanh',
      bias: 'inside',
    });
    const notes: string[] = [];
    expect(parseGate('topk:1', 2, { bias: 'outside' }, undefined, notes)).toEqual({
      kind: 'topk',
      K: 1,
      selectOn: 'logit',
    });
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^--gate topk:1 gives no selection rule: using logit \(/);
    expect(parseGate('topk:1:slope', 2, { bias: 'outside' }, undefined, notes)).toEqual({
      kind: 'topk',
      K: 1,
      selectOn: 'slope',
    });
    expect(parseGate('topk:2:logit', 3, { bias: 'outside' }, truthPreset('topk1'), notes)).toEqual({
      kind: 'topk',
      K: 2,
      selectOn: 'logit',
    });
    expect(notes).toHaveLength(1); // an explicit rule says nothing more
    expect(() => parseGate('topk:1:slope', 2, { bias: 'outside', selectOn: 'logit' })).toThrow(
      /--select-on logit contradicts --gate topk:1:slope/,
    );
    expect(() => parseGate('topk:1:score', 2, { bias: 'outside' })).toThrow(/score/);
    expect(() => parseGate('topk:1:logit:x', 2, { bias: 'outside' })).toThrow(/--gate must be one of/);
    expect(parseGate('topk:1', 2, { bias: 'outside' }, truthPreset('topk1'))).toEqual({
      kind: 'topk',
      K: 1,
      selectOn: 'logit',
    });
    expect(parseGate('topk:2', 3, { bias: 'outside', selectOn: 'slope' }, truthPreset('topk1'))).toEqual({
      kind: 'topk',
      K: 2,
      selectOn: 'slope',
    });
    expect(() => parseGate('activation:cube', 2, { bias: 'outside' })).toThrow(/--gate must be one of/);
    expect(() => parseGate('softmax:2', 2, { bias: 'outside' })).toThrow(/--gate must be one of/);
    expect(() => parseGate('topk', 2, { bias: 'outside' })).toThrow(/--gate must be one of/);
  });

  it("checks values with the model files' gate parser, naming the flags", () => {
    expect(() => parseGate('topk:x', 2, { bias: 'outside' })).toThrow(
      /^--gate topk:K must be an integer in \[1, 2\] \(--k = 2\)\. Value: "x"$/,
    );
    expect(() => parseGate('topk:0', 2, { bias: 'outside' })).toThrow(
      /^--gate topk:K must be an integer in \[1, 2\] \(--k = 2\)\. Value: 0$/,
    );
    expect(() => parseGate('topk:1', 2, { bias: 'outside', selectOn: 'rank' })).toThrow(
      /^--select-on must be one of slope, logit\. Value: "rank"$/,
    );
    expect(() => parseGate('activation:tanh', 2, { bias: 'middle' })).toThrow(
      /^--bias must be one of outside, inside\. Value: "middle"$/,
    );
    for (const raw of ['softmax', 'temperature', 'topk:2', 'activation:gelu']) {
      const spec = parseGate(raw, 3, { bias: 'inside', selectOn: 'logit' });
      expect(parseGateSpec(getGate(spec).toJSON(spec), 3, 'gate', { strict: true })).toEqual(spec);
    }
  });

  it('an activation gate (bias outside) on an x far from 0 against its spread: a hint to centre it; none otherwise', async () => {
    const shifted = { n: 400, d: 1, X: data.X.map((x) => 50 + 10 * x).subarray(0, 400), y: data.y.subarray(0, 400) };
    writeDatasetCsv(join(dir, 'far.csv'), shifted);
    const base = [
      'fit',
      '--gate',
      'activation:tanh',
      '--k',
      '2',
      '--restarts',
      '1',
      '--max-iter',
      '20',
      '--no-progress',
    ];
    const [far, near, softmax] = await Promise.all([
      gmoe([...base, '--data', 'far.csv', '--out', 'far.json'], dir),
      gmoe([...base, '--data', 'd.csv', '--out', 'near.json'], dir),
      gmoe(
        [...base.map((a) => (a === 'activation:tanh' ? 'softmax' : a)), '--data', 'far.csv', '--out', 's.json'],
        dir,
      ),
    ]);
    for (const r of [far, near, softmax]) expect(r.code, r.stderr).toBe(0);
    expect(far.stderr).toMatch(
      /^gmoe fit: hint: the gate is σ\(β1·x\) with the bias outside, centred at x = 0, and x1 \(mean 5\d\.\d+, sd 2\.\d+\) lies far from 0/m,
    );
    expect(near.stderr).not.toMatch(/hint/);
    // a softmax-first start (--init auto's first): its iterations are the last stage's; the line and the
    // model file give the softmax fits' own
    const stage =
      /\(start 1 of 1, softmax-kmeans\)\niterations \d+ \(plus its softmax-first start's softmax fits: k-means\+\+ (\d+), random partitions (\d+)\), /.exec(
        far.stdout,
      );
    expect(stage, far.stdout).not.toBeNull();
    const fits = JSON.parse(readFileSync(join(dir, 'far.json'), 'utf8')).fit.softmaxFits;
    expect(fits).toHaveLength(1);
    expect(fits[0].map((f: { from: string; iterations: number }) => [f.from, f.iterations])).toEqual([
      ['kmeans', Number(stage![1])],
      ['random', Number(stage![2])],
    ]);
    expect(fits[0][0].iterations).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')).fit.softmaxFits).toBeUndefined();
    expect(softmax.stdout).toMatch(/\niterations \d+, /);
    expect(softmax.stderr).not.toMatch(/hint/);
  }, 120_000);
});
