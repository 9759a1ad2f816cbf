/**
 * Many builds at once: 20 StartBuild calls together, each build with its own variables, its own
 * log stream and its own outcome.
 */
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { BatchGetBuildsCommand, type Build, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LocalCodeBuildProcess,
  startLocalCodeBuild,
  waitFor,
} from '../support/local-codebuild.js';

let local: LocalCodeBuildProcess;

beforeAll(async () => {
  local = await startLocalCodeBuild({ projects: { projects: [{ name: 'many' }] } });
});

afterAll(async () => {
  await local?.close();
});

const BUILDSPEC = [
  'version: 0.2',
  'phases:',
  '  build:',
  '    commands:',
  '      - for i in 1 2 3 4 5; do echo "build $SLOT line $i"; sleep 0.05; done',
  '      - test $((SLOT % 3)) -ne 0',
].join('\n');

describe('20 builds started at once', () => {
  it('all finish, each with its own log and status', async () => {
    const client = local.codebuild();
    const slots = Array.from({ length: 20 }, (_, i) => i + 1);
    const started = await Promise.all(
      slots.map((slot) =>
        client
          .send(
            new StartBuildCommand({
              projectName: 'many',
              buildspecOverride: BUILDSPEC,
              environmentVariablesOverride: [
                { name: 'SLOT', value: String(slot), type: 'PLAINTEXT' },
              ],
            }),
          )
          .then((out) => out.build!),
      ),
    );
    const ids = started.map((b) => b.id!);
    expect(new Set(ids).size).toBe(20);
    expect(new Set(started.map((b) => b.buildNumber)).size).toBe(20);

    let builds: Build[] = [];
    await waitFor(
      'all 20 builds complete',
      async () => {
        builds = (await client.send(new BatchGetBuildsCommand({ ids }))).builds ?? [];
        return builds.length === 20 && builds.every((b) => b.buildComplete);
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );

    const logs = local.logs();
    for (const [index, id] of ids.entries()) {
      const slot = index + 1;
      const build = builds.find((b) => b.id === id)!;
      expect(build.buildStatus, `build ${slot}`).toBe(slot % 3 === 0 ? 'FAILED' : 'SUCCEEDED');
      const { events } = await logs.send(
        new GetLogEventsCommand({
          logGroupName: build.logs!.groupName,
          logStreamName: build.logs!.streamName,
          startFromHead: true,
        }),
      );
      const own = (events ?? []).map((e) => e.message ?? '').filter((m) => m.startsWith('build '));
      expect(own, `log of build ${slot}`).toEqual(
        [1, 2, 3, 4, 5].map((i) => `build ${slot} line ${i}`),
      );
    }
  });
});
