/**
 * The Slurm path on a real (one-node) Slurm cluster, issue 16. Run by `npm run test:slurm`
 * (scripts/test-slurm.sh starts the cluster with scripts/slurm-local.sh and sets SLURM_CONF).
 *   1. examples/slurm/submit.sh, 4 array tasks + the merge → summary.json byte-identical to one machine
 *   2. one array task cancelled mid-run (scancel), resubmitted as the README says → the same summary
 *   3. a task at its time limit (--time=1, --signal=B:TERM@30) stops on SIGTERM, leaving a resumable
 *      shard; resubmitted, it finishes with the same summary
 *   4. more replications later: a new array with EXTRA="--reps 6 --reuse <1's merged>" takes each shard's
 *      earlier cells and merges to the summary of the larger sweep on one machine
 * Slow tasks come from the test-only hook GMOE_TEST_FAULT=delay=MS (src/io/fault.ts), passed
 * to the tasks by `sbatch --export=ALL`; the delay changes no result.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const SPEC = join(ROOT, 'test/slurm/fixtures/demy-small.json');
const SLURM = join(ROOT, 'examples/slurm');
const CELLS = 16; // demy-small: 4 n × 4 replications
// small tasks for a 2-core machine: the #SBATCH lines of the examples ask for 8 CPUs and 24 h
const SBATCH_ARGS = '--cpus-per-task=1 --mem=1G --time=00:10:00';

if (!process.env.SLURM_CONF)
  throw new Error('SLURM_CONF is not set: run `npm run test:slurm` (it starts the local cluster)');

let work: string;
const jobs: string[] = [];

function run(cmd: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): string {
  return execFileSync(cmd, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The states of a job's tasks (an array job: one per task), from scontrol (kept MinJobAge = 3600 s). */
function states(job: string): Map<string, string> {
  const out = new Map<string, string>();
  const text = run('scontrol', ['-o', 'show', 'job', job]);
  for (const line of text.split('\n').filter(Boolean)) {
    const id = /JobId=(\d+)/.exec(line)?.[1] ?? '?';
    const task = /ArrayTaskId=(\S+)/.exec(line)?.[1];
    out.set(task === undefined ? id : task, /JobState=(\S+)/.exec(line)?.[1] ?? '?');
  }
  return out;
}

const ACTIVE = new Set(['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'RESIZING']);

async function waitFor<T>(what: string, seconds: number, probe: () => T | undefined): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() - t0 > seconds * 1000) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Waits until every task of `job` has left the queue; returns their final states. */
function settled(job: string, seconds: number): Promise<Map<string, string>> {
  return waitFor(`job ${job} to finish`, seconds, () => {
    const s = states(job);
    return [...s.values()].some((v) => ACTIVE.has(v)) ? undefined : s;
  });
}

function logs(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => `--- ${f}\n${readFileSync(join(dir, f), 'utf8')}`)
    .join('\n');
}

function lines(path: string): number {
  return existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '').length
    : 0;
}

/** submit.sh with the spec and 4 tasks, run in `out` (the logs land there); returns the two job ids. */
function submit(out: string, env: Record<string, string> = {}): { array: string; merge: string } {
  mkdirSync(out, { recursive: true });
  const said = run('bash', [join(SLURM, 'submit.sh'), SPEC, '4'], {
    cwd: out,
    env: { OUT: out, GMOE_DIR: ROOT, SBATCH_ARGS, ...env },
  });
  const m = /sweep array job (\d+) \(4 tasks\), merge job (\d+)/.exec(said);
  if (!m) throw new Error(`submit.sh said: ${said}`);
  jobs.push(m[1]!, m[2]!);
  return { array: m[1]!, merge: m[2]! };
}

/** sbatch as the README says, in `out`, with the sweep's environment. */
function sbatch(out: string, args: string[], env: Record<string, string> = {}): string {
  const id = run('sbatch', ['--parsable', '--export=ALL', ...args], {
    cwd: out,
    env: { PRESET: SPEC, OUT: out, GMOE_DIR: ROOT, ...env },
  })
    .trim()
    .split(';')[0]!;
  jobs.push(id);
  return id;
}

let oneMachine: string;
let timeLimited: { out: string; job: string; submitted: number };

beforeAll(() => {
  work = tempDir('slurm');
  // the slow time-limited task first: it runs alongside the other scenarios
  const out = join(work, 'c');
  mkdirSync(out);
  timeLimited = {
    out,
    job: sbatch(
      out,
      ['--array=0', '--cpus-per-task=1', '--mem=1G', '--time=1', '--signal=B:TERM@30', join(SLURM, 'sweep-array.sh')],
      { GMOE_TEST_FAULT: 'delay=8000' },
    ),
    submitted: Date.now(),
  };
  // the same sweep on this machine, outside Slurm
  run('node', ['bin/gmoe.js', 'sweep', SPEC, '--out', join(work, 'one'), '--workers', '1', '--no-png']);
  oneMachine = readFileSync(join(work, 'one', 'summary.json'), 'utf8');
});

afterAll(() => {
  if (jobs.length > 0) {
    try {
      run('scancel', jobs);
    } catch {
      /* already gone */
    }
  }
});

describe('gmoe on a one-node Slurm cluster', () => {
  it('submit.sh: 4 array tasks, then the merge, give the summary.json of one machine byte for byte', async () => {
    const out = join(work, 'a');
    const { array, merge } = submit(out);
    const done = await settled(merge, 240);
    expect(done.get(merge), logs(out)).toBe('COMPLETED');
    expect([...states(array).values()]).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    for (let t = 0; t < 4; t++) expect(lines(join(out, `shard-${t}`, 'results.jsonl'))).toBe(CELLS / 4);
    expect(lines(join(out, 'merged', 'results.jsonl'))).toBe(CELLS);
    expect(readFileSync(join(out, 'merged', 'summary.json'), 'utf8')).toBe(oneMachine);
  });

  it('a task cancelled mid-run (scancel) and resubmitted with sbatch --array=<id> gives the same merged summary', async () => {
    const out = join(work, 'b');
    const slow = { GMOE_TEST_FAULT: 'delay=1000' };
    const { array, merge } = submit(out, slow);
    const results = join(out, 'shard-1', 'results.jsonl');
    await waitFor('task 1 to save its first cell', 120, () =>
      states(array).get('1') === 'RUNNING' && lines(results) >= 1 ? true : undefined,
    );
    run('scancel', [`${array}_1`]);
    const tasks = await settled(array, 180);
    expect(tasks.get('1')).toBe('CANCELLED');
    const kept = lines(results);
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThan(CELLS / 4);
    // the merge waits on afterok, which a cancelled task never satisfies: cancel it, as the README says
    expect(states(merge).get(merge)).toBe('PENDING');
    run('scancel', [merge]);
    const again = sbatch(out, [SBATCH_ARGS.split(' '), '--array=1', join(SLURM, 'sweep-array.sh')].flat(), {
      ...slow,
      TASKS: '4',
    });
    const remerge = sbatch(
      out,
      [SBATCH_ARGS.split(' '), `--dependency=afterok:${again}`, join(SLURM, 'merge.sh')].flat(),
    );
    const done = await settled(remerge, 240);
    expect(done.get(remerge), logs(out)).toBe('COMPLETED');
    expect(readFileSync(join(out, `gmoe-sweep-${again}_1.log`), 'utf8')).toContain(
      `resuming ${out}/shard-1: ${kept} of 4 cells already done`,
    );
    expect(lines(results)).toBe(CELLS / 4);
    expect(readFileSync(join(out, 'merged', 'summary.json'), 'utf8')).toBe(oneMachine);
  });

  it('more replications later: EXTRA="--reps 6 --reuse <merged>" takes the earlier cells, shard by shard, to the summary of one machine', async () => {
    const earlier = join(work, 'a', 'merged');
    expect(existsSync(join(earlier, 'summary.json')), 'the first scenario ran').toBe(true);
    const out = join(work, 'd');
    const { array, merge } = submit(out, { EXTRA: `--reps 6 --reuse ${earlier}` });
    const done = await settled(merge, 240);
    expect(done.get(merge), logs(out)).toBe('COMPLETED');
    // each task took its own share of the 16 earlier cells and ran the rest of its 6
    let taken = 0;
    for (let t = 0; t < 4; t++) {
      const log = readFileSync(join(out, `gmoe-sweep-${array}_${t}.log`), 'utf8');
      const m = /reusing (\d+) of 6 cells from /.exec(log);
      expect(m, log).not.toBeNull();
      taken += Number(m![1]);
      expect(lines(join(out, `shard-${t}`, 'results.jsonl'))).toBe(6);
    }
    expect(taken).toBe(CELLS);
    run('node', [
      'bin/gmoe.js',
      'sweep',
      SPEC,
      '--reps',
      '6',
      '--out',
      join(work, 'one-6'),
      '--workers',
      '1',
      '--no-png',
    ]);
    expect(readFileSync(join(out, 'merged', 'summary.json'), 'utf8')).toBe(
      readFileSync(join(work, 'one-6', 'summary.json'), 'utf8'),
    );
  });

  it('SIGTERM at the time limit (--time=1 --signal=B:TERM@30) leaves a resumable shard, finished by a resubmission', async () => {
    const { out, job } = timeLimited;
    const s = await settled(job, 200);
    const elapsed = (Date.now() - timeLimited.submitted) / 1000;
    const state = s.get('0');
    const log = readFileSync(join(out, `gmoe-sweep-${job}_0.log`), 'utf8');
    // gmoe stopped on the signal: exit 130 (FAILED) or, if the limit's own SIGTERM came first, TIMEOUT
    expect(['FAILED', 'TIMEOUT'], log).toContain(state);
    const m = /interrupted; (\d+) of 16 cells are saved in (\S+)\. Continue with: .*--resume/.exec(log);
    expect(m, log).not.toBeNull();
    const shard = join(out, 'shard-0');
    const kept = Number(m![1]);
    expect(lines(join(shard, 'results.jsonl'))).toBe(kept);
    expect(readFileSync(join(shard, 'results.jsonl'), 'utf8').endsWith('\n') || kept === 0).toBe(true);
    expect(kept).toBeLessThan(CELLS);
    expect(existsSync(join(shard, 'spec.json'))).toBe(true);
    expect(existsSync(join(shard, 'summary.json'))).toBe(false);
    console.log(`time-limited task: ${state} after ${elapsed.toFixed(0)} s with ${kept} of ${CELLS} cells saved`);
    const again = sbatch(out, [SBATCH_ARGS.split(' '), '--array=0', join(SLURM, 'sweep-array.sh')].flat());
    const done = await settled(again, 240);
    const relog = readFileSync(join(out, `gmoe-sweep-${again}_0.log`), 'utf8');
    expect(done.get('0'), relog).toBe('COMPLETED');
    expect(relog).toContain(`resuming ${shard}: ${kept} of 16 cells already done`);
    // a one-task array is the whole sweep: its own summary is the one-machine summary
    expect(readFileSync(join(shard, 'summary.json'), 'utf8')).toBe(oneMachine);
  });
});
