/**
 * The Action's promise on CodeBuild API cost, enforced where the calls are made: by any moment t
 * after the build started, it has made no more status calls (BatchGetBuilds,
 * BatchGetBuildBatches) than aws-actions/aws-codebuild-run-build makes for a build that ends
 * then. That action looks at once, every 30 s, and twice more after the end while it drains the
 * log: 3 + floor(t / 30 s). Polls the watcher wants beyond that wait for the next allowance.
 *
 * Within the budget the Action spends its calls where they tell something: rarely while the log
 * shows the build busy, quickly when the log shows the last phases (see follow.ts).
 */
import {
  BatchGetBuildBatchesCommand,
  BatchGetBuildsCommand,
  type CodeBuildClient,
  StartBuildBatchCommand,
  StartBuildCommand,
  StopBuildBatchCommand,
  StopBuildCommand,
} from '@aws-sdk/client-codebuild';
import type { Clock } from '../src/deps.js';

export interface BudgetOptions {
  /** Calls allowed at once. */
  initial: number;
  /** One more call allowed per this many milliseconds. */
  everyMs: number;
}

/** The official action's cadence: a look at the start, one every 30 s, two after the end. */
export const OFFICIAL_CADENCE: BudgetOptions = { initial: 3, everyMs: 30_000 };

export class CallBudget {
  #used = 0;

  constructor(
    private readonly clock: Clock,
    private readonly startedAt: number,
    private readonly options: BudgetOptions = OFFICIAL_CADENCE,
  ) {}

  get used(): number {
    return this.#used;
  }

  /** Calls allowed in total by `now`. */
  allowance(now: number): number {
    const elapsed = Math.max(0, now - this.startedAt);
    return this.options.initial + Math.floor(elapsed / this.options.everyMs);
  }

  /** Resolves when a call may be made (and counts it); rejects when `signal` aborts first. */
  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.clock.now();
      if (this.#used < this.allowance(now)) {
        this.#used++;
        return;
      }
      const elapsed = now - this.startedAt;
      const next =
        this.startedAt + (Math.floor(elapsed / this.options.everyMs) + 1) * this.options.everyMs;
      await this.clock.sleep(Math.max(1, next - now), signal);
    }
  }
}

/** API calls made through a client, by operation (`StartBuild`, `BatchGetBuilds`, …). */
export type CallCounts = Map<string, number>;

// By class, not by constructor.name: a bundler may rename classes.
const OPERATIONS: Array<[new (...args: never[]) => object, string]> = [
  [StartBuildCommand, 'StartBuild'],
  [StartBuildBatchCommand, 'StartBuildBatch'],
  [BatchGetBuildsCommand, 'BatchGetBuilds'],
  [BatchGetBuildBatchesCommand, 'BatchGetBuildBatches'],
  [StopBuildCommand, 'StopBuild'],
  [StopBuildBatchCommand, 'StopBuildBatch'],
];

function operationOf(command: object): string {
  return OPERATIONS.find(([type]) => command instanceof type)?.[1] ?? 'other';
}

/**
 * The same client, with status calls paced by `budget` (null: not paced) and every call counted
 * in `counts`.
 * Other calls (StartBuild, StopBuild) are never held back.
 */
export function pacedClient(
  client: CodeBuildClient,
  budget: CallBudget | null,
  counts: CallCounts,
): CodeBuildClient {
  const send = async (command: object, options?: { abortSignal?: AbortSignal }) => {
    if (
      budget &&
      (command instanceof BatchGetBuildsCommand || command instanceof BatchGetBuildBatchesCommand)
    ) {
      await budget.take(options?.abortSignal as AbortSignal | undefined);
    }
    const operation = operationOf(command);
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    return (client.send as (c: object, o?: object) => Promise<unknown>)(command, options);
  };
  return new Proxy(client, {
    get: (target, property, receiver) =>
      property === 'send' ? send : Reflect.get(target, property, receiver),
  });
}
