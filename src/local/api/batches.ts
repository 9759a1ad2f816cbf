/**
 * Batch builds: StartBuildBatch reads the buildspec's `batch:` section (DOWNLOAD_BATCHSPEC), runs
 * each member as a build of its own through the build runner (IN_PROGRESS), and ends SUCCEEDED
 * when every member that may not fail succeeded, else FAILED (or STOPPED by StopBuildBatch).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { BuildStatus, StoredBatch, StoredBatchGroup, StoredPhase } from '../store/index.js';
import { BatchSpecError, readBatchSpec } from './batch-spec.js';
import { type BuildRequest, INITIATOR, newBuild, readBuildRequest } from './build-request.js';
import type { BuildRunner } from './build-runner.js';
import { withIdempotency } from './builds.js';
import { readSourceBuildspec, SourceBuildspecError } from './buildspec-source.js';
import { batchArn, type EndpointContext, idFromArnOrId } from './context.js';
import { ended, RESTARTED } from './phases.js';
import { renderBatch } from './render.js';
import { AwsError, type Input, InputReader } from './wire.js';

interface RunningBatch {
  stopped: boolean;
  controller: AbortController;
}

export class BatchRunner {
  private readonly running = new Map<string, RunningBatch>();
  private closed = false;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly builds: BuildRunner,
    private readonly workDir: string,
  ) {}

  start(batch: StoredBatch, request: BuildRequest): void {
    this.ctx.store.batches.put(batch);
    const state: RunningBatch = { stopped: false, controller: new AbortController() };
    this.running.set(batch.id, state);
    void this.run(batch, request, state)
      .catch((error: unknown) => {
        if (this.closed) return;
        this.ctx.logger.error({ batchId: batch.id, err: error }, 'a batch failed to run');
        const current = this.ctx.store.batches.get(batch.id) ?? batch;
        const reason = error instanceof Error ? error.message : String(error);
        this.finish(current, 'FAULT', { statusCode: 'LOCAL_EXECUTOR_ERROR', message: reason });
      })
      .finally(() => this.running.delete(batch.id));
  }

  /** Shutting down: no member starts any more, and nothing more is written. */
  close(): void {
    this.closed = true;
  }

  private persist(batch: StoredBatch): void {
    if (!this.closed) this.ctx.store.batches.put(batch);
  }

  stop(id: string): void {
    const state = this.running.get(id);
    if (!state) return;
    state.stopped = true;
    state.controller.abort(new Error('the batch was stopped by StopBuildBatch'));
    for (const group of this.ctx.store.batches.get(id)?.buildGroups ?? []) {
      if (group.buildId && group.buildStatus === 'IN_PROGRESS') this.builds.stop(group.buildId);
    }
  }

  /** After the builds are recovered: batches left running end FAILED, naming the restart. */
  recover(): void {
    for (const batch of this.ctx.store.batches.incomplete()) {
      if (this.running.has(batch.id)) continue;
      const buildGroups = batch.buildGroups.map((group) => {
        const build = group.buildId ? this.ctx.store.builds.get(group.buildId) : undefined;
        return build ? { ...group, buildStatus: build.buildStatus } : group;
      });
      this.finish({ ...batch, buildGroups }, 'FAILED', RESTARTED);
    }
  }

  private finish(
    batch: StoredBatch,
    status: BuildStatus,
    context?: { statusCode: string; message: string },
  ): StoredBatch {
    const now = this.ctx.clock.now();
    const phases: StoredPhase[] = batch.phases.map((phase, index, all) => {
      if (phase.endTime !== undefined) return phase;
      const last = index === all.length - 1;
      const closed = ended(phase, last && status !== 'SUCCEEDED' ? status : 'SUCCEEDED', now);
      return last && context ? { ...closed, contexts: [context] } : closed;
    });
    const done: StoredBatch = {
      ...batch,
      phases: [...phases, { phaseType: status, startTime: now }],
      buildBatchStatus: status,
      currentPhase: status,
      complete: true,
      endTime: now,
    };
    this.persist(done);
    return done;
  }

  private async run(
    initial: StoredBatch,
    request: BuildRequest,
    state: RunningBatch,
  ): Promise<void> {
    const { clock } = this.ctx;
    let batch = initial;
    const save = (next: StoredBatch) => {
      batch = next;
      this.persist(next);
    };
    const updateGroup = (identifier: string, change: Partial<StoredBatchGroup>) =>
      save({
        ...batch,
        buildGroups: batch.buildGroups.map((g) =>
          g.identifier === identifier ? { ...g, ...change } : g,
        ),
      });

    let text: string;
    let spec: ReturnType<typeof readBatchSpec>;
    try {
      text =
        'inline' in request.buildspec
          ? request.buildspec.inline
          : await readSourceBuildspec(
              request.executorSource,
              request.buildspec.path,
              join(this.workDir, `${batch.uuid}.batchspec`),
              state.controller.signal,
            );
      spec = readBatchSpec(text);
    } catch (error) {
      if (state.stopped) return void this.finish(batch, 'STOPPED');
      if (!(error instanceof SourceBuildspecError || error instanceof BatchSpecError)) throw error;
      this.finish(batch, 'FAILED', { statusCode: 'YAML_FILE_ERROR', message: error.message });
      return;
    }
    const now = clock.now();
    save({
      ...batch,
      phases: [
        ...batch.phases.map((p) => (p.endTime === undefined ? ended(p, 'SUCCEEDED', now) : p)),
        { phaseType: 'IN_PROGRESS', startTime: now },
      ],
      currentPhase: 'IN_PROGRESS',
      buildGroups: spec.members.map((m) => ({
        identifier: m.identifier,
        dependsOn: m.dependsOn,
        ignoreFailure: m.ignoreFailure,
      })),
    });

    const results = new Map<string, BuildStatus | 'SKIPPED'>();
    const inflight = new Map<string, Promise<void>>();
    const mayFail = new Map(spec.members.map((m) => [m.identifier, m.ignoreFailure]));
    const failedHard = () =>
      [...results].some(([id, status]) => status !== 'SUCCEEDED' && !mayFail.get(id));
    for (;;) {
      // Shutting down: start nothing more; the next start settles the batch as interrupted.
      if (this.closed) return;
      for (const member of spec.members) {
        if (results.has(member.identifier) || inflight.has(member.identifier)) continue;
        if (state.stopped || (spec.fastFail && failedHard())) {
          results.set(member.identifier, 'SKIPPED');
          continue;
        }
        const deps = member.dependsOn.map((d) => results.get(d));
        if (deps.some((d) => d === undefined)) continue;
        if (member.dependsOn.some((d) => results.get(d) !== 'SUCCEEDED' && !mayFail.get(d))) {
          results.set(member.identifier, 'SKIPPED');
          continue;
        }
        const { build, plan } = newBuild(this.ctx, request, {
          ...member.settings,
          buildspec: member.settings.buildspec ?? { inline: text },
          buildBatchArn: batch.arn,
          systemVariables: [
            {
              name: 'CODEBUILD_BATCH_BUILD_IDENTIFIER',
              value: member.identifier,
              type: 'PLAINTEXT',
            },
          ],
        });
        updateGroup(member.identifier, {
          buildId: build.id,
          requestedOn: build.startTime,
          buildStatus: 'IN_PROGRESS',
        });
        const done = this.builds.start(build, plan).then((finished) => {
          results.set(member.identifier, finished.buildStatus);
          inflight.delete(member.identifier);
          updateGroup(member.identifier, { buildStatus: finished.buildStatus });
          if (spec.fastFail && finished.buildStatus !== 'SUCCEEDED' && !member.ignoreFailure) {
            for (const group of batch.buildGroups) {
              if (group.buildId && group.buildStatus === 'IN_PROGRESS')
                this.builds.stop(group.buildId);
            }
          }
        });
        inflight.set(member.identifier, done);
      }
      if (inflight.size === 0) break;
      await Promise.race(inflight.values());
    }
    this.finish(batch, state.stopped ? 'STOPPED' : failedHard() ? 'FAILED' : 'SUCCEEDED');
  }
}

export interface BatchOperations extends EndpointContext {
  batches: BatchRunner;
}

export function startBuildBatch(ops: BatchOperations, input: Input): object {
  const batch = withIdempotency(
    ops,
    'batch',
    input,
    (id) => ops.store.batches.get(id),
    () => {
      const request = readBuildRequest(
        ops,
        new InputReader(input),
        'buildTimeoutInMinutesOverride',
      );
      const uuid = randomUUID();
      const id = `${request.project.name}:${uuid}`;
      const now = ops.clock.now();
      const batch: StoredBatch = {
        id,
        uuid,
        arn: batchArn(ops, id),
        buildBatchNumber: ops.store.batches.nextNumber(request.project.name),
        projectName: request.project.name,
        startTime: now,
        currentPhase: 'DOWNLOAD_BATCHSPEC',
        buildBatchStatus: 'IN_PROGRESS',
        complete: false,
        phases: [
          ended({ phaseType: 'SUBMITTED', startTime: now }, 'SUCCEEDED', now),
          { phaseType: 'DOWNLOAD_BATCHSPEC', startTime: now },
        ],
        ...(request.sourceVersion ? { sourceVersion: request.sourceVersion } : {}),
        source: request.source,
        environment: request.environment,
        serviceRole: request.project.serviceRole,
        buildTimeoutInMinutes: request.timeoutInMinutes,
        queuedTimeoutInMinutes: request.queuedTimeoutInMinutes,
        initiator: INITIATOR,
        buildGroups: [],
      };
      ops.batches.start(batch, request);
      return { id, result: batch };
    },
  );
  return { buildBatch: renderBatch(ops, batch) };
}

export function batchGetBuildBatches(ops: EndpointContext, input: Input): object {
  const ids = new InputReader(input).stringList('ids', 1, 100);
  const buildBatches: object[] = [];
  const buildBatchesNotFound: string[] = [];
  for (const requested of new Set(ids)) {
    const batch = ops.store.batches.get(idFromArnOrId(requested, 'build-batch'));
    if (batch) buildBatches.push(renderBatch(ops, batch));
    else buildBatchesNotFound.push(requested);
  }
  return { buildBatches, buildBatchesNotFound };
}

export function stopBuildBatch(ops: BatchOperations, input: Input): object {
  const requested = new InputReader(input).string('id');
  const batch = ops.store.batches.get(idFromArnOrId(requested, 'build-batch'));
  if (!batch)
    throw new AwsError('ResourceNotFoundException', `Build batch cannot be found: ${requested}`);
  if (!batch.complete) ops.batches.stop(batch.id);
  return { buildBatch: renderBatch(ops, ops.store.batches.get(batch.id) ?? batch) };
}
