/**
 * `gmoe presets [--json]` — lists the presets, one line each, grouped in sections.
 */
import type { Command } from 'commander';
import { listTruthPresets } from '../../models/presets.js';
import type { Model } from '../../models/types.js';

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
  const g = m.gate;
  const gate = g.kind === 'topk' ? `topk K=${g.K} on ${g.selectOn}` : g.kind === 'activation' ? `activation ${g.activation} (bias ${g.bias})` : g.kind;
  return `k=${m.k} d=${m.d} ${gate}`;
}

/**
 * The sections listed by `gmoe presets`, in order.
 * TODO(experiments developer): append the experiment presets here, e.g.
 *   { title: 'experiment presets', usage: 'gmoe sweep <name> [--quick]', list: () => listExperimentPresets() }
 * with an import from '../../experiments/presets.js'.
 */
export const presetSections: PresetSection[] = [
  {
    title: 'truth presets',
    usage: 'gmoe simulate --truth <name>, gmoe loss --truth <name>',
    list: () => listTruthPresets().map((p) => ({ name: p.name, description: `[${shape(p.model())}] ${p.description}` })),
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

/** Registers `gmoe presets`. */
export function register(program: Command): void {
  program
    .command('presets')
    .description('list the truth presets (and experiment presets), one line each')
    .option('--json', 'print the listing as JSON: [{ "title", "usage", "presets": [{ "name", "description" }] }]')
    .action((opts: { json?: boolean }) => {
      if (opts.json) {
        const json = presetSections.map((s) => ({ title: s.title, usage: s.usage, presets: s.list() }));
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      } else {
        process.stdout.write(formatPresets());
      }
    });
}
