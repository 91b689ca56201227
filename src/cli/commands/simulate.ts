/**
 * `gmoe simulate --truth <preset|model.json> --n N --seed S [--design uniform|grid|normal] [--latent] --out data.csv`
 * Seeded draws of (X, Y) from a model, written as CSV (header x1,...,xd,y[,z]). The same seed gives
 * a byte-identical file on every machine.
 */
import type { Command } from 'commander';
import { DESIGNS, simulate, type Design } from '../../models/sample.js';
import { resolveModel } from '../../models/io.js';
import { datasetCsvChunks, writeDatasetCsv } from '../../models/dataset-io.js';
import { ValidationError } from '../../models/validate.js';
import { MAX_SEED } from '../../random/rng.js';
import { CliError } from '../errors.js';

/** Largest n accepted: keeps the arrays (n × d doubles) and the CSV within memory and disk sizes. */
export const MAX_N = 100_000_000;

const INTEGER = /^[+]?\d+(?:\.\d*)?(?:[eE][+]?\d+)?$/;

/**
 * Parses a command-line integer ("1000", "1e5") in [min, max].
 * @throws CliError `--n must be an integer in [1, 100000000]. Value: 0`
 */
export function parseIntOption(raw: unknown, flag: string, min: number, max: number): number {
  const s = String(raw).trim();
  const v = INTEGER.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(v) || v < min || v > max)
    throw new CliError(`${flag} must be an integer in [${min}, ${max}]. Value: ${String(raw)}`);
  return v;
}

interface SimulateCliOptions {
  truth: string;
  n: string;
  seed: string;
  design: string;
  out: string;
  latent?: boolean;
}

/** Turns library errors about user input (bad model file, unwritable path) into exit code 2. */
function asCliError(e: unknown): never {
  if (e instanceof CliError) throw e;
  throw new CliError(e instanceof Error ? e.message : String(e));
}

/**
 * A model whose means or variances are near the largest double draws y = ±Infinity: refused before
 * anything is written, since no reader (gmoe's included) accepts such a cell.
 * @throws CliError `--truth m.json: sample 0 drew y = Infinity (the model's means or variances overflow a double)`
 */
function checkFinite(y: Float64Array, truth: string): void {
  for (let i = 0; i < y.length; i++)
    if (!Number.isFinite(y[i]!))
      throw new CliError(
        `--truth ${truth}: sample ${i} drew y = ${String(y[i])} (the model's means or variances overflow a double)`,
      );
}

function run(opts: SimulateCliOptions): void {
  const n = parseIntOption(opts.n, '--n', 1, MAX_N);
  const seed = parseIntOption(opts.seed, '--seed', 1, MAX_SEED);
  if (!(DESIGNS as readonly string[]).includes(opts.design))
    throw new CliError(`--design must be one of ${DESIGNS.join(', ')}. Value: ${opts.design}`);
  const design = opts.design as Design;
  if (opts.out === '') throw new CliError('--out must be a file path (or - for standard output). Value: ""');
  let model;
  try {
    model = resolveModel(opts.truth, '--truth');
  } catch (e) {
    asCliError(e);
  }
  if (design === 'grid' && model.d !== 1)
    throw new CliError(`--design grid needs a truth with d = 1 (linspace(0, 1, n)); ${opts.truth} has d = ${model.d}`);
  const data = simulate(model, { n, seed, design });
  checkFinite(data.y, opts.truth);
  const z = opts.latent ? data.z : undefined;
  const plain = { n: data.n, d: data.d, X: data.X, y: data.y };
  if (opts.out === '-') {
    for (const chunk of datasetCsvChunks(plain, { z })) process.stdout.write(chunk);
    return;
  }
  try {
    writeDatasetCsv(opts.out, plain, { z });
  } catch (e) {
    if (e instanceof ValidationError) throw e; // a non-finite X would be a bug, not bad input
    asCliError(e);
  }
  process.stderr.write(
    `gmoe simulate: wrote ${n} samples (d = ${model.d}, design ${design}, seed ${seed}) to ${opts.out}\n`,
  );
}

/** Registers `gmoe simulate`. */
export function register(program: Command): void {
  program
    .command('simulate')
    .description('draw a seeded sample (X, Y) from a truth preset or a model file and write it as CSV (x1,...,xd,y)')
    .requiredOption('--truth <preset|model.json>', 'truth preset name (see `gmoe presets`) or path to a model file')
    .requiredOption('--n <N>', 'number of samples, integer ≥ 1')
    .requiredOption('--seed <S>', `seed, integer in [1, ${MAX_SEED}]; the same seed gives the same file`)
    .option(
      '--design <design>',
      `design of X: ${DESIGNS.join(' | ')} (uniform on [0,1]^d, linspace(0,1,n) for d = 1, N(0, I))`,
      'uniform',
    )
    .option('--latent', 'add a column z with the (0-based) expert that generated each sample')
    .requiredOption('--out <data.csv>', 'output CSV path (written atomically), or - for standard output')
    .addHelpText('after', '\nExample:\n  gmoe simulate --truth demy --n 1000 --seed 7 --out a.csv')
    .action((opts: SimulateCliOptions) => run(opts));
}
