/**
 * The local CodeBuild dies (kill -9) while a build runs and starts again on the same data
 * directory: the running build is FAILED with the reason, everything else is still there.
 */
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetBuildsCommand,
  BatchGetProjectsCommand,
  type Build,
  StartBuildCommand,
} from '@aws-sdk/client-codebuild';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isComplete,
  type LocalCodeBuildProcess,
  startLocalCodeBuild,
  waitFor,
  waitForBuild,
} from '../support/local-codebuild.js';

let local: LocalCodeBuildProcess;

beforeAll(async () => {
  local = await startLocalCodeBuild({ projects: { projects: [{ name: 'svc' }] } });
});

afterAll(async () => {
  await local?.close();
});

const spec = (...commands: string[]) =>
  [
    'version: 0.2',
    'phases:',
    '  build:',
    '    commands:',
    ...commands.map((c) => `      - ${JSON.stringify(c)}`),
  ].join('\n');

async function start(buildspec: string): Promise<Build> {
  const out = await local.codebuild().send(
    new StartBuildCommand({
      projectName: 'svc',
      sourceTypeOverride: 'NO_SOURCE',
      buildspecOverride: buildspec,
    }),
  );
  return out.build!;
}

async function messages(build: Build): Promise<string[]> {
  const out = await local.logs().send(
    new GetLogEventsCommand({
      logGroupName: build.logs!.groupName,
      logStreamName: build.logs!.streamName,
      startFromHead: true,
    }),
  );
  return (out.events ?? []).map((e) => e.message ?? '');
}

describe('a restart of the local CodeBuild', () => {
  it('reports the build it was running as FAILED with the reason, and keeps builds, logs, secrets and projects', async () => {
    await local.secrets().send(new CreateSecretCommand({ Name: 'svc/key', SecretString: 'k-1' }));
    const finished = await waitForBuild(
      local.codebuild(),
      (await start(spec('echo finished-before'))).id!,
      isComplete,
    );
    const finishedLog = await messages(finished);
    expect(finishedLog).toContain('finished-before');

    // Ticks until the endpoint dies (its stdout pipe closes), at most 20 s.
    const running = await start(spec('for i in $(seq 1 200); do echo "tick $i"; sleep 0.1; done'));
    const ticking = await waitForBuild(
      local.codebuild(),
      running.id!,
      (b) => b.currentPhase === 'BUILD',
    );
    await waitFor('the first tick in the log', async () =>
      (await messages(ticking)).includes('tick 1'),
    );

    await local.kill9();
    await local.restart();

    const { builds } = await local
      .codebuild()
      .send(new BatchGetBuildsCommand({ ids: [finished.id!, running.id!] }));
    const [before, interrupted] = [finished.id, running.id].map(
      (id) => builds!.find((b) => b.id === id)!,
    );
    expect(before).toMatchObject({ buildStatus: 'SUCCEEDED', buildComplete: true });
    expect(await messages(before!)).toEqual(finishedLog);

    expect(interrupted).toMatchObject({
      buildStatus: 'FAILED',
      buildComplete: true,
      currentPhase: 'COMPLETED',
    });
    const phase = interrupted!.phases!.find((p) => p.phaseType === 'BUILD')!;
    expect(phase.phaseStatus).toBe('FAILED');
    expect(phase.contexts).toContainEqual({
      statusCode: 'LOCAL_CODEBUILD_RESTARTED',
      message: expect.stringContaining('the local CodeBuild restarted while this build ran'),
    });
    expect(interrupted!.endTime).toBeInstanceOf(Date);
    const log = await messages(interrupted!);
    expect(log).toContain('tick 1');
    expect(log.at(-1)).toContain('the local CodeBuild restarted while this build ran');

    const secret = await local.secrets().send(new GetSecretValueCommand({ SecretId: 'svc/key' }));
    expect(secret.SecretString).toBe('k-1');
    const { projects } = await local
      .codebuild()
      .send(new BatchGetProjectsCommand({ names: ['svc'] }));
    expect(projects?.[0]?.name).toBe('svc');

    const next = await start(spec('echo after-restart'));
    expect(next.buildNumber).toBe(3);
    const after = await waitForBuild(local.codebuild(), next.id!, isComplete);
    expect(after.buildStatus).toBe('SUCCEEDED');
    expect(await messages(after)).toContain('after-restart');
  });

  it('on SIGTERM ends the running build as FAILED, naming the shutdown, and kills its commands', async () => {
    const running = await start(spec('echo started', 'sleep 30', 'echo never'));
    await waitForBuild(local.codebuild(), running.id!, (b) => b.currentPhase === 'BUILD');
    await local.stop();
    await local.restart();
    const [ended] = (
      await local.codebuild().send(new BatchGetBuildsCommand({ ids: [running.id!] }))
    ).builds!;
    expect(ended).toMatchObject({ buildStatus: 'FAILED', buildComplete: true });
    expect(ended!.phases!.find((p) => p.phaseType === 'BUILD')?.contexts).toContainEqual({
      statusCode: 'LOCAL_CODEBUILD_STOPPED',
      message: expect.stringContaining('the local CodeBuild was shut down while this build ran'),
    });
    expect(await messages(ended!)).not.toContain('never');
  });

  it('refuses a second local CodeBuild on the same data directory while the first runs', async () => {
    await expect(startLocalCodeBuild({ dataDir: local.dataDir })).rejects.toThrow(
      /data directory .* is in use by another local CodeBuild \(pid \d+\)/,
    );
  });
});
