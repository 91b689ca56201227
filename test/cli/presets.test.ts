/** `gmoe presets`: spawns `node bin/gmoe.js presets` as a user would run it. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatPresets, presetSections } from '../../src/cli/commands/presets.js';
import { listTruthPresets, truthPreset } from '../../src/models/presets.js';
import { parseModel, readModelFile } from '../../src/models/io.js';
import { presetSpec } from '../../src/experiments/presets.js';
import { loadSpecFile, validateSpec } from '../../src/experiments/spec.js';
import { tempDir } from '../helpers/temp-dir.js';

const BIN = fileURLToPath(new URL('../../bin/gmoe.js', import.meta.url));
const run = promisify(execFile);

describe('gmoe presets', () => {
  it('lists every truth preset, one line each, under a section title', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'presets']);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^truth presets \(gmoe simulate --truth <name>/);
    const names = listTruthPresets().map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['demy', 'topk1', 'temp', 'd2', 'k3']));
    for (const name of names) {
      const line = lines.filter((l) => l.trimStart().startsWith(`${name} `));
      expect(line, name).toHaveLength(1);
    }
    expect(stdout).toMatch(/^ {2}demy +\[k=2 d=1 softmax\]/m);
    expect(stdout).toMatch(/^ {2}topk1 +\[k=2 d=1 topk K=1 on logit\]/m);
    expect(stdout).toMatch(/^ {2}d2 +\[k=2 d=2 softmax\]/m);
    expect(stdout).toMatch(/^ {2}k3 +\[k=3 d=1 softmax\]/m);
  });

  it('--json gives the same listing as data', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'presets', '--json']);
    const json = JSON.parse(stdout) as { title: string; presets: { name: string }[] }[];
    expect(json[0]!.title).toBe('truth presets');
    expect(json[0]!.presets.map((p) => p.name)).toEqual(listTruthPresets().map((p) => p.name));
    expect(json).toHaveLength(presetSections.length);
  });

  it('further sections (e.g. experiment presets) are listed after the truth presets', () => {
    const text = formatPresets([
      ...presetSections,
      {
        title: 'experiment presets',
        usage: 'gmoe sweep <name>',
        list: () => [{ name: 'demy-exact', description: 'exact fit' }],
      },
    ]);
    expect(text).toMatch(/\n\nexperiment presets \(gmoe sweep <name>\):\n {2}demy-exact {2}exact fit\n$/);
  });

  it('with a name, prints or writes the model file of that truth; an unknown name exits 2 with one line', async () => {
    const dir = tempDir('cli-presets');
    const [shown, written, unknown] = await Promise.all([
      run(process.execPath, [BIN, 'presets', 'topk1']),
      run(process.execPath, [BIN, 'presets', 'temp', '--out', join(dir, 'temp.json')]),
      run(process.execPath, [BIN, 'presets', 'nope']).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      ),
    ]);
    expect(parseModel(JSON.parse(shown.stdout))).toEqual(truthPreset('topk1'));
    expect(written.stdout).toBe('');
    expect(readModelFile(join(dir, 'temp.json'))).toEqual(truthPreset('temp'));
    expect(unknown?.code).toBe(2);
    expect(unknown?.stderr).toMatch(
      /^gmoe: the preset to show must be a truth preset \(demy, topk1, .*\) or an experiment preset \(demy-exact, .*\)\. Value: nope\n$/,
    );
  });

  it("with an experiment preset's name, prints its spec (--quick: the quick size), a spec gmoe sweep runs as the preset", async () => {
    const dir = tempDir('cli-presets');
    const [full, quick] = await Promise.all([
      run(process.execPath, [BIN, 'presets', 'demy-over']),
      run(process.execPath, [BIN, 'presets', 'demy-over', '--quick', '--out', join(dir, 'q.json')]),
    ]);
    expect(validateSpec(JSON.parse(full.stdout))).toEqual(presetSpec('demy-over'));
    expect(loadSpecFile(join(dir, 'q.json'))).toEqual(presetSpec('demy-over', { quick: true }));
    expect(presetSpec('demy-over', { quick: true }).n).not.toEqual(presetSpec('demy-over').n);
    expect(quick.stderr).toBe(`gmoe presets: wrote the quick spec of demy-over to ${join(dir, 'q.json')}\n`);
    const truthQuick = await run(process.execPath, [BIN, 'presets', 'demy', '--quick']).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect([truthQuick?.code, truthQuick?.stderr]).toEqual([
      2,
      'gmoe: --quick applies to an experiment preset, not to the truth demy\n',
    ]);
  });
});
