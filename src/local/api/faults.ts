/**
 * Faults a test asks for, off unless set: `<Operation>=<kind>[:<n>]`, Operation `*` for all.
 *   throttle:N        the next N calls answer ThrottlingException "Rate exceeded"
 *   throttle-every:K  every K-th call is throttled
 *   account-limit[:N] StartBuild/StartBuildBatch answer AccountLimitExceededException (the next
 *                     N calls, or every call without N)
 *   server-error:N    the next N calls answer HTTP 500 InternalFailure
 *   latency:MS        every call waits MS milliseconds before it is handled
 */
import type { Clock } from '../../deps.js';
import { AwsError } from './wire.js';

export type FaultRule =
  | { operation: string; kind: 'throttle'; remaining: number }
  | { operation: string; kind: 'throttle-every'; every: number; calls: number }
  | { operation: string; kind: 'account-limit'; remaining: number | null }
  | { operation: string; kind: 'server-error'; remaining: number }
  | { operation: string; kind: 'latency'; ms: number };

export class FaultSyntaxError extends Error {}

const KINDS = 'throttle:N, throttle-every:K, account-limit[:N], server-error:N or latency:MS';
const START_OPERATIONS = new Set(['StartBuild', 'StartBuildBatch', '*']);

export function parseFault(text: string): FaultRule {
  const match = /^([A-Za-z*]+)=([a-z-]+)(?::(\d+))?$/.exec(text.trim());
  if (!match) {
    throw new FaultSyntaxError(
      `fault "${text}" is not <Operation>=<kind>[:<n>], e.g. StartBuild=throttle:2; kinds: ${KINDS}`,
    );
  }
  const [, operation = '', kind, count] = match;
  const n = count === undefined ? undefined : Number(count);
  const needs = (what: string) => {
    if (n === undefined || n < 1) {
      throw new FaultSyntaxError(
        `fault "${text}": ${kind} needs ${what}, e.g. ${operation}=${kind}:2`,
      );
    }
    return n;
  };
  switch (kind) {
    case 'throttle':
      return { operation, kind, remaining: needs('a count of calls') };
    case 'throttle-every':
      return { operation, kind, every: needs('a period K (every K-th call)'), calls: 0 };
    case 'server-error':
      return { operation, kind, remaining: needs('a count of calls') };
    case 'latency':
      if (n === undefined)
        throw new FaultSyntaxError(
          `fault "${text}": latency needs milliseconds, e.g. ${operation}=latency:200`,
        );
      return { operation, kind, ms: n };
    case 'account-limit':
      if (!START_OPERATIONS.has(operation)) {
        throw new FaultSyntaxError(
          `fault "${text}": account-limit applies to StartBuild or StartBuildBatch`,
        );
      }
      return { operation, kind, remaining: n ?? null };
    default:
      throw new FaultSyntaxError(`fault "${text}": unknown kind "${kind}"; kinds: ${KINDS}`);
  }
}

export class Faults {
  private rules: FaultRule[] = [];

  add(rules: FaultRule[]): void {
    this.rules.push(...rules);
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.map((rule) => ({ ...rule }));
  }

  /** Waits out any latency, then the error this call must answer, if any. */
  async apply(operation: string, clock: Clock): Promise<AwsError | undefined> {
    const matching = this.rules.filter((r) => r.operation === operation || r.operation === '*');
    const delay = matching.reduce((sum, r) => sum + (r.kind === 'latency' ? r.ms : 0), 0);
    if (delay > 0) await clock.sleep(delay);
    for (const rule of matching) {
      switch (rule.kind) {
        case 'throttle':
          if (rule.remaining > 0) {
            rule.remaining--;
            return new AwsError('ThrottlingException', 'Rate exceeded');
          }
          break;
        case 'throttle-every':
          rule.calls++;
          if (rule.calls % rule.every === 0)
            return new AwsError('ThrottlingException', 'Rate exceeded');
          break;
        case 'server-error':
          if (rule.remaining > 0) {
            rule.remaining--;
            return new AwsError(
              'InternalFailure',
              'The request processing has failed because of an unknown error.',
              500,
            );
          }
          break;
        case 'account-limit':
          if (!operation.startsWith('Start')) break;
          if (rule.remaining === null || rule.remaining > 0) {
            if (rule.remaining !== null) rule.remaining--;
            return new AwsError(
              'AccountLimitExceededException',
              'Cannot have more than 0 builds in queue for the account',
            );
          }
          break;
        case 'latency':
          break;
      }
    }
    return undefined;
  }
}
