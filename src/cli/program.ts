/**
 * The gmoe command line as a function: `runCli(argv)` parses and runs one command, and turns
 * every error into one line on stderr and an exit code (2: bad input; 1: a failure of the run).
 * main.ts calls it for the `gmoe` binary; the fuzz tests call it in-process, many times over.
 */
import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.js';
import { CliError } from './errors.js';
import { ValidationError } from '../models/validate.js';
import { packageInfo } from '../io/package-info.js';

/** A fresh program with every command registered (commander keeps parse state: one per run). */
export function createProgram(): Command {
  const program = new Command();
  program
    .name('gmoe')
    .description('Statistical estimation in Gaussian mixture-of-experts models')
    .version(packageInfo().version)
    .exitOverride()
    // commander's own refusals (a missing required option, an unknown option or command) in gmoe's
    // form: one line, `gmoe: <reason>`, with the pointer to --help on it
    .configureOutput({ outputError: (str, write) => write(`${commanderLine(str)}\n`) });
  for (const register of commands) register(program);
  for (const command of program.commands) tidyHelp(command);
  return program;
}

/**
 * --help as a reader wants it: required options say so, numeric defaults read as numbers ("1", not "\"1\""),
 * an empty list default as none.
 */
function tidyHelp(command: Command): void {
  for (const option of command.options) {
    if (option.mandatory && option.description !== undefined && !option.description.endsWith('(required)'))
      option.description = `${option.description} (required)`;
    const v: unknown = option.defaultValue;
    if (option.defaultValueDescription !== undefined) continue;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) option.defaultValueDescription = v;
    else if (Array.isArray(v) && v.length === 0) option.defaultValueDescription = 'none';
  }
}

/** A commander error message ("error: …", maybe a "(Did you mean …?)" line) as one gmoe line. */
export function commanderLine(str: string): string {
  return `gmoe: ${str
    .replace(/^error: /, '')
    .trim()
    .replace(/\s*\n\s*/g, ' ')} (add --help for usage)`;
}

/**
 * Runs `gmoe <args...>`.
 * @param args the arguments after `gmoe`
 * @returns the exit code when the command failed or asked to exit (help, version), else undefined
 *   (process.exitCode may still have been set, e.g. 130 for an interrupted sweep)
 */
export async function runCli(args: readonly string[]): Promise<number | undefined> {
  try {
    await createProgram().parseAsync(['node', 'gmoe', ...args]);
    return undefined;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`gmoe: ${msg.split('\n')[0]}\n`);
    if (process.env.GMOE_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    // bad input (CLI options, model files, specs) is exit 2; anything else is a failure of the run
    return e instanceof CliError ? e.exitCode : e instanceof ValidationError ? 2 : 1;
  }
}
