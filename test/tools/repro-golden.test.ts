import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatJSON } from '../../src/io/index.js';
import {
  changelogMissing,
  closeEnough,
  compareGolden,
  formatDifference,
  goldenNumbers,
  hashNumbers,
  makeGolden,
  parseGolden,
  GOLDEN_RTOL,
  HASH_DIGITS,
  type GoldenNumbers,
} from '../../tools/repro/golden.js';
import { checkGoldens, goldenOnDisk, README_BEGIN, README_END, updateReadmeTable } from '../../tools/repro/run.js';
import { syntheticSummary } from './repro-helpers.js';
import { tempDir } from '../helpers/temp-dir.js';

const { summary, spec } = syntheticSummary({
  metrics: { D1: { f: (n) => 2 * n ** -0.5, prediction: { exponent: -0.5 } }, hellinger: { f: (n) => n ** -0.5 } },
  ns: [500, 2000, 8000],
  reps: 4,
});
const numbers = goldenNumbers(summary, spec);
const clone = (g: GoldenNumbers): GoldenNumbers => JSON.parse(JSON.stringify(g)) as GoldenNumbers;

describe('golden numbers and their hash', () => {
  it('hold the per-n statistics and slopes of every metric, exactly', () => {
    const d1 = summary.metrics.find((m) => m.metric === 'D1')!;
    const g = numbers.metrics.find((m) => m.metric === 'D1')!;
    expect(g.n).toEqual([500, 2000, 8000]);
    expect(g.mean).toEqual(d1.points.map((p) => p.mean));
    expect(g.median).toEqual(d1.points.map((p) => p.median));
    expect(g.slope).toBe(d1.mean.slope);
    expect(g.ci).toEqual(d1.mean.ci);
    expect(numbers.spec).toEqual({ n: [500, 2000, 8000], replications: 4, seed: 11, models: ['softmax'] });
    expect(numbers.cells).toEqual({ total: 12, ok: 12, failed: 0, notConverged: 0 });
  });

  it('the hash is stable under key order and a JSON round trip, and moves with any number', () => {
    const h = hashNumbers(numbers);
    expect(h).toMatch(new RegExp(`^[0-9a-f]{${HASH_DIGITS}}$`));
    expect(hashNumbers(clone(numbers))).toBe(h);
    const reordered = Object.fromEntries(Object.entries(clone(numbers)).reverse()) as unknown as GoldenNumbers;
    expect(hashNumbers(reordered)).toBe(h);
    const moved = clone(numbers);
    moved.metrics[0].mean[1] = moved.metrics[0].mean[1]! * (1 + 1e-15);
    expect(hashNumbers(moved)).not.toBe(h);
  });

  it('provenance is not hashed: the same numbers from another machine keep the hash', () => {
    expect(makeGolden(numbers, { node: 'v20.1' }).hash).toBe(makeGolden(numbers, { node: 'v20.2', commit: 'x' }).hash);
  });

  it('a golden file round-trips through JSON and parseGolden', () => {
    const g = makeGolden(numbers, { gmoe: '0.1.0' });
    const back = parseGolden(JSON.parse(formatJSON(g)), 'g.json');
    expect(compareGolden(back, numbers)).toEqual([]);
    expect(back.hash).toBe(g.hash);
  });

  it('parseGolden rejects a hand-edited number (hash mismatch) and bad shapes, naming the file and field', () => {
    const g = JSON.parse(JSON.stringify(makeGolden(numbers, {}))) as Record<string, unknown> & {
      metrics: { mean: number[] }[];
    };
    g.metrics[0].mean[0] *= 1.01;
    expect(() => parseGolden(g, 'repro/golden/x.json')).toThrow(
      /^repro\/golden\/x\.json: hash [0-9a-f]+ does not match its numbers/,
    );
    expect(() => parseGolden({ ...g, format: 'nope' }, 'x.json')).toThrow(
      'x.json: format must be "gmoe-repro-golden". Value: "nope"',
    );
    expect(() => parseGolden({ ...g, metrics: [{ metric: 'D1', n: [] }] }, 'x.json')).toThrow(
      'x.json: metrics[0].count must be a list. Value: undefined',
    );
    expect(() => parseGolden(null, 'x.json')).toThrow(/top level/);
  });
});

describe('comparison with relative tolerance 1e-9', () => {
  it('closeEnough is relative, symmetric, and treats null (non-finite) only as equal to null', () => {
    expect(closeEnough(1, 1 + 0.5e-9, GOLDEN_RTOL)).toBe(true);
    expect(closeEnough(1, 1 + 2e-9, GOLDEN_RTOL)).toBe(false);
    expect(closeEnough(1e-12, 1.000000002e-12, GOLDEN_RTOL)).toBe(false); // relative, not absolute
    expect(closeEnough(-0.5, -0.5000000001, GOLDEN_RTOL)).toBe(true);
    expect(closeEnough(0, 0, GOLDEN_RTOL)).toBe(true);
    expect(closeEnough(null, null, GOLDEN_RTOL)).toBe(true);
    expect(closeEnough(null, 0, GOLDEN_RTOL)).toBe(false);
  });

  it('identical numbers and sub-tolerance noise agree; a loss moved by 1e-8 is named with its n', () => {
    expect(compareGolden(numbers, clone(numbers))).toEqual([]);
    const noisy = clone(numbers);
    noisy.metrics[0].mean[2] = noisy.metrics[0].mean[2]! * (1 + 1e-10);
    noisy.metrics[0].slope = noisy.metrics[0].slope! * (1 - 1e-10);
    expect(compareGolden(numbers, noisy)).toEqual([]);
    const moved = clone(numbers);
    moved.metrics[0].mean[2] = moved.metrics[0].mean[2]! * (1 + 1e-8);
    const d = compareGolden(numbers, moved);
    expect(d).toHaveLength(1);
    expect(d[0].where).toBe('D1 mean at n = 8000');
    expect(d[0].rel).toBeCloseTo(1e-8, 10);
    expect(formatDifference(d[0])).toMatch(/^D1 mean at n = 8000: golden [\d.e-]+, now [\d.e-]+ \(relative 1\.0e-8\)$/);
  });

  it('slopes, interval ends, counts, spec, and the set of metrics are compared', () => {
    const moved = clone(numbers);
    moved.metrics[1].ci[1] = moved.metrics[1].ci[1]! + 1e-6;
    moved.metrics[1].slope = moved.metrics[1].slope! - 1e-6;
    moved.cells.notConverged = 1;
    moved.spec.seed = 12;
    moved.metrics.push({ ...moved.metrics[0], metric: 'extra' });
    const where = compareGolden(numbers, moved).map((d) => d.where);
    expect(where).toEqual([
      'spec',
      'cells.notConverged',
      'metric extra',
      'hellinger slope',
      'hellinger slope interval high end',
    ]);
  });
});

describe('CHANGELOG enforcement and the static golden check', () => {
  const root = tempDir('repro');

  it('changelogMissing lists the goldens whose hash the text does not contain', () => {
    expect(
      changelogMissing(
        [
          { preset: 'a', hash: 'abc123' },
          { preset: 'b', hash: 'def456' },
        ],
        '- repro: a golden abc123: first goldens',
      ),
    ).toEqual([{ preset: 'b', hash: 'def456' }]);
  });

  it('checkGoldens names the preset and the check: missing golden, tampered golden, hash not in CHANGELOG.md', () => {
    mkdirSync(join(root, 'repro', 'golden'), { recursive: true });
    const good = makeGolden({ ...numbers, preset: 'p1' }, {});
    writeFileSync(join(root, 'repro', 'golden', 'p1.json'), formatJSON(good));
    const bad = JSON.parse(JSON.stringify(makeGolden({ ...numbers, preset: 'p2' }, {}))) as { cells: { ok: number } };
    bad.cells.ok = 3;
    writeFileSync(join(root, 'repro', 'golden', 'p2.json'), JSON.stringify(bad));
    const f1 = checkGoldens(root, ['p1', 'p2', 'p3']);
    expect(f1).toHaveLength(3);
    expect(f1[0]).toMatch(
      /^p2: regression check failed: repro\/golden\/p2\.json: hash [0-9a-f]+ does not match its numbers/,
    );
    expect(f1[1]).toBe(
      'p3: regression check failed: no golden repro/golden/p3.json (make it with `npm run repro -- --update`)',
    );
    expect(f1[2]).toMatch(
      new RegExp(`^p1: changelog check failed: CHANGELOG.md does not mention golden hash ${good.hash}`),
    );
    writeFileSync(join(root, 'CHANGELOG.md'), `# Changelog\n- repro: p1 golden ${good.hash}: first goldens\n`);
    expect(checkGoldens(root, ['p1'])).toEqual([]);
  });

  it('updateReadmeTable rewrites only the text between the markers', () => {
    const readme = join(root, 'README.md');
    writeFileSync(readme, `# x\nbefore\n${README_BEGIN}\nold table\n${README_END}\nafter\n`);
    expect(updateReadmeTable(root, '| new |')).toBe(true);
    expect(readFileSync(readme, 'utf8')).toBe(`# x\nbefore\n${README_BEGIN}\n| new |\n${README_END}\nafter\n`);
    expect(updateReadmeTable(root, '| new |')).toBe(false);
    writeFileSync(readme, '# no markers\n');
    expect(updateReadmeTable(root, '| new |')).toBe(false);
    expect(readFileSync(readme, 'utf8')).toBe('# no markers\n');
  });
});

describe('goldenOnDisk (the hash CHANGELOG.md must name)', () => {
  it('is the golden on disk unless the run rewrote it', () => {
    // a fresh run within tolerance keeps the golden: its own hash differs in the last bits
    expect(goldenOnDisk({ status: 'pass', hash: 'fresh0000000', goldenHash: 'disk00000000', details: [] })).toBe(
      'disk00000000',
    );
    expect(goldenOnDisk({ status: 'unchanged', hash: 'fresh0000000', goldenHash: 'disk00000000', details: [] })).toBe(
      'disk00000000',
    );
    expect(goldenOnDisk({ status: 'fail', hash: 'fresh0000000', goldenHash: 'disk00000000', details: ['x'] })).toBe(
      'disk00000000',
    );
    expect(goldenOnDisk({ status: 'updated', hash: 'fresh0000000', goldenHash: 'disk00000000', details: [] })).toBe(
      'fresh0000000',
    );
    expect(goldenOnDisk({ status: 'fail', hash: 'fresh0000000', details: ['no golden'] })).toBeUndefined();
  });
});
