/**
 * Injected faults of a long sweep (issue 16), each real where it is cheap:
 *   - a worker thread that throws, exits or crashes mid-cell (GMOE_TEST_FAULT, src/io/fault.ts)
 *   - results.jsonl on a full disk (a 16 KiB tmpfs) or unwritable (a read-only tmpfs as root, chmod otherwise)
 *   - a corrupt line in the middle of results.jsonl: resume, report and merge refuse, naming file and line,
 *     or skip it with --skip-corrupt and say how many
 *   - SIGTERM while summary.json is half written (GMOE_TEST_FAULT=stall-write) or during the PNG step:
 *     no half-written file, and the next `report` regenerates them
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FAULT_ENV, parseFaults } from '../../src/io/fault.js';
import { analyseRun, mergeRuns, runSweep } from '../../src/experiments/runner.js';
import { readResults, ResultsIOError } from '../../src/experiments/store.js';
import { validateSpec } from '../../src/experiments/spec.js';
import { tempDir } from '../helpers/temp-dir.js';

const FAKE = new URL('./fixtures/fake-cell.ts', import.meta.url).href;
const BIN = fileURLToPath(new URL('../../bin/gmoe.js', import.meta.url));
const tmp = () => tempDir('faults');

const spec = validateSpec({
  name: 'fake',
  truth: 'demy',
  models: [{ label: 'softmax', gate: { kind: 'softmax' }, k: 2 }],
  n: [100, 200, 400, 800, 1600],
  replications: 20,
  theory: { D1: { exponent: -0.5 } },
  seed: 5,
});
const CELLS = 100;

/** The summary of an undisturbed run, to compare recovered runs with. */
let reference: string | undefined;
async function referenceSummary(): Promise<string> {
  if (reference === undefined) {
    const dir = join(tmp(), 'ref');
    await runSweep(spec, { outDir: dir, workers: 2, evaluator: FAKE, plots: 'none' });
    reference = readFileSync(join(dir, 'summary.json'), 'utf8');
  }
  return reference;
}

async function withFaults<T>(value: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env[FAULT_ENV];
  process.env[FAULT_ENV] = value; // worker threads copy process.env when they start
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[FAULT_ENV];
    else process.env[FAULT_ENV] = before;
  }
}

function gmoe(args: string[], env: Record<string, string> = {}, onStderr?: (text: string, kill: () => void) => void) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b) => (stdout += b));
      child.stderr.on('data', (b) => {
        stderr += b;
        onStderr?.(stderr, () => child.kill('SIGTERM'));
      });
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    },
  );
}

const isRoot = process.getuid?.() === 0;
/** Root in a container without CAP_SYS_ADMIN cannot mount: then the tmpfs tests are skipped (vitest says so). */
function probeMount(): boolean {
  if (!isRoot) return false;
  const dir = tmp();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const canMount = probeMount();
/**
 * A tmpfs of `size` at a fresh directory, unmounted when the test finishes, or undefined where mounting is not
 * allowed (not root). onTestFinished callbacks run last registered first: the unmount precedes tempDir's removal.
 */
function tmpfs(size: string): string | undefined {
  if (!canMount) return undefined;
  const dir = tmp();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  onTestFinished(() => {
    try {
      execFileSync('umount', [dir], { stdio: 'ignore' });
    } catch {
      /* already unmounted */
    }
  });
  return dir;
}

describe('GMOE_TEST_FAULT', () => {
  it('parses its items and names a bad one', () => {
    const f = parseFaults('delay=5, throw@100:1,exit@200:0,crash@400:3,stall-write=summary.json:100');
    expect(f.delayMs).toBe(5);
    expect([...f.cells]).toEqual([
      ['100:1', 'throw'],
      ['200:0', 'exit'],
      ['400:3', 'crash'],
    ]);
    expect(f.stallWrite).toEqual({ name: 'summary.json', ms: 100 });
    expect(() => parseFaults('explode@1:1')).toThrow('GMOE_TEST_FAULT: unknown item. Value: explode@1:1');
  });
});

describe('a worker thread failing mid-cell', () => {
  it('throwing, exiting or crashing: the cell is recorded failed with the reason (not retried), the sweep goes on, the summary counts it', async () => {
    const dir = join(tmp(), 'run');
    const r = await withFaults('throw@200:1,exit@400:2,crash@800:3', () =>
      runSweep(spec, { outDir: dir, workers: 2, evaluator: FAKE, plots: 'none' }),
    );
    expect([r.ran, r.failed, r.interrupted]).toEqual([CELLS, 3, false]);
    const failed = readResults(join(dir, 'results.jsonl')).records.filter((x) => x.status === 'failed');
    const why = Object.fromEntries(failed.map((x) => [`${x.n}:${x.rep}`, x.error]));
    expect(why).toEqual({
      '200:1': 'injected error at n = 200, rep = 1',
      '400:2': 'worker crashed: exited with code 3',
      '800:3': 'worker crashed: injected crash at n = 800, rep = 3',
    });
    expect(r.analysis!.summary.cells.failed).toBe(3);
    expect(r.analysis!.summary.cells.ok).toBe(CELLS - 3);
  });
});

describe('a Slurm task resubmitted alone', () => {
  it('shard 1/1 (an array of one task) resumes the whole sweep it started', async () => {
    const dir = join(tmp(), 'run');
    const ac = new AbortController();
    const one = { index: 1, count: 1 };
    const first = await runSweep(spec, {
      outDir: dir,
      workers: 2,
      evaluator: FAKE,
      plots: 'none',
      shard: one,
      signal: ac.signal,
      onProgress: (p) => p.done >= 5 && ac.abort(),
    });
    expect(first.interrupted).toBe(true);
    const r = await runSweep(spec, {
      outDir: dir,
      workers: 2,
      evaluator: FAKE,
      plots: 'none',
      shard: one,
      resume: true,
    });
    expect(r.resumed + r.ran).toBe(CELLS);
    expect(r.resumed).toBeGreaterThanOrEqual(5);
  });
});

describe('results.jsonl cannot be written', () => {
  it.skipIf(!canMount)(
    'full disk (ENOSPC, a 16 KiB tmpfs): one-line reason, every saved line intact, --resume finishes once there is space',
    async () => {
      const mnt = tmpfs('16k');
      if (!mnt) throw new Error('root, but cannot mount a tmpfs');
      const dir = join(mnt, 'run');
      const err = await runSweep(spec, { outDir: dir, workers: 2, evaluator: FAKE, plots: 'none' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ResultsIOError);
      const msg = (err as Error).message;
      expect(msg).not.toContain('\n');
      const m =
        /^cannot append to (\S+): no space left on the device \(ENOSPC\); the sweep stopped with (\d+) of 100 cells saved: free space \(or fix permissions\) and continue with --resume$/.exec(
          msg,
        );
      expect(m, msg).not.toBeNull();
      expect(m![1]).toBe(join(dir, 'results.jsonl'));
      const saved = Number(m![2]);
      const read = readResults(join(dir, 'results.jsonl'));
      expect(read.records.length).toBe(saved);
      expect(saved).toBeGreaterThan(5);
      expect(saved).toBeLessThan(CELLS);
      console.log(`ENOSPC: ${saved} of ${CELLS} cells saved, torn tail ${read.tornBytes} bytes`);
      execFileSync('mount', ['-o', 'remount,size=1m', mnt]);
      const r = await runSweep(spec, { outDir: dir, workers: 2, evaluator: FAKE, plots: 'none', resume: true });
      expect([r.resumed, r.ran, r.failed]).toEqual([saved, CELLS - saved, 0]);
      expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(await referenceSummary());
    },
  );

  // as root without mount, chmod would not stop the writes: nothing to test there
  it.skipIf(isRoot && !canMount)(
    'unwritable (a read-only tmpfs as root: EROFS; chmod otherwise: EACCES): one-line reason, --resume finishes once writable',
    async () => {
      const mnt = tmpfs('1m');
      const dir = join(mnt ?? tmp(), 'run');
      const ac = new AbortController();
      const first = await runSweep(spec, {
        outDir: dir,
        workers: 2,
        evaluator: FAKE,
        plots: 'none',
        signal: ac.signal,
        onProgress: (p) => p.done >= 10 && ac.abort(),
      });
      expect(first.interrupted).toBe(true);
      const saved = readResults(join(dir, 'results.jsonl')).records.length;
      expect(saved).toBeGreaterThanOrEqual(10);
      const lock = (on: boolean) =>
        mnt
          ? execFileSync('mount', ['-o', `remount,${on ? 'ro' : 'rw'}`, mnt])
          : chmodSync(join(dir, 'results.jsonl'), on ? 0o444 : 0o644);
      lock(true);
      const err = await runSweep(spec, { outDir: dir, workers: 2, evaluator: FAKE, plots: 'none', resume: true }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ResultsIOError);
      expect((err as Error).message).toBe(
        `cannot open ${join(dir, 'results.jsonl')} for appending: ${mnt ? 'read-only file system (EROFS)' : 'permission denied (EACCES)'}`,
      );
      lock(false);
      expect(readResults(join(dir, 'results.jsonl')).records.length).toBe(saved);
      const r = await runSweep(spec, { outDir: dir, workers: 2, evaluator: FAKE, plots: 'none', resume: true });
      expect([r.resumed, r.ran]).toEqual([saved, CELLS - saved]);
      expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(await referenceSummary());
    },
  );

  it.skipIf(!canMount)(
    'the CLI on a full disk: exit 1, one line naming results.jsonl and --resume, no stack trace',
    async () => {
      const mnt = tmpfs('16k');
      if (!mnt) throw new Error('root, but cannot mount a tmpfs');
      const file = join(tmp(), 'spec.json');
      writeFileSync(file, JSON.stringify({ ...spec, name: 'demy-small', n: [300, 600], replications: 30 }));
      const r = await gmoe(['sweep', file, '--out', join(mnt, 'run'), '--workers', '1', '--no-png']);
      expect(r.code).toBe(1);
      const last = r.stderr.trimEnd().split('\n').at(-1)!;
      expect(last).toMatch(
        /^gmoe: cannot append to \S+results\.jsonl: no space left on the device \(ENOSPC\); the sweep stopped with \d+ of 60 cells saved: .* --resume$/,
      );
      expect(r.stderr).not.toMatch(/^\s+at /m);
    },
  );
});

describe('a corrupt line in the middle of results.jsonl', () => {
  it('resume, report and merge refuse naming file and line; with --skip-corrupt they skip it and say how many', async () => {
    const root = tmp();
    const dir = join(root, 'run');
    await runSweep(spec, { outDir: dir, workers: 2, evaluator: FAKE, plots: 'none' });
    const path = join(dir, 'results.jsonl');
    const text = readFileSync(path, 'utf8').split('\n');
    text[6] = `${text[6]!.slice(0, 40)}\u0000garbage`; // line 7: a bad sector's worth of damage
    writeFileSync(path, text.join('\n'));
    const refusal = new RegExp(
      `^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:7: corrupt line \\(.*\\); only the last line may be torn \\(rerun with --skip-corrupt to skip corrupt lines\\)$`,
    );
    const opts = { outDir: dir, workers: 2, evaluator: FAKE, plots: 'none' as const, resume: true };
    await expect(runSweep(spec, opts)).rejects.toThrow(refusal);
    await expect(analyseRun(dir, { plots: 'none' })).rejects.toThrow(refusal);
    await expect(mergeRuns([dir], join(root, 'm1'), { plots: 'none' })).rejects.toThrow(refusal);
    expect(existsSync(join(root, 'm1'))).toBe(false);

    const notices: string[] = [];
    const a = await analyseRun(dir, { plots: 'none', skipCorrupt: true, onNotice: (l) => notices.push(l) });
    expect(notices).toContain(`skipped 1 corrupt line of ${path} (line 7): the summary leaves their cells out`);
    expect(a.summary.cells.total).toBe(CELLS - 1);
    const m = await mergeRuns([dir], join(root, 'm2'), {
      plots: 'none',
      skipCorrupt: true,
      onNotice: (l) => notices.push(l),
    });
    expect(notices).toContain(`skipped 1 corrupt line of ${path} (line 7): their cells count as missing`);
    expect([m.cells, m.missing]).toEqual([CELLS - 1, 1]);

    const r = await runSweep(spec, { ...opts, skipCorrupt: true, onNotice: (l) => notices.push(l) });
    expect(notices).toContain(
      `moved 1 corrupt line of ${path} (line 7) to results.corrupt.jsonl: that cell runs again`,
    );
    expect([r.resumed, r.ran]).toEqual([CELLS - 1, 1]);
    expect(readFileSync(join(dir, 'results.corrupt.jsonl'), 'utf8')).toBe(`${text[6]}\n`);
    expect(readResults(path).records.length).toBe(CELLS); // readable again without the flag
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(await referenceSummary());
  });

  it('the CLI: `gmoe report` exits 2 with one line naming file and line; --skip-corrupt reports and says so', async () => {
    const dir = join(tmp(), 'run');
    await runSweep(spec, { outDir: dir, workers: 2, evaluator: FAKE, plots: 'none' });
    const path = join(dir, 'results.jsonl');
    const text = readFileSync(path, 'utf8').split('\n');
    text[2] = '{"model": "softmax", "n": 100, "rep": "two"}';
    writeFileSync(path, text.join('\n'));
    rmSync(join(dir, 'summary.json'));
    const bad = await gmoe(['report', dir, '--no-png']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      `gmoe: ${path}:3: rep must be an integer ≥ 0. Value: two; only the last line may be torn (rerun with --skip-corrupt to skip corrupt lines)\n`,
    );
    expect(existsSync(join(dir, 'summary.json'))).toBe(false);
    const ok = await gmoe(['report', dir, '--no-png', '--skip-corrupt']);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain(
      `gmoe report: skipped 1 corrupt line of ${path} (line 3): the summary leaves their cells out`,
    );
    expect(existsSync(join(dir, 'summary.json'))).toBe(true);
  });
});

describe('lines of cells the spec does not plan, or twice', () => {
  it('report, --resume and plan refuse them naming file and line; --skip-corrupt leaves them out', async () => {
    const dir = join(tmp(), 'run');
    await runSweep(spec, { outDir: dir, workers: 2, evaluator: FAKE, plots: 'none' });
    const path = join(dir, 'results.jsonl');
    const text = readFileSync(path, 'utf8').split('\n');
    const first = JSON.parse(text[0]!) as { model: string; n: number; rep: number };
    const edited = JSON.parse(text[4]!) as { n: number; rep: number; model: string };
    const cell = `the cell (model ${edited.model}, n = 123, rep = ${edited.rep})`;
    text[4] = JSON.stringify({ ...edited, n: 123 });
    writeFileSync(path, text.join('\n'));
    const hint = 'only the last line may be torn (rerun with --skip-corrupt to skip corrupt lines)';
    const foreign = `${path}:5: ${cell} is not one that spec.json plans; ${hint}`;
    const bad = await gmoe(['report', dir, '--no-png']);
    expect([bad.code, bad.stderr]).toEqual([2, `gmoe: ${foreign}\n`]);
    await expect(
      runSweep(spec, { outDir: dir, resume: true, workers: 2, evaluator: FAKE, plots: 'none' }),
    ).rejects.toThrow(foreign);
    const plan = await gmoe(['plan', dir]);
    expect([plan.code, plan.stderr]).toEqual([2, `gmoe: ${foreign}\n`]);
    // the hint's --skip-corrupt is one plan takes too
    const planned = await gmoe(['plan', dir, '--skip-corrupt']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stderr).toContain(
      `gmoe plan: skipped 1 corrupt line of ${path} (line 5): the plan leaves their cells out`,
    );
    const a = await analyseRun(dir, { plots: 'none', skipCorrupt: true });
    expect(a.summary.cells.total).toBe(CELLS - 1);
    // the same cell twice
    text[4] = text[0]!;
    writeFileSync(path, text.join('\n'));
    const twice = await gmoe(['report', dir, '--no-png']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe(
      `gmoe: ${path}:5: the cell (model ${first.model}, n = ${first.n}, rep = ${first.rep}) again (first on line 1); ${hint}\n`,
    );
    const r = await runSweep(spec, {
      outDir: dir,
      resume: true,
      skipCorrupt: true,
      workers: 2,
      evaluator: FAKE,
      plots: 'none',
    });
    expect([r.resumed, r.ran]).toEqual([CELLS - 1, 1]);
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(await referenceSummary());
  });
});

describe('SIGTERM while the analysis is written', () => {
  it('killed halfway through writing summary.json: no half-written summary.json, no temp file left, the next report writes it', async () => {
    const dir = join(tmp(), 'run');
    await runSweep(spec, { outDir: dir, workers: 2, evaluator: FAKE, plots: 'none' });
    const good = readFileSync(join(dir, 'summary.json'), 'utf8');
    rmSync(join(dir, 'summary.json'));
    const r = await gmoe(
      ['report', dir, '--no-png'],
      { [FAULT_ENV]: 'stall-write=summary.json:60000' },
      (text, kill) => {
        if (text.includes('stalling halfway through summary.json')) kill();
      },
    );
    expect(r.signal).toBe('SIGTERM');
    expect(existsSync(join(dir, 'summary.json'))).toBe(false);
    const again = await gmoe(['report', dir, '--no-png']);
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(good);
    // the killed write's temp file is swept away by the next report
    expect(readdirSync(dir).filter((f) => /\.tmp(-\d+)?$/.test(f))).toEqual([]);
  });

  it('killed during the PNG step: plot.png is absent or whole, never partial; the next report renders it', async () => {
    const dir = join(tmp(), 'run');
    await runSweep(spec, { outDir: dir, workers: 2, evaluator: FAKE, plots: 'none' });
    // plot.html is written just before the PNG is rendered: SIGTERM then lands while Chromium runs
    const child = spawn(process.execPath, [BIN, 'report', dir], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on('close', (_c, s) => res(s)));
    for (let t = 0; t < 600 && !existsSync(join(dir, 'plot.html')); t++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const signal = await exited;
    const png = join(dir, 'plot.png');
    if (existsSync(png)) expect(readFileSync(png).subarray(-8).toString('latin1')).toContain('IEND'); // whole
    console.log(`SIGTERM during the PNG step: ${signal ?? 'exited'}, plot.png ${existsSync(png) ? 'whole' : 'absent'}`);
    const again = await gmoe(['report', dir]);
    expect(again.code).toBe(0);
    if (!again.stderr.includes('plot.png and plot.svg not written'))
      expect(readFileSync(png).subarray(-8).toString('latin1')).toContain('IEND');
    expect(readdirSync(dir).filter((f) => /\.tmp(-\d+)?$/.test(f))).toEqual([]);
  });
});
