/**
 * The local CodeBuild as an SDK user sees it: a real `local serve` process, driven only through
 * @aws-sdk/client-codebuild, -cloudwatch-logs and -secrets-manager, running real buildspecs.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  type Build,
  ListBuildsForProjectCommand,
  StartBuildCommand,
  type StartBuildCommandInput,
  StopBuildCommand,
} from '@aws-sdk/client-codebuild';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isComplete,
  type LocalCodeBuildProcess,
  startLocalCodeBuild,
  waitForBuild,
} from '../support/local-codebuild.js';

let local: LocalCodeBuildProcess;
let gates: string;

beforeAll(async () => {
  gates = mkdtempSync(join(tmpdir(), 'endpoint-gates-'));
  local = await startLocalCodeBuild({
    projects: {
      projects: [{ name: 'app' }],
      parameters: { '/app/region': 'eu-west-1' },
      secrets: { 'file/db': { password: 'pw-from-file-77' } },
    },
  });
});

afterAll(async () => {
  await local?.close();
  rmSync(gates, { recursive: true, force: true });
});

/** A file a build waits for (at most 20 s), so a test decides when a phase may end. */
function gate(name: string): { path: string; wait: string; open(): void } {
  const path = join(gates, name);
  return {
    path,
    wait: `for i in $(seq 1 400); do [ -f '${path}' ] && break; sleep 0.05; done`,
    open: () => writeFileSync(path, ''),
  };
}

const spec = (...commands: string[]) =>
  [
    'version: 0.2',
    'phases:',
    '  build:',
    '    commands:',
    ...commands.map((c) => `      - ${JSON.stringify(c)}`),
  ].join('\n');

function start(input: Partial<StartBuildCommandInput>): Promise<Build> {
  return local
    .codebuild()
    .send(new StartBuildCommand({ projectName: 'app', sourceTypeOverride: 'NO_SOURCE', ...input }))
    .then((out) => out.build!);
}

/** Every message of the build's stream, read the way a tailer does: forward tokens to the end. */
async function readLog(build: Build, limit = 10_000): Promise<string[]> {
  const logs = local.logs();
  const messages: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const out = await logs.send(
      new GetLogEventsCommand({
        logGroupName: build.logs!.groupName,
        logStreamName: build.logs!.streamName,
        startFromHead: true,
        limit,
        ...(token ? { nextToken: token } : {}),
      }),
    );
    messages.push(...(out.events ?? []).map((e) => e.message ?? ''));
    if (out.nextForwardToken === token) return messages;
    token = out.nextForwardToken;
  }
  throw new Error('the log did not end within 1000 pages');
}

describe('a build through the SDK', () => {
  it('shows its phases IN_PROGRESS while it runs, then final, with the log stream only after PROVISIONING', async () => {
    const buildGate = gate('phases');
    const started = await start({ buildspecOverride: spec('echo building', buildGate.wait) });
    expect(started).toMatchObject({
      buildStatus: 'IN_PROGRESS',
      buildComplete: false,
      projectName: 'app',
    });
    expect(started.id).toMatch(/^app:[0-9a-f-]{36}$/);
    expect(started.arn).toBe(`arn:aws:codebuild:us-east-1:000000000000:build/${started.id}`);
    expect(started.logs?.streamName).toBeUndefined();
    expect(started.logs?.cloudWatchLogsArn).toContain('log-group:null:log-stream:null');

    const running = await waitForBuild(
      local.codebuild(),
      started.id!,
      (b) => b.currentPhase === 'BUILD',
    );
    expect(running.buildStatus).toBe('IN_PROGRESS');
    const build = running.phases!.find((p) => p.phaseType === 'BUILD')!;
    expect(build.phaseStatus).toBeUndefined();
    expect(build.startTime).toBeInstanceOf(Date);
    expect(running.phases!.find((p) => p.phaseType === 'PROVISIONING')?.phaseStatus).toBe(
      'SUCCEEDED',
    );
    expect(running.logs).toMatchObject({
      groupName: '/aws/codebuild/app',
      streamName: started.id!.split(':')[1],
    });

    buildGate.open();
    const done = await waitForBuild(local.codebuild(), started.id!, isComplete);
    expect(done).toMatchObject({
      buildStatus: 'SUCCEEDED',
      currentPhase: 'COMPLETED',
      buildNumber: started.buildNumber,
    });
    expect(done.phases!.map((p) => p.phaseType)).toEqual([
      'SUBMITTED',
      'QUEUED',
      'PROVISIONING',
      'DOWNLOAD_SOURCE',
      'INSTALL',
      'PRE_BUILD',
      'BUILD',
      'POST_BUILD',
      'UPLOAD_ARTIFACTS',
      'FINALIZING',
      'COMPLETED',
    ]);
    expect(
      done
        .phases!.filter((p) => p.phaseType !== 'COMPLETED')
        .every((p) => p.phaseStatus === 'SUCCEEDED'),
    ).toBe(true);
    expect(done.endTime!.getTime()).toBeGreaterThanOrEqual(done.startTime!.getTime());
  });

  it('reports a failing command as FAILED with CodeBuild’s phase context', async () => {
    const started = await start({ buildspecOverride: spec('exit 3') });
    const done = await waitForBuild(local.codebuild(), started.id!, isComplete);
    expect(done.buildStatus).toBe('FAILED');
    const build = done.phases!.find((p) => p.phaseType === 'BUILD')!;
    expect(build.phaseStatus).toBe('FAILED');
    expect(build.contexts?.[0]).toMatchObject({ statusCode: 'COMMAND_EXECUTION_ERROR' });
    expect(build.contexts?.[0]?.message).toContain('exit 3');
  });

  it('has every log line for a tailer, through paging, up to the last one', async () => {
    const started = await start({
      buildspecOverride: spec('for i in $(seq 1 120); do echo "line $i"; done', 'echo last-line'),
    });
    const done = await waitForBuild(local.codebuild(), started.id!, isComplete);
    const paged = await readLog(done, 7);
    const lines = paged.filter((m) => /^line \d+$/.test(m));
    expect(lines).toEqual(Array.from({ length: 120 }, (_, i) => `line ${i + 1}`));
    expect(paged).toContain('last-line');
    expect(await readLog(done)).toEqual(paged);
    // The build's log link opens the same log as text from the endpoint.
    expect(done.logs?.deepLink).toBe(
      `${local.url}/_local/builds/${encodeURIComponent(done.id!)}/log`,
    );
    expect(await (await fetch(done.logs!.deepLink!)).text()).toBe(
      paged.map((m) => `${m}\n`).join(''),
    );
    // Without startFromHead the newest events come first; the backward token pages to older ones.
    const tail = await local.logs().send(
      new GetLogEventsCommand({
        logGroupName: done.logs!.groupName,
        logStreamName: done.logs!.streamName,
        limit: 3,
      }),
    );
    expect(tail.events!.map((e) => e.message)).toEqual(paged.slice(-3));
    const before = await local.logs().send(
      new GetLogEventsCommand({
        logGroupName: done.logs!.groupName,
        logStreamName: done.logs!.streamName,
        limit: 3,
        nextToken: tail.nextBackwardToken,
      }),
    );
    expect(before.events!.map((e) => e.message)).toEqual(paged.slice(-6, -3));
  });

  it('stops a running build with StopBuild: STOPPED, and its command ended', async () => {
    const marker = join(gates, 'never-written');
    const started = await start({
      buildspecOverride: spec('echo started', 'sleep 30', `touch '${marker}'`),
    });
    await waitForBuild(local.codebuild(), started.id!, (b) => b.currentPhase === 'BUILD');
    const stopped = await local.codebuild().send(new StopBuildCommand({ id: started.id! }));
    expect(stopped.build?.id).toBe(started.id);
    const done = await waitForBuild(local.codebuild(), started.id!, isComplete, {
      timeoutMs: 10_000,
    });
    expect(done.buildStatus).toBe('STOPPED');
    expect(done.phases!.find((p) => p.phaseType === 'BUILD')?.phaseStatus).toBe('STOPPED');
    expect(existsSync(marker)).toBe(false);
  });

  it('answers the same build for a repeated idempotency token, and refuses the token with other parameters', async () => {
    const input = { buildspecOverride: spec('echo once'), idempotencyToken: 'delivery-42' };
    const first = await start(input);
    const again = await start(input);
    expect(again.id).toBe(first.id);
    const error = await start({
      ...input,
      environmentVariablesOverride: [{ name: 'X', value: '1', type: 'PLAINTEXT' }],
    }).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'InvalidInputException' });
    expect((error as Error).message).toContain('delivery-42');
    await waitForBuild(local.codebuild(), first.id!, isComplete);
    const { ids } = await local
      .codebuild()
      .send(new ListBuildsForProjectCommand({ projectName: 'app' }));
    expect(ids!.filter((id) => id === first.id)).toHaveLength(1);
  });

  it('masks a Secrets Manager value in the log, and shows only the reference on the build', async () => {
    const secret = 'tok-5f1c9e-very-secret';
    await local.secrets().send(
      new CreateSecretCommand({
        Name: 'ci/git',
        SecretString: JSON.stringify({ token: secret }),
      }),
    );
    const started = await start({
      buildspecOverride: [
        'version: 0.2',
        'env:',
        '  secrets-manager:',
        '    FROM_SPEC: ci/git:token',
        'phases:',
        '  build:',
        '    commands:',
        '      - echo "spec $FROM_SPEC"',
        '      - echo "override $FROM_OVERRIDE"',
        '      - test "$FROM_SPEC" = "$FROM_OVERRIDE" && echo same-value',
      ].join('\n'),
      environmentVariablesOverride: [
        { name: 'FROM_OVERRIDE', value: 'ci/git:token', type: 'SECRETS_MANAGER' },
      ],
    });
    const done = await waitForBuild(local.codebuild(), started.id!, isComplete);
    expect(done.buildStatus).toBe('SUCCEEDED');
    const log = await readLog(done);
    expect(log).toEqual(expect.arrayContaining(['spec ***', 'override ***', 'same-value']));
    expect(log.join('\n')).not.toContain(secret);
    expect(JSON.stringify(done)).not.toContain(secret);
    expect(done.environment?.environmentVariables).toContainEqual({
      name: 'FROM_OVERRIDE',
      value: 'ci/git:token',
      type: 'SECRETS_MANAGER',
    });
  });

  it('resolves parameters and secrets given in the projects file', async () => {
    const started = await start({
      buildspecOverride: [
        'version: 0.2',
        'env:',
        '  parameter-store: { REGION: /app/region }',
        '  secrets-manager: { PASSWORD: file/db:password }',
        'phases:',
        '  build:',
        '    commands:',
        '      - echo "region $REGION password $PASSWORD"',
      ].join('\n'),
    });
    const done = await waitForBuild(local.codebuild(), started.id!, isComplete);
    expect(done.buildStatus).toBe('SUCCEEDED');
    // Parameter Store values are masked too, as CodeBuild does.
    expect(await readLog(done)).toContain('region *** password ***');
  });

  it('records overrides and exported variables on the build', async () => {
    const started = await start({
      buildspecOverride: [
        'version: 0.2',
        'env:',
        '  exported-variables: [RESULT]',
        'phases:',
        '  build:',
        '    commands:',
        '      - export RESULT="$GREETING-done"',
      ].join('\n'),
      environmentVariablesOverride: [{ name: 'GREETING', value: 'hi', type: 'PLAINTEXT' }],
      imageOverride: 'aws/codebuild/amazonlinux2-x86_64-standard:5.0',
      computeTypeOverride: 'BUILD_GENERAL1_LARGE',
      privilegedModeOverride: true,
      timeoutInMinutesOverride: 15,
    });
    const done = await waitForBuild(local.codebuild(), started.id!, isComplete);
    expect(done).toMatchObject({
      buildStatus: 'SUCCEEDED',
      timeoutInMinutes: 15,
      exportedEnvironmentVariables: [{ name: 'RESULT', value: 'hi-done' }],
      environment: {
        image: 'aws/codebuild/amazonlinux2-x86_64-standard:5.0',
        computeType: 'BUILD_GENERAL1_LARGE',
        privilegedMode: true,
      },
    });
  });

  it('refuses reserved variable names and an unknown project as CodeBuild does', async () => {
    await expect(
      start({
        buildspecOverride: spec('true'),
        environmentVariablesOverride: [{ name: 'CODEBUILD_X', value: '1' }],
      }),
    ).rejects.toMatchObject({ name: 'InvalidInputException' });
    await expect(
      start({ projectName: 'nope', buildspecOverride: spec('true') }),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(start({ buildspecOverride: 'buildspec.yml' })).rejects.toMatchObject({
      name: 'InvalidInputException',
      message: expect.stringContaining('NO_SOURCE build needs an inline buildspec'),
    });
  });
});
