/**
 * One build of a buildspec 0.2 on this machine, with CodeBuild's phases and transitions:
 * SUBMITTED, QUEUED, PROVISIONING, DOWNLOAD_SOURCE, INSTALL, PRE_BUILD, BUILD, POST_BUILD,
 * UPLOAD_ARTIFACTS, FINALIZING, COMPLETED. A failure before BUILD skips to FINALIZING; a BUILD or
 * POST_BUILD failure still runs what follows up to UPLOAD_ARTIFACTS; `on-failure` ABORT skips to
 * FINALIZING, CONTINUE goes on, RETRY runs the phase again. Phases the buildspec leaves out
 * succeed at once; phases skipped by a transition do not appear, as in CodeBuild.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildspecPhase, PhaseName } from '../../buildspec/index.js';
import { uploadArtifacts } from './artifacts.js';
import { runCommandPhase } from './command-phase.js';
import { type PreparedBuild, runDownloadPhase } from './download-phase.js';
import { BuildHalt } from './halt.js';
import { agentLines } from './log-format.js';
import { SecretMasker } from './mask.js';
import { EMPTY_CONTEXT, PhaseTracker, type PhaseType } from './phases.js';
import { ShellSession } from './shell.js';
import type { BuildStatus, ExecuteOptions, ExecuteResult, PhaseContext } from './types.js';

const COMMAND_PHASES: Array<[PhaseName, PhaseType]> = [
  ['install', 'INSTALL'],
  ['pre_build', 'PRE_BUILD'],
  ['build', 'BUILD'],
  ['post_build', 'POST_BUILD'],
];

export async function executeBuild(options: ExecuteOptions): Promise<ExecuteResult> {
  return new BuildRun(options).run();
}

class BuildRun {
  private readonly masker = new SecretMasker();
  private readonly tracker: PhaseTracker;
  private readonly halt: BuildHalt;
  private readonly srcDir: string;
  private readonly controlDir: string;
  private readonly artifactsDir: string;
  private shell: ShellSession | null = null;
  private faulted = false;

  constructor(private readonly options: ExecuteOptions) {
    this.tracker = new PhaseTracker(options.clock, options.onPhase);
    this.halt = new BuildHalt(options.signal, options.timeoutMs);
    this.srcDir = join(options.workRoot, 'src');
    this.controlDir = join(options.workRoot, 'control');
    this.artifactsDir = join(options.workRoot, 'artifacts');
  }

  async run(): Promise<ExecuteResult> {
    const startTime = this.options.clock.now();
    let exportedVariables: ExecuteResult['exportedVariables'] = [];
    let artifactsDir: string | null = null;
    try {
      this.tracker.enter('SUBMITTED', startTime);
      this.tracker.finish('SUCCEEDED');
      this.tracker.enter('QUEUED');
      this.tracker.finish('SUCCEEDED');
      const build = await this.provisionAndDownload(startTime);
      if (build) {
        const uploadRuns = await this.commandPhases(build);
        const exported = this.halt.reason ? [] : await this.exportedVariables(build);
        // Values read while the build was being stopped are not the build's final values.
        if (!this.halt.reason) exportedVariables = exported;
        if (uploadRuns && !this.halt.reason) artifactsDir = await this.uploadPhase(build);
      }
    } catch (error) {
      this.fault(error);
    }
    await this.finalize();
    this.halt.dispose();
    const buildStatus: BuildStatus =
      this.halt.reason ?? (this.faulted ? 'FAULT' : this.tracker.failed() ? 'FAILED' : 'SUCCEEDED');
    return { buildStatus, phases: this.tracker.snapshot(), exportedVariables, artifactsDir };
  }

  private async provisionAndDownload(startTime: number): Promise<PreparedBuild | null> {
    this.tracker.enter('PROVISIONING');
    const { image } = this.options;
    this.log(
      `Running on the local executor: commands run on this host${image ? `; image ${image} is only reported` : ''}`,
    );
    await mkdir(this.srcDir, { recursive: true });
    await mkdir(this.controlDir, { recursive: true, mode: 0o700 });
    if (!this.options.baseEnvironment)
      await mkdir(join(this.options.workRoot, 'home'), { recursive: true });
    if (this.halted()) return null;
    this.tracker.finish('SUCCEEDED', [EMPTY_CONTEXT]);

    this.tracker.enter('DOWNLOAD_SOURCE');
    const outcome = await runDownloadPhase(this.options, {
      srcDir: this.srcDir,
      startTime,
      masker: this.masker,
      halt: this.halt.signal,
      log: (message) => this.log(message),
    });
    if (!outcome.ok) {
      if (outcome.halted) this.halted();
      else this.complete('FAILED', outcome.context);
      return null;
    }
    if (this.halted()) return null;
    this.complete('SUCCEEDED');
    this.shell = new ShellSession({
      shell: outcome.build.spec.env?.shell ?? 'bash',
      cwd: this.srcDir,
      env: outcome.build.env,
      controlDir: this.controlDir,
      onOutput: (line) => this.options.onLog(this.masker.mask(line)),
    });
    return outcome.build;
  }

  /** INSTALL to POST_BUILD; says whether UPLOAD_ARTIFACTS comes next. */
  private async commandPhases(build: PreparedBuild): Promise<boolean> {
    for (const [name, phaseType] of COMMAND_PHASES) {
      this.tracker.enter(phaseType);
      this.log(`Entering phase ${phaseType}`);
      const phase = build.spec.phases?.[name];
      if (phase) this.logNotices(phase);
      const outcome = phase
        ? await runCommandPhase(phaseType, phase, build.onFailure[name], {
            shell: this.shell!,
            halt: this.halt.signal,
            log: (message) => this.log(message),
            mask: (text) => this.masker.mask(text),
          })
        : ({ status: 'SUCCEEDED' } as const);
      if (outcome.status === 'HALTED' || this.halted()) {
        this.halted();
        return false;
      }
      if (outcome.status === 'SUCCEEDED') {
        this.complete('SUCCEEDED');
        continue;
      }
      this.complete('FAILED', outcome.context);
      // CodeBuild's flag for commands that follow: the build is no longer succeeding.
      await this.shell!.run('export CODEBUILD_BUILD_SUCCEEDING=0', this.halt.signal);
      const onFailure = build.onFailure[name].kind;
      if (onFailure === 'ABORT') return false;
      if (onFailure === 'CONTINUE') continue;
      if (name === 'install' || name === 'pre_build') return false;
    }
    return true;
  }

  private async exportedVariables(
    build: PreparedBuild,
  ): Promise<ExecuteResult['exportedVariables']> {
    const names = build.spec.env?.['exported-variables'] ?? [];
    if (names.length === 0) return [];
    const values = await this.shell!.readVariables(names, this.halt.signal);
    return names.map((name) => ({ name, value: values.get(name) ?? '' }));
  }

  private async uploadPhase(build: PreparedBuild): Promise<string | null> {
    this.tracker.enter('UPLOAD_ARTIFACTS');
    if (!build.artifacts) {
      this.complete('SUCCEEDED');
      return null;
    }
    const outcome = await uploadArtifacts(build.artifacts, this.srcDir, this.artifactsDir, (m) =>
      this.log(m),
    );
    if (this.halted()) return null;
    if (!outcome.ok) {
      this.complete('FAILED', outcome.context);
      return null;
    }
    this.complete('SUCCEEDED');
    return this.artifactsDir;
  }

  private async finalize(): Promise<void> {
    this.tracker.enter('FINALIZING');
    try {
      await this.shell?.close();
      // The saved shell state holds resolved secrets: it must not outlive the build.
      await rm(this.controlDir, { recursive: true, force: true });
      this.tracker.finish('SUCCEEDED', [EMPTY_CONTEXT]);
    } catch (error) {
      this.fault(error);
    }
    this.tracker.complete();
  }

  /** When the build was stopped or timed out, ends the running phase that way and says so. */
  private halted(): boolean {
    const reason = this.halt.reason;
    if (!reason) return false;
    if (this.tracker.current) this.complete(reason, this.halt.context());
    return true;
  }

  private complete(status: BuildStatus, context: PhaseContext = EMPTY_CONTEXT): void {
    const record = this.tracker.finish(status, [context]);
    if (['SUBMITTED', 'QUEUED', 'PROVISIONING', 'FINALIZING'].includes(record.phaseType)) return;
    this.log(`Phase complete: ${record.phaseType} State: ${status}`);
    this.log(`Phase context status code: ${context.statusCode} Message: ${context.message}`);
  }

  /** A failure of the executor itself, not of the build's commands: the phase FAULTs. */
  private fault(error: unknown): void {
    this.faulted = true;
    const message = error instanceof Error ? error.message : String(error);
    this.log(`Internal error: ${message}`);
    if (this.tracker.current) {
      this.complete('FAULT', { statusCode: 'INTERNAL_ERROR', message: this.masker.mask(message) });
    }
  }

  private logNotices(phase: BuildspecPhase): void {
    const runtimes = Object.entries(phase['runtime-versions'] ?? {});
    if (runtimes.length > 0) {
      const list = runtimes.map(([name, version]) => `${name} ${version}`).join(', ');
      this.log(
        `runtime-versions accepted, not installed locally (the host's tools are used): ${list}`,
      );
    }
    if (phase['run-as']) {
      this.log(
        `run-as ${phase['run-as']} is not applied locally: commands run as the current user`,
      );
    }
  }

  private log(message: string): void {
    for (const line of agentLines(this.options.clock.now(), this.masker.mask(message))) {
      this.options.onLog(line);
    }
  }
}
