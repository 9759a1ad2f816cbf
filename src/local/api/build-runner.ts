/**
 * Runs accepted builds through the executor in the background and keeps the store current: every
 * phase transition and log line is written as it happens, so BatchGetBuilds and GetLogEvents see
 * a build progress in real time, and a restart finds what was running.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { agentLines } from '../executor/log-format.js';
import { SecretMasker } from '../executor/mask.js';
import type { BuildSource, ExecuteOptions, ExecuteResult } from '../executor/types.js';
import type { EnvironmentVariable, PhaseContext, StoredBuild } from '../store/index.js';
import {
  type BuildspecChoice,
  readSourceBuildspec,
  SourceBuildspecError,
} from './buildspec-source.js';
import type { EndpointContext } from './context.js';
import {
  dequeued,
  ended,
  interrupted,
  mergePhases,
  pastProvisioning,
  RESTARTED,
  SHUT_DOWN,
  withCompleted,
} from './phases.js';

export type ExecuteBuild = (options: ExecuteOptions) => Promise<ExecuteResult>;

export interface RunnerOptions {
  executeBuild: ExecuteBuild;
  /** Each build works in `<workDir>/<uuid>` (its source and artifacts stay there). */
  workDir: string;
  baseEnvironment?: Record<string, string>;
  resolveSecret(reference: string): Promise<string>;
  resolveParameter(name: string): Promise<string>;
}

export interface BuildPlan {
  buildspec: BuildspecChoice;
  source: BuildSource;
  environmentVariables: EnvironmentVariable[];
}

interface Running {
  controller: AbortController;
  reason?: 'stop' | 'shutdown';
  done: Promise<StoredBuild>;
}

export class BuildRunner {
  private readonly running = new Map<string, Running>();
  private closed = false;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly options: RunnerOptions,
  ) {}

  /** Saves the accepted build and runs it; the promise settles with the finished build. */
  start(build: StoredBuild, plan: BuildPlan): Promise<StoredBuild> {
    this.ctx.store.builds.put(build);
    const entry = { controller: new AbortController() } as Running;
    entry.done = this.run(build, plan, entry)
      .catch((error: unknown) => (this.closed ? build : this.fault(build.id, error)))
      .finally(() => this.running.delete(build.id));
    this.running.set(build.id, entry);
    return entry.done;
  }

  /** StopBuild: the executor ends the build as STOPPED. False when it is not running. */
  stop(id: string): boolean {
    const entry = this.running.get(id);
    if (!entry) return false;
    if (!entry.reason) {
      entry.reason = 'stop';
      entry.controller.abort(new Error('the build was stopped by StopBuild'));
    }
    return true;
  }

  /** Ends every running build (recorded FAILED, naming the shutdown) within `graceMs`. */
  async close(graceMs: number): Promise<void> {
    for (const entry of this.running.values()) {
      entry.reason = 'shutdown';
      entry.controller.abort(new Error('the local CodeBuild is shutting down'));
    }
    const all = Promise.allSettled([...this.running.values()].map((entry) => entry.done));
    const grace = new AbortController();
    await Promise.race([all, this.ctx.clock.sleep(graceMs, grace.signal).catch(() => {})]);
    grace.abort();
    this.closed = true;
  }

  /** Builds a previous process left running: FAILED, with the reason on the phase they were in. */
  recover(): number {
    const left = this.ctx.store.builds.incomplete().filter((b) => !this.running.has(b.id));
    for (const build of left) this.interrupt(build, RESTARTED);
    return left.length;
  }

  private interrupt(
    build: StoredBuild,
    context: PhaseContext,
    status: 'FAILED' | 'STOPPED' | 'FAULT' = 'FAILED',
  ): StoredBuild {
    const now = this.ctx.clock.now();
    if (build.logs.started) this.appendContextLines(build, context, now);
    const result = interrupted(build, context, now, status);
    if (!this.closed) this.ctx.store.builds.put(result);
    return result;
  }

  private appendContextLines(build: StoredBuild, context: PhaseContext, now: number): void {
    if (this.closed) return;
    const message = `Phase context status code: ${context.statusCode} Message: ${context.message}`;
    for (const line of agentLines(now, message)) {
      this.ctx.store.logs.append(build.logs.groupName, build.logs.streamName, now, line);
    }
  }

  private async run(accepted: StoredBuild, plan: BuildPlan, entry: Running): Promise<StoredBuild> {
    const { store, clock } = this.ctx;
    const signal = entry.controller.signal;
    let build = accepted;
    const save = (next: StoredBuild) => {
      build = next;
      if (!this.closed) store.builds.put(next);
    };
    const masker = new SecretMasker();
    const { groupName, streamName } = build.logs;
    const workRoot = join(this.options.workDir, build.uuid);

    let buildspec = '';
    try {
      buildspec =
        'inline' in plan.buildspec
          ? plan.buildspec.inline
          : await readSourceBuildspec(
              plan.source,
              plan.buildspec.path,
              `${workRoot}.buildspec`,
              signal,
            );
    } catch (error) {
      if (!signal.aborted && !(error instanceof SourceBuildspecError)) throw error;
      if (!signal.aborted) return this.unreadableBuildspec(build, (error as Error).message);
    }
    if (signal.aborted) {
      return entry.reason === 'shutdown'
        ? this.interrupt(build, SHUT_DOWN)
        : this.interrupt(build, STOPPED_QUEUED, 'STOPPED');
    }
    const own = dequeued(build.phases, clock.now());
    save({ ...build, phases: own, currentPhase: 'PROVISIONING' });
    await mkdir(workRoot, { recursive: true });

    const result = await this.options.executeBuild({
      buildId: build.id,
      buildArn: build.arn,
      buildNumber: build.buildNumber,
      projectName: build.projectName,
      region: this.ctx.region,
      accountId: this.ctx.accountId,
      initiator: build.initiator,
      image: build.environment.image,
      buildspec,
      source: plan.source,
      environmentVariables: plan.environmentVariables,
      resolveSecret: async (reference) => {
        const value = await this.options.resolveSecret(reference);
        masker.add(value);
        return value;
      },
      resolveParameter: async (name) => {
        const value = await this.options.resolveParameter(name);
        masker.add(value);
        return value;
      },
      workRoot,
      timeoutMs: build.timeoutInMinutes * 60_000,
      signal,
      clock,
      onLog: (line) => {
        if (!this.closed) store.logs.append(groupName, streamName, clock.now(), masker.mask(line));
      },
      onPhase: (phases, currentPhase) => {
        if (build.buildComplete) return;
        const merged = mergePhases(own, phases);
        const started = build.logs.started || pastProvisioning(merged, currentPhase);
        if (started && !build.logs.started && !this.closed) {
          store.logs.createStream(groupName, streamName, clock.now());
        }
        save({ ...build, phases: merged, currentPhase, logs: { ...build.logs, started } });
      },
      ...(this.options.baseEnvironment ? { baseEnvironment: this.options.baseEnvironment } : {}),
    });

    const now = clock.now();
    if (!build.logs.started && !this.closed) store.logs.createStream(groupName, streamName, now);
    const finished: StoredBuild = {
      ...build,
      phases: withCompleted(mergePhases(own, result.phases), now),
      buildStatus: result.buildStatus,
      currentPhase: 'COMPLETED',
      buildComplete: true,
      endTime: now,
      logs: { ...build.logs, started: true },
      exportedEnvironmentVariables: result.exportedVariables,
      ...(result.artifactsDir ? { artifactsLocation: result.artifactsDir } : {}),
    };
    if (entry.reason === 'shutdown') return this.interrupt(finished, SHUT_DOWN);
    save(finished);
    return build;
  }

  /** An error of the endpoint or the executor itself, not of the build: FAULT, with the reason. */
  private fault(id: string, error: unknown): StoredBuild {
    const { store, logger } = this.ctx;
    logger.error({ buildId: id, err: error }, 'the local CodeBuild failed to run a build');
    const build = store.builds.get(id);
    if (!build) throw error;
    if (build.buildComplete) return build;
    const reason = error instanceof Error ? error.message : String(error);
    const context = {
      statusCode: 'LOCAL_EXECUTOR_ERROR',
      message: `the local executor failed: ${reason}`,
    };
    return this.interrupt(build, context, 'FAULT');
  }

  /** The buildspec named by path could not be read: DOWNLOAD_SOURCE fails with YAML_FILE_ERROR. */
  private unreadableBuildspec(build: StoredBuild, reason: string): StoredBuild {
    const { store, clock } = this.ctx;
    if (this.closed) return build;
    const now = clock.now();
    const context = { statusCode: 'YAML_FILE_ERROR', message: reason };
    const phases = [
      ...dequeued(build.phases, now),
      ended({ phaseType: 'PROVISIONING', startTime: now }, 'SUCCEEDED', now),
      {
        ...ended({ phaseType: 'DOWNLOAD_SOURCE', startTime: now }, 'FAILED', now),
        contexts: [context],
      },
      ended({ phaseType: 'FINALIZING', startTime: now }, 'SUCCEEDED', now),
    ];
    store.logs.createStream(build.logs.groupName, build.logs.streamName, now);
    this.appendContextLines(build, context, now);
    const failed: StoredBuild = {
      ...build,
      phases: withCompleted(phases, now),
      buildStatus: 'FAILED',
      currentPhase: 'COMPLETED',
      buildComplete: true,
      endTime: now,
      logs: { ...build.logs, started: true },
    };
    store.builds.put(failed);
    return failed;
  }
}

const STOPPED_QUEUED: PhaseContext = {
  statusCode: 'BUILD_STOPPED',
  message: 'the build was stopped before it left the queue',
};
