/**
 * Watching builds to their end: BuildWatcher (BatchGetBuilds) and BatchWatcher
 * (BatchGetBuildBatches), each one polling loop for everything in flight. The polling policy,
 * its cost and its back-off are described in poller.ts.
 */
import {
  BatchGetBuildBatchesCommand,
  BatchGetBuildsCommand,
  type Build,
  type BuildBatch,
  type CodeBuildClient,
} from '@aws-sdk/client-codebuild';
import type { Clock, Logger } from '../deps.js';
import type { PollPolicy } from './policy.js';
import { BatchPoller, type PollSource, type WatchOptions } from './poller.js';

export type { PollPolicy } from './policy.js';
export { DEFAULT_POLL_POLICY } from './policy.js';
export type { WatchOptions } from './poller.js';

export interface WatcherDeps {
  client: CodeBuildClient;
  clock: Clock;
  logger: Logger;
  random?: () => number;
  /** Ids per call, 1-100 (the API's maximum, and the default). */
  maxBatch?: number;
  policy?: Partial<PollPolicy>;
}

/** Phases after which only a few seconds of work remain. */
const NEAR_END_PHASES = new Set(['POST_BUILD', 'UPLOAD_ARTIFACTS', 'FINALIZING', 'COMPLETED']);
const UNSUCCESSFUL = new Set(['FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED']);

const buildSource = (client: CodeBuildClient): PollSource<Build> => ({
  noun: 'build',
  operation: 'BatchGetBuilds',
  async fetch(ids, signal) {
    const out = await client.send(new BatchGetBuildsCommand({ ids }), { abortSignal: signal });
    return { found: out.builds ?? [], notFound: out.buildsNotFound ?? [] };
  },
  idOf: (build) => build.id,
  isFinal: (build) => build.buildStatus !== undefined && build.buildStatus !== 'IN_PROGRESS',
  nearEndKey(build) {
    const phase = build.currentPhase ?? '';
    if (NEAR_END_PHASES.has(phase)) return phase;
    // A failure before BUILD skips straight to FINALIZING.
    const failed = build.phases?.some((p) => p.phaseStatus && UNSUCCESSFUL.has(p.phaseStatus));
    return failed ? `failed:${phase}` : undefined;
  },
  changeKey: (build) =>
    [
      build.buildStatus,
      build.currentPhase,
      (build.phases ?? []).map((p) => `${p.phaseType}=${p.phaseStatus ?? ''}`).join(','),
      build.logs?.streamName ?? '',
    ].join('|'),
  startedAt: (build) => build.startTime?.getTime(),
});

const batchSource = (client: CodeBuildClient): PollSource<BuildBatch> => ({
  noun: 'build batch',
  operation: 'BatchGetBuildBatches',
  async fetch(ids, signal) {
    const out = await client.send(new BatchGetBuildBatchesCommand({ ids }), {
      abortSignal: signal,
    });
    return { found: out.buildBatches ?? [], notFound: out.buildBatchesNotFound ?? [] };
  },
  idOf: (batch) => batch.id,
  isFinal: (batch) =>
    batch.buildBatchStatus !== undefined && batch.buildBatchStatus !== 'IN_PROGRESS',
  nearEndKey(batch) {
    if (batch.currentPhase === 'COMBINE_ARTIFACTS') return batch.currentPhase;
    const groups = batch.buildGroups ?? [];
    const running = groups.some((g) => {
      const status = g.currentBuildSummary?.buildStatus;
      return status === undefined || status === 'IN_PROGRESS';
    });
    return groups.length > 0 && !running ? 'all-builds-done' : undefined;
  },
  changeKey: (batch) =>
    [
      batch.buildBatchStatus,
      batch.currentPhase,
      (batch.buildGroups ?? [])
        .map((g) => `${g.identifier}=${g.currentBuildSummary?.buildStatus ?? ''}`)
        .join(','),
    ].join('|'),
  startedAt: (batch) => batch.startTime?.getTime(),
});

export class BuildWatcher extends BatchPoller<Build> {
  constructor(deps: WatcherDeps) {
    super(deps, buildSource(deps.client));
  }

  /**
   * Resolves with the final Build (status not IN_PROGRESS); onUpdate fires on every change of
   * status/phase. Rejects with BuildNotFoundError when CodeBuild reports it in buildsNotFound,
   * with the signal's reason if aborted.
   */
  override watch(buildId: string, options?: WatchOptions<Build>): Promise<Build> {
    return super.watch(buildId, options);
  }
}

/** The same for `batch:` builds: resolves with the final BuildBatch. */
export class BatchWatcher extends BatchPoller<BuildBatch> {
  constructor(deps: WatcherDeps) {
    super(deps, batchSource(deps.client));
  }
}
