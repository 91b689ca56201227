/** The command line's own refusals (commander's) read like gmoe's: one line, `gmoe: <reason>`, exit 2. */
import { describe, expect, it } from 'vitest';
import { commanderLine, createProgram } from '../../src/cli/program.js';
import { gmoe } from './run-gmoe.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('cli-program');

describe('commander refusals', () => {
  it('a missing required option, an unknown option, an unknown command: one line each, exit 2', async () => {
    const cases: [string[], string][] = [
      [
        ['fit', '--data', 'd.csv', '--gate', 'softmax', '--k', '2'],
        "gmoe: required option '--out <fit.json>' not specified (add --help for usage)",
      ],
      [['presets', '--bogus'], "gmoe: unknown option '--bogus' (add --help for usage)"],
      [['fitt'], "gmoe: unknown command 'fitt' (Did you mean fit?) (add --help for usage)"],
    ];
    const runs = await Promise.all(cases.map(([args]) => gmoe(args, dir)));
    runs.forEach((r, t) => {
      expect(r.code, cases[t]![0].join(' ')).toBe(2);
      expect(r.stderr).toBe(`${cases[t]![1]}\n`);
    });
    expect(commanderLine('error: a\n(b)\n')).toBe('gmoe: a (b) (add --help for usage)');
  });
});

describe('--help', () => {
  it('says which options are required, numeric defaults as numbers, an empty list default as none', () => {
    const program = createProgram();
    const help = (name: string) => program.commands.find((c) => c.name() === name)!.helpInformation();
    const fit = help('fit').replace(/\s+/g, ' ');
    const fitCommand = program.commands.find((c) => c.name() === 'fit')!;
    const required = fitCommand.options.filter((o) => o.mandatory).map((o) => o.long);
    expect(required).toEqual(['--data', '--gate', '--k', '--out']);
    expect(fit.match(/\(required\)/g)).toHaveLength(4);
    expect(fit).toContain('(default: 1)');
    expect(fit).not.toContain('(default: "1")');
    expect(fit).toContain('(default: "em")'); // a word stays quoted
    const sweep = help('sweep').replace(/\s+/g, ' ');
    expect(sweep).toContain('(default: none)');
    expect(sweep).not.toContain('(default: [])');
  });
});
