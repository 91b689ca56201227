// `--metric <M...>` takes every word after it up to the next option, so `--metric D1 runA runB` leaves the
// command its directories short: say that, rather than commander's "missing required argument".
import { existsSync } from 'node:fs';

/** The words --metric took that name existing paths, DIR:MODEL or what `isArg` accepts (the arguments it swallowed). */
export function swallowedByMetric(
  metric: readonly string[] | undefined,
  isArg: (m: string) => boolean = () => false,
): string[] {
  return (metric ?? []).filter((m) => existsSync(m) || existsSync(m.replace(/:[^:/]*$/, '')) || isArg(m));
}

/** The hint for a command missing its arguments after --metric took `swallowed`. */
export function metricHint(swallowed: readonly string[]): string {
  return `--metric took ${swallowed.join(' ')} as metric names (its list runs to the next option): put the arguments before --metric, or end its list with --`;
}
