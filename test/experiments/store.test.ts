import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ResultsWriter,
  StoreError,
  readResults,
  recordFingerprint,
  truncateTornLine,
} from '../../src/experiments/store.js';
import type { CellRecord } from '../../src/experiments/types.js';
import { tempDir } from '../helpers/temp-dir.js';

const rec = (n: number, rep: number, seconds = 0.5): CellRecord => ({
  n,
  rep,
  seed: 1000 + rep,
  model: 'm',
  status: 'ok',
  metrics: { D1: 1 / Math.sqrt(n), 'a|m=1': 0.25 },
  logLik: -12.5,
  iterations: 7,
  converged: true,
  warnings: [],
  seconds,
});

describe('results.jsonl', () => {
  it('appends one complete line per record and reads them back', () => {
    const path = join(tempDir('store'), 'results.jsonl');
    const w = new ResultsWriter(path);
    w.append(rec(100, 0));
    w.append(rec(100, 1));
    w.close();
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')).toEqual([JSON.stringify(rec(100, 0)), JSON.stringify(rec(100, 1)), '']);
    const r = readResults(path);
    expect(r.records).toEqual([rec(100, 0), rec(100, 1)]);
    expect(r.tornBytes).toBe(0);
  });

  it('drops a torn last line when reading and truncates it for --resume', () => {
    const path = join(tempDir('store'), 'results.jsonl');
    const w = new ResultsWriter(path);
    w.append(rec(100, 0));
    w.close();
    const good = statSync(path).size;
    const torn = JSON.stringify(rec(200, 0)).slice(0, 25);
    appendFileSync(path, torn);
    const r = readResults(path);
    expect(r.records).toEqual([rec(100, 0)]);
    expect([r.validBytes, r.tornBytes]).toEqual([good, torn.length]);
    expect(truncateTornLine(path)).toBe(torn.length);
    expect(statSync(path).size).toBe(good);
    // a new line goes on a line of its own
    const w2 = new ResultsWriter(path);
    w2.append(rec(200, 0));
    w2.close();
    expect(readResults(path).records).toEqual([rec(100, 0), rec(200, 0)]);
    // even a complete JSON object without its newline counts as torn: the cell is simply redone
    appendFileSync(path, JSON.stringify(rec(300, 0)));
    expect(readResults(path).records.length).toBe(2);
  });

  it('a corrupt line that is not the last is an error naming the line', () => {
    const path = join(tempDir('store'), 'results.jsonl');
    writeFileSync(path, `${JSON.stringify(rec(1, 0))}\n{"n": 1, "rep"\n${JSON.stringify(rec(1, 1))}\n`);
    expect(() => readResults(path)).toThrow(StoreError);
    expect(() => readResults(path)).toThrow(/results\.jsonl:2: corrupt line/);
    writeFileSync(path, `${JSON.stringify({ ...rec(1, 0), status: 'meh' })}\n`);
    expect(() => readResults(path)).toThrow(/results\.jsonl:1: status must be "ok" or "failed"\. Value: meh/);
  });

  it('the fingerprint ignores seconds only', () => {
    expect(recordFingerprint(rec(1, 0, 0.1))).toBe(recordFingerprint(rec(1, 0, 9)));
    expect(recordFingerprint(rec(1, 0))).not.toBe(recordFingerprint(rec(1, 1)));
    expect(recordFingerprint(rec(1, 0))).not.toContain('seconds');
  });
});
