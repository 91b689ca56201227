/**
 * `gmoe presets [--json]` — lists the presets, one line each, grouped in sections.
 * `gmoe presets <truth> [--out model.json]` — the model file of one truth preset.
 */
import type { Command } from 'commander';
import { formatJSON } from '../../io/index.js';
import { modelToJSON, writeModelFile } from '../../models/io.js';
import { listTruthPresets, truthPreset } from '../../models/presets.js';
import { listExperimentPresets } from '../../experiments/presets.js';
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
}

/** Prints (or writes) the model file of one truth preset. */
function showTruth(name: string, opts: PresetsCliOptions): void {
  const names = listTruthPresets().map((p) => p.name);
  if (!names.includes(name))
    throw new CliError(`the preset to show must be a truth preset: ${names.join(', ')}. Value: ${name}`);
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
    .description('list the truth presets (and experiment presets), one line each; with a name, print its model file')
    .argument('[name]', 'a truth preset: print its model file (JSON) instead of the listing')
    .option('--json', 'print the listing as JSON: [{ "title", "usage", "presets": [{ "name", "description" }] }]')
    .option('--out <model.json>', 'with a name: write the model file there (atomically) instead of printing it')
    .addHelpText('after', '\nExamples:\n  gmoe presets\n  gmoe presets demy --out truth.json')
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
