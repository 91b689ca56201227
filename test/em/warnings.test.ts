/** WarningLog: each distinct warning once, counted, with its first iteration where that says something. */
import { describe, expect, it } from 'vitest';
import { WarningLog } from '../../src/em/warnings.js';

describe('WarningLog', () => {
  it('lists a warning said once as it is, one said again with its first iteration and count (first message kept)', () => {
    const log = new WarningLog();
    expect(log.size).toBe(0);
    expect(log.list()).toEqual([]);
    log.add('a', 'alpha', 3);
    log.add('b', 'beta');
    log.add('a', 'alpha again', 7);
    log.add('a', 'alpha', 9);
    expect(log.size).toBe(2);
    expect(log.has('a')).toBe(true);
    expect(log.has('alpha')).toBe(false);
    expect(log.list()).toEqual(['alpha (first at iteration 3; 3 times)', 'beta']);
    log.add('b', 'beta');
    expect(log.list()).toEqual(['alpha (first at iteration 3; 3 times)', 'beta (first at iteration 0; 2 times)']);
  });

  it('a warning of one iteration (when) carries its iteration even when said once', () => {
    const log = new WarningLog();
    log.add('m', 'floor hit', 4, true);
    log.add('n', 'plain', 5);
    log.add('o', 'once at 0', undefined, true);
    expect(log.list()).toEqual(['floor hit (at iteration 4)', 'plain', 'once at 0 (at iteration 0)']);
    log.add('m', 'floor hit', 6, true);
    expect(log.list()[0]).toBe('floor hit (first at iteration 4; 2 times)');
  });
});
