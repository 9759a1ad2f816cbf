import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CodeBuildError,
  InvalidBuildInputError,
  isThrottling,
  ProjectNotFoundError,
  QueueFullError,
  ThrottledError,
} from '../../src/codebuild/errors.js';
import {
  type RoutingMetadata,
  routingFromBuild,
  type StartBuildRequest,
  startBuild,
  startBuildBatch,
  toStartBuildInput,
} from '../../src/codebuild/start.js';
import { CodebuildRunError } from '../../src/errors.js';
import { type FakeCodeBuild, fakeClients, startFakeCodeBuild } from '../support/fake-codebuild.js';

const routing: RoutingMetadata = {
  hostId: 'github',
  host: 'github',
  repo: 'octo/app',
  repoId: null,
  sha: 'a'.repeat(40),
  context: 'codebuild/demo',
  planId: 'rule-0',
};

const request: StartBuildRequest = {
  projectName: 'demo',
  sourceTypeOverride: 'NO_SOURCE',
  buildspecOverride: 'version: 0.2\nphases:\n  build:\n    commands: [make]\n',
  environmentVariables: [
    { name: 'STAGE', value: 'test', type: 'PLAINTEXT' },
    { name: 'GIT_TOKEN', value: 'prod/git-token', type: 'SECRETS_MANAGER' },
  ],
  timeoutInMinutes: 30,
  idempotency: { repo: 'octo/app', sha: 'a'.repeat(40), deliveryId: 'delivery-1' },
  routing,
};

function refusal(r: StartBuildRequest): InvalidBuildInputError {
  try {
    toStartBuildInput(r);
  } catch (error) {
    if (error instanceof InvalidBuildInputError) return error;
    throw error;
  }
  throw new Error('expected toStartBuildInput to refuse the request');
}

describe('toStartBuildInput', () => {
  it('derives one idempotency token per (project, repo, sha, delivery)', () => {
    const token = toStartBuildInput(request).idempotencyToken;
    expect(token).toMatch(/^cbr-[0-9a-f]{48}$/);
    expect(toStartBuildInput({ ...request }).idempotencyToken).toBe(token);
    const redelivered = {
      ...request,
      idempotency: { ...request.idempotency!, deliveryId: 'delivery-2' },
    };
    expect(toStartBuildInput(redelivered).idempotencyToken).not.toBe(token);
    const otherSha = { ...request, idempotency: { ...request.idempotency!, sha: 'b'.repeat(40) } };
    expect(toStartBuildInput(otherSha).idempotencyToken).not.toBe(token);
    expect(
      toStartBuildInput({ ...request, idempotency: undefined }).idempotencyToken,
    ).toBeUndefined();
  });

  it('carries the routing metadata as PLAINTEXT CBR_ROUTE_ variables after the user variables', () => {
    const input = toStartBuildInput(request);
    expect(input.environmentVariablesOverride).toEqual([
      { name: 'STAGE', value: 'test', type: 'PLAINTEXT' },
      { name: 'GIT_TOKEN', value: 'prod/git-token', type: 'SECRETS_MANAGER' },
      { name: 'CBR_ROUTE_HOST_ID', value: 'github', type: 'PLAINTEXT' },
      { name: 'CBR_ROUTE_HOST', value: 'github', type: 'PLAINTEXT' },
      { name: 'CBR_ROUTE_REPO', value: 'octo/app', type: 'PLAINTEXT' },
      { name: 'CBR_ROUTE_SHA', value: 'a'.repeat(40), type: 'PLAINTEXT' },
      { name: 'CBR_ROUTE_CONTEXT', value: 'codebuild/demo', type: 'PLAINTEXT' },
      { name: 'CBR_ROUTE_PLAN_ID', value: 'rule-0', type: 'PLAINTEXT' },
    ]);
    expect(input).toMatchObject({
      projectName: 'demo',
      sourceTypeOverride: 'NO_SOURCE',
      timeoutInMinutesOverride: 30,
    });
  });

  it('refuses reserved CODEBUILD_ names, naming the variable and the fix', () => {
    const error = refusal({
      ...request,
      environmentVariables: [{ name: 'CODEBUILD_SOURCE_VERSION', value: 'x', type: 'PLAINTEXT' }],
    });
    expect(error.message).toMatch(
      /CODEBUILD_SOURCE_VERSION: names starting with CODEBUILD_ are reserved/,
    );
    expect(error.message).toMatch(/rename it/);
    expect(error).toBeInstanceOf(CodebuildRunError);
    expect(error.serviceMessage).toBeNull();
  });

  it('refuses routing names, duplicates and names a shell cannot read', () => {
    const variables = (name: string) => ({
      ...request,
      environmentVariables: [{ name, value: 'x', type: 'PLAINTEXT' as const }],
    });
    expect(refusal(variables('CBR_ROUTE_SHA')).message).toMatch(
      /CBR_ROUTE_SHA: .*routing metadata/,
    );
    expect(refusal(variables('1ST')).message).toMatch(/"1ST" is not a shell variable name/);
    const twice = {
      ...request,
      environmentVariables: [
        { name: 'A', value: '1', type: 'PLAINTEXT' as const },
        { name: 'A', value: '2', type: 'PLAINTEXT' as const },
      ],
    };
    expect(refusal(twice).message).toBe('environment variable A is given twice; keep one');
  });

  it('refuses timeouts outside what CodeBuild accepts', () => {
    expect(refusal({ ...request, timeoutInMinutes: 4 }).message).toBe(
      'timeoutInMinutes must be a whole number of minutes from 5 to 2160; got 4',
    );
    expect(refusal({ ...request, timeoutInMinutes: 2161 }).message).toMatch(
      /from 5 to 2160; got 2161/,
    );
    expect(refusal({ ...request, timeoutInMinutes: 7.5 }).message).toMatch(/whole number/);
    expect(refusal({ ...request, queuedTimeoutInMinutes: 481 }).message).toMatch(/from 5 to 480/);
    expect(toStartBuildInput({ ...request, timeoutInMinutes: 2160 }).timeoutInMinutesOverride).toBe(
      2160,
    );
  });

  it('refuses a bad project name and NO_SOURCE without a buildspec', () => {
    expect(refusal({ ...request, projectName: 'my project' }).message).toMatch(
      /projectName "my project" is not a CodeBuild project name/,
    );
    expect(refusal({ ...request, buildspecOverride: undefined }).message).toMatch(
      /NO_SOURCE needs buildspecOverride/,
    );
  });

  it('never puts a variable value in an error', () => {
    const error = refusal({
      ...request,
      environmentVariables: [
        { name: 'SECRET', value: 'hunter2', type: 'PLAINTEXT' },
        { name: 'SECRET', value: 'hunter2', type: 'PLAINTEXT' },
      ],
    });
    expect(error.message).not.toContain('hunter2');
  });
});

describe('startBuild against CodeBuild', () => {
  let fake: FakeCodeBuild;
  let client: CodeBuildClient;
  beforeAll(async () => {
    fake = await startFakeCodeBuild();
    client = fakeClients(fake.url).codebuild;
  });
  afterAll(async () => {
    client.destroy();
    await fake.close();
  });

  it('starts one build for a redelivery and reads the routing back from the build', async () => {
    const first = await startBuild(client, request);
    const again = await startBuild(client, request);
    expect(again.id).toBe(first.id);
    expect(first.id).toMatch(/^demo:/);
    expect(fake.get(first.id!)).toBeDefined();
    expect(routingFromBuild(first)).toEqual(routing);
    const sent = fake.calls.filter((c) => c.op === 'StartBuild').at(-1)!;
    expect(sent.body.idempotencyToken).toBe(toStartBuildInput(request).idempotencyToken);
  });

  it('reads no routing from a build this project did not start', async () => {
    const build = await startBuild(client, { projectName: 'demo' });
    expect(routingFromBuild(build)).toBeNull();
  });

  it('starts a build batch with the batch timeout key', async () => {
    const batch = await startBuildBatch(client, { ...request, idempotency: undefined });
    expect(batch.id).toMatch(/^demo:/);
    expect(batch.arn).toContain(':build-batch/');
    const sent = fake.calls.filter((c) => c.op === 'StartBuildBatch').at(-1)!;
    expect(sent.body.buildTimeoutInMinutesOverride).toBe(30);
    expect(sent.body).not.toHaveProperty('timeoutInMinutesOverride');
  });

  it('maps each error name to its typed error', async () => {
    await expect(startBuild(client, { ...request, projectName: 'missing' })).rejects.toSatisfy(
      (e) =>
        e instanceof ProjectNotFoundError &&
        e.projectName === 'missing' &&
        /project "missing" was not found/.test(e.message),
    );

    fake.failWhen(
      'StartBuild',
      () => true,
      'AccountLimitExceededException',
      'Cannot have more than 0 builds in queue',
    );
    await expect(startBuild(client, request)).rejects.toSatisfy(
      (e) => e instanceof QueueFullError && /Cannot have more than 0 builds/.test(e.message),
    );
    fake.clearFailures();

    fake.failWhen('StartBuild', () => true, 'InvalidInputException', 'Invalid buildspec override');
    await expect(startBuild(client, request)).rejects.toSatisfy(
      (e) =>
        e instanceof InvalidBuildInputError && e.serviceMessage === 'Invalid buildspec override',
    );
    fake.clearFailures();

    fake.failWhen('StartBuild', () => true, 'ThrottlingException');
    const throttled = await startBuild(client, request).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(ThrottledError);
    expect(isThrottling(throttled)).toBe(true);
    expect((throttled as ThrottledError).awsErrorName).toBe('ThrottlingException');
    fake.clearFailures();

    fake.failWhen(
      'StartBuild',
      () => true,
      'AccessDeniedException',
      'not authorized to perform codebuild:StartBuild',
    );
    const denied = await startBuild(client, request).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(CodeBuildError);
    expect((denied as CodeBuildError).message).toMatch(/AccessDeniedException: not authorized/);
    fake.clearFailures();
  });

  it('is refused by the service when the same token comes with other parameters', async () => {
    await startBuild(client, {
      ...request,
      idempotency: { ...request.idempotency!, deliveryId: 'd-9' },
    });
    const changed = {
      ...request,
      timeoutInMinutes: 45,
      idempotency: { ...request.idempotency!, deliveryId: 'd-9' },
    };
    await expect(startBuild(client, changed)).rejects.toBeInstanceOf(InvalidBuildInputError);
  });
});
