/**
 * Progress display on stderr (a sweep's cells, a bootstrap's samples): a cli-progress bar (done / total,
 * ETA, latest) when stderr is a terminal, plain periodic lines otherwise (logs, CI, Slurm).
 */
import cliProgress from 'cli-progress';
import type { SweepProgress } from './runner.js';
import type { CellRecord } from './types.js';

/** "1h02m", "3m05s", "12s". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** The latest cell in a few words: "n=5000 rep=3 D1=0.0123" (or its error). */
export function describeLatest(r: CellRecord): string {
  const where = `${r.model ? `${r.model} ` : ''}n=${r.n} rep=${r.rep}`;
  if (r.status === 'failed') return `${where} FAILED`;
  const keys = Object.keys(r.metrics);
  const main = keys.find((k) => k === 'loss' || k.endsWith(':loss')) ?? keys.find((k) => /(^|:)D[12]$/.test(k));
  const v = main === undefined ? undefined : r.metrics[main];
  return v === undefined ? where : `${where} loss=${v.toPrecision(3)}`;
}

export interface ProgressReporter<P = SweepProgress> {
  update(p: P): void;
  stop(): void;
}

/** What a count reporter shows: items done of a total, seconds elapsed and left, failures. */
export interface CountProgress {
  done: number;
  total: number;
  failed: number;
  elapsed: number;
  eta?: number;
}

export interface CountReporterOptions<P> {
  stream?: NodeJS.WriteStream;
  /** seconds between plain lines when not a terminal (default 10) */
  intervalSeconds?: number;
  title: string;
  /** what is counted: "cells", "samples" */
  unit: string;
  /** the latest item in a few words */
  describe: (p: P) => string;
}

/**
 * A progress reporter writing to `stream` (default process.stderr): a bar on a terminal, else a plain
 * line every `intervalSeconds` and at the end.
 */
export function createCountReporter<P extends CountProgress>(options: CountReporterOptions<P>): ProgressReporter<P> {
  const stream = options.stream ?? process.stderr;
  const { title, unit, describe } = options;
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${title} {bar} {value}/{total} ${unit} | ETA {etaText} | {elapsedText} | {latest}`,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 1,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        const payload = {
          etaText: formatDuration(p.eta),
          elapsedText: formatDuration(p.elapsed),
          latest: describe(p) + (p.failed ? ` | ${p.failed} failed` : ''),
        };
        if (!started) {
          bar.start(p.total, p.done, payload);
          started = true;
        } else bar.update(p.done, payload);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  const every = (options.intervalSeconds ?? 10) * 1000;
  let last = -Infinity;
  return {
    update(p) {
      const now = performance.now();
      if (p.done < p.total && now - last < every) return;
      last = now;
      const pct = ((100 * p.done) / p.total).toFixed(0);
      const latest = describe(p);
      stream.write(
        `${title}: ${p.done}/${p.total} ${unit} (${pct}%), elapsed ${formatDuration(p.elapsed)}, ETA ${formatDuration(p.eta)}${p.failed ? `, ${p.failed} failed` : ''}${latest ? `; latest ${latest}` : ''}\n`,
      );
    },
    stop() {},
  };
}

/**
 * A sweep's progress reporter writing to `stream` (default process.stderr).
 * @param options.intervalSeconds seconds between plain lines when not a terminal (default 10)
 */
export function createProgressReporter(
  options: { stream?: NodeJS.WriteStream; intervalSeconds?: number; title?: string } = {},
): ProgressReporter {
  return createCountReporter<SweepProgress>({
    ...options,
    title: options.title ?? 'sweep',
    unit: 'cells',
    describe: (p) => describeLatest(p.latest),
  });
}
