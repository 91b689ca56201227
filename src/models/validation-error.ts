// The error of bad input, naming the field it is about: its own module, so that low-level code (the seeded
// generator) can throw it without importing the gate registry.

/** A rejected model, gate or dataset: `field` is the path of the offending entry. */
export class ValidationError extends Error {
  constructor(
    message: string,
    readonly field: string,
    readonly value?: unknown,
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** A ValidationError whose field is the message's first word (`data.d must equal …` → `data.d`; `fit: …` → `fit`). */
export function badInput(message: string, value?: unknown): ValidationError {
  return new ValidationError(message, message.split(' ', 1)[0]!.replace(/:$/, ''), value);
}
