/**
 * Progress display of a sweep on stderr: a cli-progress bar (cells done / total, ETA, latest
 * loss) when stderr is a terminal, plain periodic lines otherwise (logs, CI, Slurm).
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

export interface ProgressReporter {
  update(p: SweepProgress): void;
  stop(): void;
}

/**
 * A progress reporter writing to `stream` (default process.stderr).
 * @param options.intervalSeconds seconds between plain lines when not a terminal (default 10)
 */
export function createProgressReporter(
  options: { stream?: NodeJS.WriteStream; intervalSeconds?: number; title?: string } = {},
): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const title = options.title ?? 'sweep';
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${title} {bar} {value}/{total} cells | ETA {etaText} | {elapsedText} | {latest}`,
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
          latest: describeLatest(p.latest) + (p.failed ? ` | ${p.failed} failed` : ''),
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
      stream.write(
        `${title}: ${p.done}/${p.total} cells (${pct}%), elapsed ${formatDuration(p.elapsed)}, ETA ${formatDuration(p.eta)}${p.failed ? `, ${p.failed} failed` : ''}; latest ${describeLatest(p.latest)}\n`,
      );
    },
    stop() {},
  };
}
