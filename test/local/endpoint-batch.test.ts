/**
 * Batch builds through StartBuildBatch and BatchGetBuildBatches: each member a build of its own
 * (id, status, log), the batch's status derived from theirs.
 */
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetBuildBatchesCommand,
  BatchGetBuildsCommand,
  type BuildBatch,
  StartBuildBatchCommand,
} from '@aws-sdk/client-codebuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LocalCodeBuildProcess,
  startLocalCodeBuild,
  waitFor,
} from '../support/local-codebuild.js';

let local: LocalCodeBuildProcess;

beforeAll(async () => {
  local = await startLocalCodeBuild({ projects: { projects: [{ name: 'matrix' }] } });
});

afterAll(async () => {
  await local?.close();
});

async function runBatch(buildspec: string): Promise<BuildBatch> {
  const client = local.codebuild();
  const { buildBatch } = await client.send(
    new StartBuildBatchCommand({ projectName: 'matrix', buildspecOverride: buildspec }),
  );
  expect(buildBatch).toMatchObject({ buildBatchStatus: 'IN_PROGRESS', complete: false });
  let batch: BuildBatch | undefined;
  await waitFor(
    'the batch to complete',
    async () => {
      const out = await client.send(new BatchGetBuildBatchesCommand({ ids: [buildBatch!.id!] }));
      batch = out.buildBatches?.[0];
      return batch?.complete === true;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  return batch!;
}

const memberIds = (batch: BuildBatch) =>
  (batch.buildGroups ?? []).map((g) => g.currentBuildSummary?.arn?.split(':build/')[1]);

describe('batch builds', () => {
  it('runs a build-list, each member with its own variables, and ignores a failure it may ignore', async () => {
    const batch = await runBatch(
      [
        'version: 0.2',
        'batch:',
        '  build-list:',
        '    - identifier: linux',
        '      env:',
        '        variables: { TARGET: linux }',
        '    - identifier: windows',
        '      env:',
        '        variables: { TARGET: windows }',
        '      ignore-failure: true',
        'phases:',
        '  build:',
        '    commands:',
        '      - echo "target $TARGET as $CODEBUILD_BATCH_BUILD_IDENTIFIER"',
        '      - test "$TARGET" = linux',
      ].join('\n'),
    );
    expect(batch.buildBatchStatus).toBe('SUCCEEDED');
    expect(batch.arn).toBe(`arn:aws:codebuild:us-east-1:000000000000:build-batch/${batch.id}`);
    expect(batch.phases?.map((p) => p.phaseType)).toEqual([
      'SUBMITTED',
      'DOWNLOAD_BATCHSPEC',
      'IN_PROGRESS',
      'SUCCEEDED',
    ]);
    expect(
      batch.buildGroups?.map((g) => [
        g.identifier,
        g.ignoreFailure,
        g.currentBuildSummary?.buildStatus,
      ]),
    ).toEqual([
      ['linux', false, 'SUCCEEDED'],
      ['windows', true, 'FAILED'],
    ]);

    const ids = memberIds(batch) as string[];
    const { builds } = await local.codebuild().send(new BatchGetBuildsCommand({ ids }));
    for (const [index, target] of ['linux', 'windows'].entries()) {
      const build = builds!.find((b) => b.id === ids[index])!;
      expect(build.buildBatchArn).toBe(batch.arn);
      const { events } = await local.logs().send(
        new GetLogEventsCommand({
          logGroupName: build.logs!.groupName,
          logStreamName: build.logs!.streamName,
          startFromHead: true,
        }),
      );
      expect(events?.map((e) => e.message)).toContain(`target ${target} as ${target}`);
    }
  });

  it('runs every combination of a build-matrix', async () => {
    const batch = await runBatch(
      [
        'version: 0.2',
        'batch:',
        '  build-matrix:',
        '    dynamic:',
        '      env:',
        '        image: [img-a, img-b]',
        '        variables:',
        '          NODE: ["18", "20"]',
        'phases:',
        '  build:',
        '    commands: [echo "$NODE on $CODEBUILD_BUILD_IMAGE"]',
      ].join('\n'),
    );
    expect(batch.buildBatchStatus).toBe('SUCCEEDED');
    const { builds } = await local
      .codebuild()
      .send(new BatchGetBuildsCommand({ ids: memberIds(batch) as string[] }));
    const combos = builds!.map((b) => {
      const node = b.environment?.environmentVariables?.find((v) => v.name === 'NODE')?.value;
      return `${b.environment?.image}/${node}`;
    });
    expect(combos.sort()).toEqual(['img-a/18', 'img-a/20', 'img-b/18', 'img-b/20']);
  });

  it('fails a build-graph whose dependency fails, never starting what depends on it', async () => {
    const batch = await runBatch(
      [
        'version: 0.2',
        'batch:',
        '  build-graph:',
        '    - identifier: compile',
        '      env: { variables: { STEP: compile } }',
        '    - identifier: deploy',
        '      depend-on: [compile]',
        '      env: { variables: { STEP: deploy } }',
        'phases:',
        '  build:',
        '    commands: [\'test "$STEP" != compile\']',
      ].join('\n'),
    );
    expect(batch.buildBatchStatus).toBe('FAILED');
    const [compile, deploy] = batch.buildGroups!;
    expect(compile?.currentBuildSummary?.buildStatus).toBe('FAILED');
    expect(deploy).toMatchObject({ identifier: 'deploy', dependsOn: ['compile'] });
    expect(deploy?.currentBuildSummary).toBeUndefined();
  });

  it('fails in DOWNLOAD_BATCHSPEC when the buildspec has no batch section', async () => {
    const batch = await runBatch('version: 0.2\nphases:\n  build:\n    commands: [echo alone]\n');
    expect(batch.buildBatchStatus).toBe('FAILED');
    const download = batch.phases!.find((p) => p.phaseType === 'DOWNLOAD_BATCHSPEC')!;
    expect(download.phaseStatus).toBe('FAILED');
    expect(download.contexts?.[0]?.message).toContain('no batch section');
    expect(batch.buildGroups).toEqual([]);
  });
});
