/**
 * The gmoe command line: thin commands over the public API. Each command lives in
 * src/cli/commands/<name>.ts and exports `register(program)`; program.ts runs them.
 * Bad input ends the process with exit code 2 and a one-line reason on stderr.
 */
import { runCli } from './program.js';

// a reader that closed the pipe (`gmoe simulate --out - | head`) has all it wanted: stop quietly, no stack trace
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const code = await runCli(process.argv.slice(2));
if (code !== undefined) process.exit(code);
