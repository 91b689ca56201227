/**
 * The gmoe command line: thin commands over the public API. Each command lives in
 * src/cli/commands/<name>.ts and exports `register(program)`.
 * Bad input ends the process with exit code 2 and a one-line reason on stderr.
 */
import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.js';
import { CliError } from './errors.js';
import { ValidationError } from '../models/validate.js';

const program = new Command();
program
  .name('gmoe')
  .description('Statistical estimation in Gaussian mixture-of-experts models')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(str) })
  .showHelpAfterError('(add --help for usage)');

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`gmoe: ${msg.split('\n')[0]}\n`);
  if (process.env.GMOE_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  // bad input (CLI options, model files, specs) is exit 2; anything else is a failure of the run
  process.exit(e instanceof CliError ? e.exitCode : e instanceof ValidationError ? 2 : 1);
}
