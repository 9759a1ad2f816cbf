/**
 * Why a build ends early: StopBuild (the caller's signal) or the build timeout, whichever comes
 * first. The timeout is real time: the build's processes run in real time whatever the clock.
 */
import type { PhaseContext } from './types.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

export type HaltReason = 'STOPPED' | 'TIMED_OUT';

export class BuildHalt {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onStop = () => this.trigger('STOPPED');
  reason: HaltReason | null = null;

  constructor(
    private readonly stop: AbortSignal,
    private readonly timeoutMs: number,
  ) {
    // setTimeout fires at once past 2^31-1 ms (24.8 days); CodeBuild's longest timeout is 36 h.
    this.timer = setTimeout(
      () => this.trigger('TIMED_OUT'),
      Math.min(Math.max(0, timeoutMs), MAX_TIMER_MS),
    );
    if (stop.aborted) this.trigger('STOPPED');
    else stop.addEventListener('abort', this.onStop, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The context the phase that was running reports. */
  context(): PhaseContext {
    return this.reason === 'TIMED_OUT'
      ? {
          statusCode: 'BUILD_TIMED_OUT',
          message: `Build has timed out after ${describeDuration(this.timeoutMs)}`,
        }
      : { statusCode: 'BUILD_STOPPED', message: 'Build was stopped' };
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.stop.removeEventListener('abort', this.onStop);
  }

  private trigger(reason: HaltReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller.abort(reason);
  }
}

function describeDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute(s)`;
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} second(s)`;
}
