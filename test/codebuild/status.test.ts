import type { Build, BuildPhase } from '@aws-sdk/client-codebuild';
import { describe, expect, it } from 'vitest';
import { CodeBuildError } from '../../src/codebuild/errors.js';
import {
  buildBatchConsoleUrl,
  buildConsoleUrl,
  buildLogsUrl,
  commitStateFor,
  failedPhase,
  failureReason,
  formatDuration,
  stopBuild,
} from '../../src/codebuild/status.js';
import { fakeClients, startFakeCodeBuild } from '../support/fake-codebuild.js';

const ID = 'demo-app:7c2a0e9e-5f51-4d7c-9b8e-1f6d2c3b4a59';
const ARN = `arn:aws:codebuild:eu-west-1:123456789012:build/${ID}`;
const start = new Date('2026-01-01T12:00:00Z');
const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);

function phase(
  phaseType: string,
  phaseStatus: string,
  durationInSeconds: number,
  contexts?: BuildPhase['contexts'],
): BuildPhase {
  return {
    phaseType: phaseType as BuildPhase['phaseType'],
    phaseStatus: phaseStatus as BuildPhase['phaseStatus'],
    durationInSeconds,
    contexts,
  };
}

const ok = (type: string) => phase(type, 'SUCCEEDED', 1, [{ statusCode: '', message: '' }]);

function build(overrides: Partial<Build>): Build {
  return {
    id: ID,
    arn: ARN,
    projectName: 'demo-app',
    startTime: start,
    timeoutInMinutes: 60,
    ...overrides,
  };
}

describe('failureReason', () => {
  it('names the failed phase, the command, its exit status and how long the phase ran', () => {
    const failed = build({
      buildStatus: 'FAILED',
      endTime: at(250),
      phases: [
        ok('SUBMITTED'),
        ok('INSTALL'),
        phase('BUILD', 'FAILED', 192, [
          {
            statusCode: 'COMMAND_EXECUTION_ERROR',
            message: 'Error while executing command: make. Reason: exit status 2',
          },
        ]),
        ok('POST_BUILD'),
      ],
    });
    expect(failureReason(failed)).toBe('BUILD failed: make exited 2 after 3m12s');
    expect(failedPhase(failed)).toBe('BUILD');
  });

  it('keeps a long multi-line command to one short line', () => {
    const command = `npm test -- --reporter=dot\n  && ${'x'.repeat(200)}`;
    const failed = build({
      buildStatus: 'FAILED',
      phases: [
        phase('BUILD', 'FAILED', 5, [
          {
            statusCode: 'COMMAND_EXECUTION_ERROR',
            message: `Error while executing command: ${command}. Reason: exit status 1`,
          },
        ]),
      ],
    });
    expect(failureReason(failed)).toBe(
      'BUILD failed: npm test -- --reporter=dot exited 1 after 5s',
    );
  });

  it('says what CodeBuild said when no command failed', () => {
    const failed = build({
      buildStatus: 'FAILED',
      phases: [
        phase('DOWNLOAD_SOURCE', 'FAILED', 4, [
          { statusCode: 'CLIENT_ERROR', message: 'repository not found for primary source' },
        ]),
      ],
    });
    expect(failureReason(failed)).toBe(
      'DOWNLOAD_SOURCE failed after 4s: CLIENT_ERROR: repository not found for primary source',
    );
  });

  it('words a time-out with its limit', () => {
    const timedOut = build({
      buildStatus: 'TIMED_OUT',
      currentPhase: 'COMPLETED',
      endTime: at(3600),
      phases: [ok('INSTALL'), phase('BUILD', 'TIMED_OUT', 3590, [])],
    });
    expect(failureReason(timedOut)).toBe('Build timed out in BUILD after 1h00m (limit 60 min)');
    expect(commitStateFor(timedOut.buildStatus)).toBe('failure');
  });

  it('words a stopped build', () => {
    const stopped = build({
      buildStatus: 'STOPPED',
      currentPhase: 'COMPLETED',
      endTime: at(62),
      phases: [ok('INSTALL'), phase('BUILD', 'STOPPED', 50, [])],
    });
    expect(failureReason(stopped)).toBe('Build stopped in BUILD after 1m02s');
    expect(commitStateFor('STOPPED')).toBe('canceled');
  });

  it('words a CodeBuild fault', () => {
    const fault = build({
      buildStatus: 'FAULT',
      endTime: at(12),
      phases: [
        phase('PROVISIONING', 'FAULT', 12, [
          { statusCode: 'ACCESS_DENIED', message: 'Service role lacks ecr:GetAuthorizationToken' },
        ]),
      ],
    });
    expect(failureReason(fault)).toBe(
      'CodeBuild fault in PROVISIONING after 12s: ACCESS_DENIED: Service role lacks ecr:GetAuthorizationToken',
    );
    expect(commitStateFor('FAULT')).toBe('error');
  });

  it('has no reason while running or after success', () => {
    expect(failureReason(build({ buildStatus: 'IN_PROGRESS' }))).toBeNull();
    expect(failureReason(build({ buildStatus: 'SUCCEEDED', phases: [ok('BUILD')] }))).toBeNull();
    expect(failedPhase(build({ buildStatus: 'SUCCEEDED', phases: [ok('BUILD')] }))).toBeNull();
  });
});

describe('commitStateFor', () => {
  it('maps every status, unknown ones to error', () => {
    expect(commitStateFor(undefined)).toBe('pending');
    expect(commitStateFor('IN_PROGRESS')).toBe('running');
    expect(commitStateFor('SUCCEEDED')).toBe('success');
    expect(commitStateFor('FAILED')).toBe('failure');
    expect(commitStateFor('SOMETHING_NEW')).toBe('error');
    expect(commitStateFor('toString')).toBe('error');
  });
});

describe('formatDuration', () => {
  it('reads like 3m12s', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(42_400)).toBe('42s');
    expect(formatDuration(192_000)).toBe('3m12s');
    expect(formatDuration(3_900_000)).toBe('1h05m');
  });
});

describe('console links', () => {
  it('links the build page with region, account and the escaped id', () => {
    expect(buildConsoleUrl(build({}))).toBe(
      'https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/123456789012/projects/demo-app/build/demo-app%3A7c2a0e9e-5f51-4d7c-9b8e-1f6d2c3b4a59/?region=eu-west-1',
    );
    expect(
      buildBatchConsoleUrl({
        id: ID,
        arn: `arn:aws:codebuild:us-east-2:123456789012:build-batch/${ID}`,
      }),
    ).toBe(
      'https://us-east-2.console.aws.amazon.com/codesuite/codebuild/123456789012/projects/demo-app/batch/demo-app%3A7c2a0e9e-5f51-4d7c-9b8e-1f6d2c3b4a59/?region=us-east-2',
    );
  });

  it('links the logs: CodeBuild deep link first, else the group and stream', () => {
    const deepLink =
      'https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logEvent:group=x;stream=y';
    expect(buildLogsUrl(build({ logs: { deepLink, groupName: 'x', streamName: 'y' } }))).toBe(
      deepLink,
    );
    expect(
      buildLogsUrl(build({ logs: { groupName: '/aws/codebuild/demo-app', streamName: 'abc' } })),
    ).toBe(
      'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Fcodebuild$252Fdemo-app/log-events/abc',
    );
    expect(buildLogsUrl(build({ logs: {} }))).toBeNull();
  });
});

describe('stopBuild', () => {
  it('stops a build and says so when the build is unknown', async () => {
    const fake = await startFakeCodeBuild();
    const { codebuild } = fakeClients(fake.url);
    try {
      const { id } = fake.addBuild();
      await expect(stopBuild(codebuild, id)).resolves.toMatchObject({ id, buildStatus: 'STOPPED' });
      expect(fake.calls.at(-1)).toMatchObject({ op: 'StopBuild', body: { id } });
      const error = await stopBuild(codebuild, 'demo:missing').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CodeBuildError);
      expect((error as Error).message).toMatch(
        /StopBuild demo:missing failed: ResourceNotFoundException/,
      );
    } finally {
      codebuild.destroy();
      await fake.close();
    }
  });
});
