/**
 * Collects a fit's warnings: each distinct message once, with how often it happened, so that a
 * condition hit at every iteration (a variance floor, say) does not flood the result.
 */
export class WarningLog {
  private readonly counts = new Map<string, { message: string; count: number; first: number; when: boolean }>();

  /**
   * Records `message` under `key` (same key → counted, first message kept) at EM iteration `iteration`.
   * `when`: a condition of one iteration (an M-step's), not of the returned model — listed with its
   * iteration even when it happened once, so that it is not read as a fact about the fit.
   */
  add(key: string, message: string, iteration = 0, when = false): void {
    const e = this.counts.get(key);
    if (e) e.count++;
    else this.counts.set(key, { message, count: 1, first: iteration, when });
  }

  has(key: string): boolean {
    return this.counts.has(key);
  }

  get size(): number {
    return this.counts.size;
  }

  /** The messages in first-seen order, "message (first at iteration t; N times)" when repeated, "(at iteration t)" for a `when` one. */
  list(): string[] {
    return [...this.counts.values()].map((e) =>
      e.count > 1
        ? `${e.message} (first at iteration ${e.first}; ${e.count} times)`
        : e.when
          ? `${e.message} (at iteration ${e.first})`
          : e.message,
    );
  }
}
