/**
 * Output paths are checked before the work they would hold (a fit, a pilot sweep): a directory that does not
 * exist is refused at once, exit 2, in writeFileAtomic's words, and nothing is written — not the CSV of a
 * prediction whose figure could not be.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDatasetCsv } from '../../src/models/dataset-io.js';
import { writeModelFile } from '../../src/models/io.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { gmoe } from './run-gmoe.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('cli-outputs-first');
beforeAll(() => {
  writeDatasetCsv(join(dir, 'd.csv'), simulate(truthPreset('demy'), { n: 200, seed: 3 }));
  writeModelFile(join(dir, 'm.json'), truthPreset('demy'));
});

describe('output paths checked before the work', () => {
  // the data file does not exist either: the outputs are refused before the data are read, as before the fit
  const fit = ['fit', '--data', 'missing.csv', '--gate', 'softmax', '--k', '2'];
  const cases: [string, string[], string][] = [
    ['fit --out', [...fit, '--out', 'no/f.json'], 'gmoe: cannot write no/f.json: directory no does not exist'],
    [
      'fit --trace',
      [...fit, '--out', 'f.json', '--trace', 'no/t.csv'],
      'gmoe: cannot write no/t.csv: directory no does not exist',
    ],
    [
      'predict --plot (no CSV either)',
      ['predict', '--model', 'm.json', '--data', 'd.csv', '--out', 'p.csv', '--plot', 'no/p.html'],
      'gmoe: cannot write no/p.html: directory no does not exist',
    ],
    [
      'plan --write-spec (no pilot)',
      ['plan', 'demy-exact', '--workers', '1', '--write-spec', 'no/s.json'],
      'gmoe: --write-spec: cannot write no/s.json: directory no does not exist',
    ],
  ];
  for (const [what, args, message] of cases)
    it(what, async () => {
      const before = readdirSync(dir).sort();
      const res = await gmoe(args, dir);
      expect([res.code, res.stderr.trim()]).toEqual([2, message]);
      expect(readdirSync(dir).sort()).toEqual(before);
    });
});
