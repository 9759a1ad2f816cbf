/**
 * Where a build's source and buildspec come from: a git URL (buildspec.yml read from the pushed
 * version), a local directory, and what a build looks like while its buildspec is still on the way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  type Build,
  StartBuildCommand,
  type StartBuildCommandInput,
  StopBuildCommand,
} from '@aws-sdk/client-codebuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitServer, startGitServer } from '../support/git-server.js';
import {
  isComplete,
  type LocalCodeBuildProcess,
  startLocalCodeBuild,
  waitForBuild,
} from '../support/local-codebuild.js';

let local: LocalCodeBuildProcess;
let git: GitServer;
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'endpoint-sources-'));
  git = await startGitServer();
  local = await startLocalCodeBuild({
    projects: {
      projects: [
        { name: 'repo', source: { type: 'GITHUB', location: 'https://example.invalid/none.git' } },
      ],
    },
  });
});

afterAll(async () => {
  await local?.close();
  await git?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const buildspec = (line: string) =>
  `version: 0.2\nphases:\n  build:\n    commands:\n      - echo "${line} $(cat marker.txt)"\n`;

async function run(input: Partial<StartBuildCommandInput>): Promise<Build> {
  const { build } = await local
    .codebuild()
    .send(new StartBuildCommand({ projectName: 'repo', ...input }));
  return waitForBuild(local.codebuild(), build!.id!, isComplete);
}

async function log(build: Build): Promise<string[]> {
  const { events } = await local.logs().send(
    new GetLogEventsCommand({
      logGroupName: build.logs!.groupName,
      logStreamName: build.logs!.streamName,
      startFromHead: true,
    }),
  );
  return (events ?? []).map((e) => e.message ?? '');
}

describe('sources', () => {
  it('runs buildspec.yml of the git version asked for', async () => {
    const repo = git.createRepo('org/app.git');
    repo.git(['symbolic-ref', 'HEAD', 'refs/heads/main']);
    const first = repo.commit('main', 'first', {
      'buildspec.yml': buildspec('first'),
      'marker.txt': 'one',
    });
    repo.commit('main', 'second', { 'buildspec.yml': buildspec('second'), 'marker.txt': 'two' });
    const atHead = await run({ sourceLocationOverride: repo.url });
    expect(atHead.buildStatus).toBe('SUCCEEDED');
    expect(await log(atHead)).toContain('second two');
    const atFirst = await run({ sourceLocationOverride: repo.url, sourceVersion: first });
    expect(atFirst.sourceVersion).toBe(first);
    expect(await log(atFirst)).toContain('first one');
  });

  it('fails DOWNLOAD_SOURCE with YAML_FILE_ERROR when the source has no buildspec.yml', async () => {
    const repo = git.createRepo('org/empty.git');
    repo.git(['symbolic-ref', 'HEAD', 'refs/heads/main']);
    repo.commit('main', 'no buildspec', { 'README.md': 'hi\n' });
    const build = await run({ sourceLocationOverride: repo.url });
    expect(build.buildStatus).toBe('FAILED');
    const download = build.phases!.find((p) => p.phaseType === 'DOWNLOAD_SOURCE')!;
    expect(download.phaseStatus).toBe('FAILED');
    expect(download.contexts?.[0]?.statusCode).toBe('YAML_FILE_ERROR');
    expect(download.contexts?.[0]?.message).toContain('buildspec.yml is not in');
    expect((await log(build)).join('\n')).toContain('YAML_FILE_ERROR');
  });

  it('copies a local directory as the source, with a buildspec path inside it', async () => {
    writeFileSync(join(scratch, 'marker.txt'), 'from-dir');
    writeFileSync(join(scratch, 'ci.yml'), buildspec('dir'));
    const build = await run({ sourceLocationOverride: scratch, buildspecOverride: 'ci.yml' });
    expect(build.buildStatus).toBe('SUCCEEDED');
    expect(await log(build)).toContain('dir from-dir');
    await expect(run({ sourceLocationOverride: join(scratch, 'missing') })).rejects.toMatchObject({
      name: 'InvalidInputException',
      message: expect.stringContaining('is not a directory'),
    });
  });
});

describe('a build still waiting for its buildspec', () => {
  let hanging: Server;

  beforeAll(async () => {
    // A git server that never answers: the build stays QUEUED until it is stopped.
    hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    hanging.closeAllConnections();
    await new Promise((resolve) => hanging.close(resolve));
  });

  it('has no log stream yet, and stops as STOPPED', async () => {
    const { port } = hanging.address() as AddressInfo;
    const { build } = await local.codebuild().send(
      new StartBuildCommand({
        projectName: 'repo',
        sourceLocationOverride: `http://127.0.0.1:${port}/slow.git`,
      }),
    );
    expect(build?.currentPhase).toBe('QUEUED');
    expect(build?.logs?.streamName).toBeUndefined();
    await expect(
      local.logs().send(
        new GetLogEventsCommand({
          logGroupName: '/aws/codebuild/repo',
          logStreamName: build!.id!.split(':')[1],
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    await local.codebuild().send(new StopBuildCommand({ id: build!.id! }));
    const stopped = await waitForBuild(local.codebuild(), build!.id!, isComplete);
    expect(stopped.buildStatus).toBe('STOPPED');
    expect(stopped.phases!.find((p) => p.phaseType === 'QUEUED')?.phaseStatus).toBe('STOPPED');
  });
});
