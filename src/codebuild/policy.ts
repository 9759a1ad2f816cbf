/**
 * When the watcher looks at a build again, and how it backs off. Pure functions of time, so the
 * schedule can be read and tested apart from the loop (poller.ts).
 *
 * Polling policy
 * - A round asks for every item that is due, 100 ids a call, and fills the spare places of those
 *   calls with the items due soonest: a call costs the same for 1 id or 100, so 250 builds cost
 *   at most 3 calls a round, and rounds are never closer than `floorMs` (2 s) whatever is due.
 * - After each look an item is due again after
 *     interval = clamp(ramp × (now − anchor), fastMs, slowMs), ±10 % jitter
 *   The anchor is the build's start (ramp 1): polls at 0, 3, 6, 12, 24, 48, 96 s, then every
 *   60 s. The first seconds are when the phase and the log stream appear, which the Action shows.
 * - Near the end the anchor moves to the moment that became known (ramp 0.5: 3, 3, 3, 4.5, 7 s…):
 *   a poll saw a phase from POST_BUILD on (or a failed phase, which skips to the end), the
 *   caller's expected duration is reached, or the caller said so with expedite() (the Action
 *   does when the log tail shows the last phases). A build ending within ~6 s of that signal is
 *   seen ending within 3 s; a later end within about a third of the wait.
 * - Cost, one build, against the official action's poll every 30 s (2 calls a minute): 7 calls
 *   in the first 1.5 min, 1 a minute after, 3-4 at the end. A 10-minute build costs ~19 calls
 *   to its 21, each later minute half as much, and the end is seen in seconds instead of up to
 *   30 s. Many builds share calls.
 * - A throttled round (by error name) or a transient failure (5xx, timeout, dropped connection)
 *   delays every next round by min(backoffMaxMs, backoffBaseMs × 2^(n−1)) × [0.5, 1) at random,
 *   n = failed rounds in a row; subscribers only wait. Any other error fails the subscribers of
 *   that call with a typed error. Ids reported not found fail their own subscribers only.
 */

export interface PollPolicy {
  /** No two poll rounds closer than this, whatever is due. */
  floorMs: number;
  /** The shortest interval: right after a start, and near an end. */
  fastMs: number;
  /** The longest interval, for a build long past its start and not near its end. */
  slowMs: number;
  /** Interval as a fraction of the time since the build started. */
  startRamp: number;
  /** Interval as a fraction of the time since the end became near. */
  endRamp: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_POLL_POLICY: PollPolicy = {
  floorMs: 2_000,
  fastMs: 3_000,
  slowMs: 60_000,
  startRamp: 1,
  endRamp: 0.5,
  backoffBaseMs: 2_000,
  backoffMaxMs: 60_000,
};

export interface PollTiming {
  now: number;
  startedAt: number;
  /** When the end became near (a phase, expedite()); undefined while it is not. */
  nearEndAt: number | undefined;
  expectedDurationMs: number | undefined;
}

/**
 * The wait before the next look, and the near-end anchor (moved when the expected end is
 * reached). `random` in [0, 1) gives the ±10 % jitter that keeps many pollers apart.
 */
export function pollInterval(
  policy: PollPolicy,
  timing: PollTiming,
  random: number,
): { interval: number; nearEndAt: number | undefined } {
  const { now, startedAt, expectedDurationMs } = timing;
  let { nearEndAt } = timing;
  const expectedNearAt =
    expectedDurationMs === undefined
      ? undefined
      : startedAt + expectedDurationMs - 2 * policy.fastMs;
  if (expectedNearAt !== undefined && now >= expectedNearAt && (nearEndAt ?? -1) < expectedNearAt) {
    nearEndAt = now;
  }
  const elapsed = now - (nearEndAt ?? startedAt);
  const ramp = nearEndAt === undefined ? policy.startRamp : policy.endRamp;
  let interval = Math.min(policy.slowMs, Math.max(policy.fastMs, ramp * elapsed));
  interval *= 0.9 + 0.2 * random;
  if (expectedNearAt !== undefined && now < expectedNearAt) {
    interval = Math.min(interval, expectedNearAt - now);
  }
  return { interval: Math.max(interval, 0), nearEndAt };
}

/** The wait after `failedRounds` failed rounds in a row: exponential, capped, jittered in [0.5, 1). */
export function backoffDelay(policy: PollPolicy, failedRounds: number, random: number): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** (failedRounds - 1));
  return Math.max(policy.floorMs, ceiling * (0.5 + random / 2));
}
