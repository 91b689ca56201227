/**
 * `gmoe loss --fit <model.json|preset> --truth <preset|model.json> [--loss D1|D2|auto] [--top-k K|none]
 *            [--no-translation] [--no-normalize-weights] [--hellinger [--hellinger-n N] [--hellinger-seed S] [--hellinger-design D]]`
 * Prints the Voronoi loss of a fitted model against a truth as JSON on stdout:
 *   { "loss", "kind", ["topK", "K"], "t0", "t1", "cells": [{ "true", "fitted", "errors", "term" }], ["tauTerm"], "weightScale", ["hellinger"] }
 * Indices are 0-based; null stands for an undefined number (errors of an empty cell, t0 = −∞).
 * Fit results written by `gmoe fit` are model files with an extra "fit" block, so they load as models.
 */
import type { Command } from 'commander';
import { resolveModel } from '../../models/io.js';
import { formatJSON } from '../../io/index.js';
import { DESIGNS, type Design } from '../../models/sample.js';
import type { Model } from '../../models/types.js';
import { MAX_SEED } from '../../random/rng.js';
import { hellinger, voronoiLoss, type LossOptions } from '../../voronoi/index.js';
import { CliError } from '../errors.js';
import { parseIntOption } from './simulate.js';

interface LossCliOptions {
  fit: string;
  truth: string;
  loss: string;
  topK?: string;
  translation: boolean;
  normalizeWeights: boolean;
  hellinger?: boolean;
  hellingerN: string;
  hellingerSeed: string;
  hellingerDesign: string;
}

const KINDS = ['D1', 'D2', 'auto'] as const;

function load(arg: string, flag: string): Model {
  try {
    return resolveModel(arg, flag);
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
}

function run(opts: LossCliOptions): void {
  if (!(KINDS as readonly string[]).includes(opts.loss))
    throw new CliError(`--loss must be one of ${KINDS.join(', ')}. Value: ${opts.loss}`);
  const options: LossOptions = {
    loss: opts.loss as LossOptions['loss'],
    translation: opts.translation,
    normalizeWeights: opts.normalizeWeights,
  };
  if (opts.topK !== undefined)
    options.topK = opts.topK === 'none' ? false : parseIntOption(opts.topK, '--top-k', 1, 1_000_000);
  let n = 0;
  let seed = 1;
  if (opts.hellinger) {
    n = parseIntOption(opts.hellingerN, '--hellinger-n', 1, 10_000_000);
    seed = parseIntOption(opts.hellingerSeed, '--hellinger-seed', 1, MAX_SEED);
    if (!(DESIGNS as readonly string[]).includes(opts.hellingerDesign)) {
      throw new CliError(`--hellinger-design must be one of ${DESIGNS.join(', ')}. Value: ${opts.hellingerDesign}`);
    }
  }
  const fit = load(opts.fit, '--fit');
  const truth = load(opts.truth, '--truth');
  if (opts.hellinger && opts.hellingerDesign === 'grid' && truth.d !== 1) {
    throw new CliError(`--hellinger-design grid needs d = 1 (linspace(0, 1, n)); the truth has d = ${truth.d}`);
  }
  let out: Record<string, unknown>;
  try {
    out = { ...voronoiLoss(fit, truth, options) };
    if (opts.hellinger) out.hellinger = hellinger(fit, truth, { n, seed, design: opts.hellingerDesign as Design });
  } catch (e) {
    // the models are valid here: what is left is a mismatch (d, gate family) or an undefined loss (r̄)
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  process.stdout.write(`${formatJSON(out)}\n`);
}

/** Registers `gmoe loss`. */
export function register(program: Command): void {
  program
    .command('loss')
    .description(
      'Voronoi loss (D1/D2, translation infimum, per-cell errors) of a fitted model against a truth, as JSON',
    )
    .requiredOption('--fit <model.json>', 'fitted model file (e.g. written by `gmoe fit`) or a truth preset name')
    .requiredOption('--truth <preset|model.json>', 'truth preset name (see `gmoe presets`) or path to a model file')
    .option(
      '--loss <kind>',
      "D1 | D2 | auto (D1 when the fit has the truth's number of experts k, D2 otherwise; chosen by k, not by how atoms fall into cells, so the losses of one experiment stay comparable)",
      'auto',
    )
    .option('--top-k <K>', "sum of the K largest per-cell terms, or none (default: the truth's K for a top-K truth)")
    .option('--no-translation', 'no infimum over the gate translation (t0 = 0, t1 = 0)')
    .option(
      '--no-normalize-weights',
      "use the fitted weights exp(β0) as given, not rescaled to the truth's total weight",
    )
    .option('--hellinger', 'add "hellinger": the expected conditional Hellinger distance E_X[h(fit, truth)]')
    .option('--hellinger-n <N>', 'design points for --hellinger', '2000')
    .option('--hellinger-seed <S>', 'seed of the design for --hellinger', '1')
    .option('--hellinger-design <design>', `design for --hellinger: ${DESIGNS.join(' | ')}`, 'uniform')
    .addHelpText(
      'after',
      '\nExamples:\n  gmoe loss --fit fit.json --truth demy\n  gmoe loss --fit fit.json --truth demy --loss D2 --hellinger',
    )
    .action((opts: LossCliOptions) => run(opts));
}
