/** The registered CLI commands, in the order `gmoe --help` lists them. */
import type { Command } from 'commander';
import { register as simulate } from './simulate.js';
import { register as fit } from './fit.js';
import { register as predict } from './predict.js';
import { register as select } from './select.js';
import { register as loss } from './loss.js';
import { register as sweep } from './sweep.js';
import { register as report } from './report.js';
import { register as merge } from './merge.js';
import { register as presets } from './presets.js';
import { register as plan } from './plan.js';
import { register as compare } from './compare.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  simulate,
  fit,
  predict,
  select,
  loss,
  sweep,
  report,
  merge,
  compare,
  presets,
  plan,
];
