/**
 * `gmoe presets [--json]` — lists the presets, one line each, grouped in sections.
 * `gmoe presets <truth> [--out model.json]` — the model file of one truth preset.
 * `gmoe presets <experiment> [--quick] [--out spec.json]` — the spec of one experiment preset, to edit and run.
 */
import type { Command } from 'commander';
import { formatJSON, writeFileAtomic } from '../../io/index.js';
import { modelToJSON, writeModelFile } from '../../models/io.js';
import { listTruthPresets, truthPreset } from '../../models/presets.js';
import { isExperimentPreset, listExperimentPresets, presetSpec } from '../../experiments/presets.js';
import { CliError } from '../errors.js';
import type { Model } from '../../models/types.js';
import { describeGate } from '../../models/gates/index.js';

/** One listed preset. */
export interface PresetEntry {
  name: string;
  description: string;
}

/** A titled group of presets in the `gmoe presets` listing, e.g. "truth presets". */
export interface PresetSection {
  title: string;
  /** what a preset of this section is used with, e.g. "gmoe simulate --truth <name>" */
  usage: string;
  list: () => readonly PresetEntry[];
}

function shape(m: Model): string {
  const gate = describeGate(m.gate);
  return `k=${m.k} d=${m.d} ${gate}`;
}

/**
 * The sections listed by `gmoe presets`, in order.
 */
export const presetSections: PresetSection[] = [
  {
    title: 'truth presets',
    usage: 'gmoe simulate --truth <name>, gmoe loss --truth <name>',
    list: () =>
      listTruthPresets().map((p) => ({ name: p.name, description: `[${shape(p.model())}] ${p.description}` })),
  },
  {
    title: 'experiment presets',
    usage: 'gmoe sweep <name> [--quick]',
    list: () => listExperimentPresets(),
  },
];

/** The `gmoe presets` text: a title line per section, then one aligned line per preset. */
export function formatPresets(sections: readonly PresetSection[] = presetSections): string {
  const out: string[] = [];
  for (const s of sections) {
    const items = s.list();
    const width = Math.max(0, ...items.map((p) => p.name.length));
    if (out.length) out.push('');
    out.push(`${s.title} (${s.usage}):`);
    for (const p of items) out.push(`  ${p.name.padEnd(width)}  ${p.description}`);
  }
  return `${out.join('\n')}\n`;
}

interface PresetsCliOptions {
  json?: boolean;
  out?: string;
  quick?: boolean;
}

/** Prints (or writes) the spec of one experiment preset: a spec file `gmoe sweep` runs as it is. */
function showExperiment(name: string, opts: PresetsCliOptions): void {
  const text = `${formatJSON(presetSpec(name, { quick: opts.quick === true }))}\n`;
  if (opts.out === undefined || opts.out === '-') {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileAtomic(opts.out, text);
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  process.stderr.write(`gmoe presets: wrote the ${opts.quick ? 'quick ' : ''}spec of ${name} to ${opts.out}\n`);
}

/** Prints (or writes) the model file of one truth preset, or the spec of an experiment preset. */
function showTruth(name: string, opts: PresetsCliOptions): void {
  if (isExperimentPreset(name)) return showExperiment(name, opts);
  if (opts.quick) throw new CliError(`--quick applies to an experiment preset, not to the truth ${name}`);
  const names = listTruthPresets().map((p) => p.name);
  if (!names.includes(name)) {
    const experiments = listExperimentPresets().map((p) => p.name);
    throw new CliError(
      `the preset to show must be a truth preset (${names.join(', ')}) or an experiment preset (${experiments.join(', ')}). Value: ${name}`,
    );
  }
  const model = truthPreset(name);
  if (opts.out === undefined || opts.out === '-') {
    process.stdout.write(`${formatJSON(modelToJSON(model))}\n`);
    return;
  }
  try {
    writeModelFile(opts.out, model);
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  process.stderr.write(`gmoe presets: wrote the model file of ${name} to ${opts.out}\n`);
}

/** Registers `gmoe presets`. */
export function register(program: Command): void {
  program
    .command('presets')
    .description(
      'list the truth presets (and experiment presets), one line each; with a name, print its model file (or spec)',
    )
    .argument(
      '[name]',
      'a truth preset: print its model file (JSON); an experiment preset: its spec, to edit and run with gmoe sweep',
    )
    .option('--json', 'print the listing as JSON: [{ "title", "usage", "presets": [{ "name", "description" }] }]')
    .option('--quick', 'with an experiment preset: the spec at its quick size (what gmoe sweep NAME --quick runs)')
    .option('--out <file>', 'with a name: write the model file or spec there (atomically) instead of printing it')
    .addHelpText(
      'after',
      '\nExamples:\n  gmoe presets\n  gmoe presets demy --out truth.json\n  gmoe presets demy-over --quick --out my.json   # edit, then: gmoe sweep my.json',
    )
    .action((name: string | undefined, opts: PresetsCliOptions) => {
      if (name !== undefined) return showTruth(name, opts);
      if (opts.out !== undefined)
        throw new CliError('--out needs a preset name, e.g. gmoe presets demy --out truth.json');
      if (opts.json) {
        const json = presetSections.map((s) => ({ title: s.title, usage: s.usage, presets: s.list() }));
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      } else {
        process.stdout.write(formatPresets());
      }
    });
}
