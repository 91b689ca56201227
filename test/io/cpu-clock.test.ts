import { describe, expect, it } from 'vitest';
import { startCpuClock, threadCpuSeconds } from '../../src/io/cpu-clock.js';

const linux = threadCpuSeconds() !== null;

describe('startCpuClock', () => {
  it.skipIf(!linux)('counts the thread’s CPU time, not time spent waiting', () => {
    const clock = startCpuClock();
    expect(clock.cpu).toBe(true);
    // 400 ms asleep: wall time passes, CPU time (almost) does not
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
    const asleep = clock.elapsed();
    expect(asleep).toBeGreaterThanOrEqual(0);
    expect(asleep).toBeLessThan(0.2);
    // busy: the CPU clock advances
    let x = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 100) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    expect(clock.elapsed()).toBeGreaterThan(asleep);
  });
});
