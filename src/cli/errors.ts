/** A user-facing CLI error: printed as one line, exit code 2 (bad input) unless told otherwise. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
