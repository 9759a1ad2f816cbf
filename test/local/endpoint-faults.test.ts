/**
 * Faults injected into the local CodeBuild, as the SDK sees them: set at start (--fault) or at
 * run time (POST /_local/faults), each answered in AWS's wire format.
 */
import {
  BatchGetBuildsCommand,
  ListProjectsCommand,
  StartBuildCommand,
} from '@aws-sdk/client-codebuild';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  isComplete,
  type LocalCodeBuildProcess,
  startLocalCodeBuild,
  waitForBuild,
} from '../support/local-codebuild.js';

let local: LocalCodeBuildProcess;

beforeAll(async () => {
  local = await startLocalCodeBuild({
    projects: { projects: [{ name: 'faulty' }] },
    faults: ['BatchGetBuilds=throttle:2'],
  });
});

afterAll(async () => {
  await local?.close();
});

const listProjects = (maxAttempts = 1) =>
  local.codebuild({ maxAttempts }).send(new ListProjectsCommand({}));

/** Each call's outcome: `ok` or the error's name. */
async function outcomes(count: number, call: () => Promise<unknown>): Promise<string[]> {
  const results: string[] = [];
  for (let i = 0; i < count; i++) {
    results.push(
      await call().then(
        () => 'ok',
        (error: Error) => error.name,
      ),
    );
  }
  return results;
}

describe('injected faults', () => {
  describe('set at start', () => {
    it('throttles the next N calls of an operation with ThrottlingException "Rate exceeded"', async () => {
      const call = () =>
        local.codebuild().send(new BatchGetBuildsCommand({ ids: ['faulty:none'] }));
      const error = await call().catch(
        (e: Error & { $metadata?: { httpStatusCode?: number } }) => e,
      );
      expect(error).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' });
      expect((error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(
        400,
      );
      expect(await outcomes(2, call)).toEqual(['ThrottlingException', 'ok']);
      expect(await outcomes(1, () => listProjects())).toEqual(['ok']);
    });
  });

  describe('set at run time', () => {
    beforeEach(async () => {
      await local.setFaults([]);
    });

    it('throttles every k-th call', async () => {
      await local.setFaults(['ListProjects=throttle-every:3']);
      expect(await outcomes(7, () => listProjects())).toEqual([
        'ok',
        'ok',
        'ThrottlingException',
        'ok',
        'ok',
        'ThrottlingException',
        'ok',
      ]);
    });

    it('lets the SDK’s own retries get through a throttle', async () => {
      await local.setFaults(['ListProjects=throttle:2']);
      const out = await listProjects(3);
      expect(out.projects).toEqual(['faulty']);
      expect(out.$metadata.attempts).toBe(3);
    });

    it('answers StartBuild with AccountLimitExceededException, then starts builds again', async () => {
      await local.setFaults(['StartBuild=account-limit:1']);
      const start = () =>
        local.codebuild().send(
          new StartBuildCommand({
            projectName: 'faulty',
            buildspecOverride: 'version: 0.2\nphases:\n  build:\n    commands: [echo ok]\n',
          }),
        );
      const refused = await start().catch((e: Error) => e);
      expect(refused).toMatchObject({ name: 'AccountLimitExceededException' });
      expect((refused as Error).message).toContain('builds in queue');
      const { build } = await start();
      expect((await waitForBuild(local.codebuild(), build!.id!, isComplete)).buildStatus).toBe(
        'SUCCEEDED',
      );
    });

    it('answers HTTP 500 InternalFailure, which the SDK retries', async () => {
      await local.setFaults(['ListProjects=server-error:1']);
      const failed = await listProjects().catch((e: Error) => e);
      expect(failed).toMatchObject({ name: 'InternalFailure', $metadata: { httpStatusCode: 500 } });
      await local.setFaults(['ListProjects=server-error:1']);
      const retried = await listProjects(2);
      expect(retried.$metadata.attempts).toBe(2);
    });

    it('adds latency to every call of an operation, and to no other', async () => {
      await local.setFaults(['ListProjects=latency:600']);
      const began = Date.now();
      await listProjects();
      expect(Date.now() - began).toBeGreaterThanOrEqual(600);
      const other = Date.now();
      await local.codebuild().send(new BatchGetBuildsCommand({ ids: ['faulty:none'] }));
      expect(Date.now() - other).toBeLessThan(600);
    });

    it('refuses a fault it does not know, naming the syntax', async () => {
      const response = await fetch(`${local.url}/_local/faults`, {
        method: 'POST',
        body: JSON.stringify({ faults: ['ListProjects=explode:1'] }),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { message: string }).message).toContain(
        'unknown kind "explode"',
      );
      expect(await outcomes(1, () => listProjects())).toEqual(['ok']);
    });
  });
});
