/** A clock whose sleeps return at once and advance time, recording what was asked for. */
import type { Clock } from '../../src/deps.js';

export interface FakeClock extends Clock {
  sleeps: number[];
}

export function fakeClock(start = Date.UTC(2026, 0, 1)): FakeClock {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      sleeps.push(ms);
      now += ms;
    },
  };
}
