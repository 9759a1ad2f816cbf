import { describe, expect, it } from 'vitest';
import { CallBudget } from '../../action/call-budget.js';
import { fakeClock } from '../support/fake-clock.js';

describe('CallBudget', () => {
  it('allows what the official action makes by then: 3, then one more every 30 s', () => {
    const clock = fakeClock();
    const budget = new CallBudget(clock, clock.now());
    expect(budget.allowance(clock.now())).toBe(3);
    expect(budget.allowance(clock.now() + 29_999)).toBe(3);
    expect(budget.allowance(clock.now() + 30_000)).toBe(4);
    expect(budget.allowance(clock.now() + 10 * 60_000)).toBe(23);
  });

  it('lets calls through at once within the allowance, then waits for the next one', async () => {
    const clock = fakeClock();
    const start = clock.now();
    const budget = new CallBudget(clock, start);
    for (let i = 0; i < 3; i++) await budget.take();
    expect(clock.now()).toBe(start);
    clock.sleeps.length = 0;
    await budget.take();
    expect(clock.now()).toBe(start + 30_000);
    await budget.take();
    expect(clock.now()).toBe(start + 60_000);
    expect(budget.used).toBe(5);
  });

  it('never counts an aborted wait as a call', async () => {
    const clock = fakeClock();
    const budget = new CallBudget(clock, clock.now(), { initial: 0, everyMs: 30_000 });
    const abort = new AbortController();
    abort.abort(new Error('cancelled'));
    await expect(budget.take(abort.signal)).rejects.toThrow('cancelled');
    expect(budget.used).toBe(0);
  });
});
