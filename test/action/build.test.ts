/**
 * The committed bundle against the local CodeBuild, as the runner runs it: a passing build, a
 * failing one, the log in the job, wait: false and the API cost.
 */
import { BatchGetBuildsCommand } from '@aws-sdk/client-codebuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isComplete,
  type LocalCodeBuildProcess,
  startLocalCodeBuild,
  waitForBuild,
} from '../support/local-codebuild.js';
import {
  apiCalls,
  groupText,
  requireBundle,
  runAction,
  startAction,
  type Workspace,
  workspace,
} from './harness.js';

requireBundle();

const API_KEY = 'api-key-value-4d1e9c';
let local: LocalCodeBuildProcess;
let ws: Workspace;

beforeAll(async () => {
  local = await startLocalCodeBuild({
    projects: {
      projects: [{ name: 'app' }],
      secrets: { 'ci/api': JSON.stringify({ key: API_KEY }) },
    },
  });
  ws = workspace();
});
afterAll(async () => {
  ws?.close();
  await local?.close();
});

const buildspec = (...commands: string[]) =>
  [
    'version: 0.2',
    'env:',
    '  exported-variables: [IMAGE_TAG, EMPTY]',
    'phases:',
    '  build:',
    '    commands:',
    ...commands.map((c) => `      - ${JSON.stringify(c)}`),
  ].join('\n');

describe('the Action bundle', () => {
  it('passes with the build: early and final outputs, exported variables, phases in groups, a summary', async () => {
    const result = await runAction(ws, {
      endpoint: local.url,
      inputs: {
        'project-name': 'app',
        source: 'project',
        buildspec: buildspec(
          'echo compiling',
          "echo '::warning::a build must not write annotations'",
          'export IMAGE_TAG=v1.2.3',
        ),
        'env-vars': 'GREETING=hello world',
      },
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const { outputs } = result;
    expect(outputs['build-id']).toMatch(/^app:[0-9a-f-]{36}$/);
    expect(outputs['build-arn']).toBe(
      `arn:aws:codebuild:us-east-1:000000000000:build/${outputs['build-id']}`,
    );
    expect(outputs['build-url']).toContain('/projects/app/build/app%3A');
    expect(outputs['build-number']).toMatch(/^\d+$/);
    expect(outputs['build-status']).toBe('SUCCEEDED');
    expect(outputs['failed-phase']).toBe('');
    expect(JSON.parse(outputs['exported-variables']!)).toEqual({ IMAGE_TAG: 'v1.2.3', EMPTY: '' });
    expect(outputs.IMAGE_TAG).toBe('v1.2.3');

    // One group per phase, the build's own output inside BUILD.
    for (const phase of ['DOWNLOAD_SOURCE', 'INSTALL', 'PRE_BUILD', 'BUILD', 'POST_BUILD']) {
      expect(result.stdout).toContain(`::group::${phase}\n`);
    }
    expect(groupText(result.stdout, 'BUILD')).toContain('\ncompiling\n');
    // The build's `::warning::` is passed through with workflow commands stopped around it.
    const warning = result.stdout.indexOf('::warning::a build must not');
    const stop = result.stdout.lastIndexOf('::stop-commands::', warning);
    const token = /::stop-commands::([0-9a-f]+)/.exec(result.stdout.slice(stop))?.[1];
    expect(token).toBeDefined();
    expect(result.stdout.slice(stop, warning)).not.toContain(`::${token}::`);

    expect(result.summary).toContain('SUCCEEDED');
    expect(result.summary).toMatch(/\| BUILD \| ✅ SUCCEEDED \| \d+s \|/);
    expect(result.summary).toContain('<code>IMAGE_TAG</code> | <code>v1.2.3</code>');
    expect(result.summary).toContain(outputs['build-url']);
    // The main step cleared what the post step would stop.
    expect(result.state['run-id']).toBe('');
  });

  it('fails with the build: exit 1, an error annotation naming the phase and why, the last lines', async () => {
    const result = await runAction(ws, {
      endpoint: local.url,
      inputs: {
        'project-name': 'app',
        source: 'project',
        buildspec: buildspec('echo about to fail', 'sh -c "exit 3"', 'echo never printed'),
      },
    });
    expect(result.code).toBe(1);
    expect(result.outputs['build-status']).toBe('FAILED');
    expect(result.outputs['failed-phase']).toBe('BUILD');
    const annotation = /^::error title=([^:]*)::(.*)$/m.exec(result.stdout);
    expect(annotation?.[1]).toMatch(/^CodeBuild app #\d+ FAILED in BUILD$/);
    expect(annotation?.[2]).toContain('BUILD failed: sh -c "exit 3" exited 3');
    expect(result.stdout).not.toContain('never printed');
    // The failing phase's last lines, outside the collapsed groups.
    const excerpt = result.stdout.slice(result.stdout.lastIndexOf('::endgroup::'));
    expect(excerpt).toContain('Last lines of the BUILD phase');
    expect(excerpt).toContain('about to fail');
    expect(result.summary).toContain('BUILD failed');
  });

  it('streams the log while the build runs, and reads every line at the end', async () => {
    const running = startAction(ws, {
      endpoint: local.url,
      inputs: {
        'project-name': 'app',
        source: 'project',
        buildspec: buildspec('echo first-tick', 'sleep 4', 'seq 1 12000'),
      },
    });
    await running.waitForStdout(/^first-tick$/m);
    const id = /^Build (app:\S+) started/m.exec(await running.waitForStdout(/started/))?.[1];
    const { builds } = await local.codebuild().send(new BatchGetBuildsCommand({ ids: [id!] }));
    expect(builds?.[0]?.buildStatus).toBe('IN_PROGRESS');
    const result = await running.done;
    expect(result.code).toBe(0);
    // 12,000 lines need two GetLogEvents pages (10,000 each): none lost, none twice, in order.
    const numbers = groupText(result.stdout, 'BUILD')
      .split('\n')
      .filter((line) => /^\d+$/.test(line))
      .map(Number);
    expect(numbers).toEqual(Array.from({ length: 12000 }, (_, i) => i + 1));
    expect(result.stdout).toContain('Phase complete: UPLOAD_ARTIFACTS');
  });

  it('sees the end within seconds with fewer status calls than a poll every 30 s', async () => {
    const result = await runAction(ws, {
      endpoint: local.url,
      inputs: { 'project-name': 'app', source: 'project', buildspec: buildspec('sleep 3') },
    });
    expect(result.code).toBe(0);
    const id = result.outputs['build-id']!;
    const { builds } = await local.codebuild().send(new BatchGetBuildsCommand({ ids: [id] }));
    const endedAt = builds![0]!.endTime!.getTime();
    const exitedAt = Date.now();
    // The build ran ~3 s; the official action looks at 0 s and 30 s, then twice more.
    expect(exitedAt - endedAt).toBeLessThan(6_000);
    const calls = apiCalls(result.stdout);
    expect(calls.StartBuild).toBe(1);
    expect(calls.BatchGetBuilds).toBeGreaterThanOrEqual(1);
    expect(calls.BatchGetBuilds).toBeLessThanOrEqual(2);
  });

  it('with wait: false returns at the start with the early outputs; the build goes on', async () => {
    const result = await runAction(ws, {
      endpoint: local.url,
      inputs: {
        'project-name': 'app',
        source: 'project',
        buildspec: buildspec('sleep 2', 'export IMAGE_TAG=late'),
        wait: 'false',
      },
    });
    expect(result.code).toBe(0);
    const id = result.outputs['build-id']!;
    expect(id).toMatch(/^app:/);
    expect(result.outputs['build-url']).toContain('app%3A');
    expect(result.outputs['build-status']).toBeUndefined();
    expect(result.state['run-id']).toBeUndefined();
    expect(result.summary).toContain('not waited for');
    const { builds } = await local.codebuild().send(new BatchGetBuildsCommand({ ids: [id] }));
    expect(builds?.[0]?.buildStatus).toBe('IN_PROGRESS');
    const ended = await waitForBuild(local.codebuild(), id, isComplete);
    expect(ended.buildStatus).toBe('SUCCEEDED');
  });

  it('masks an exported variable that came from Secrets Manager before it becomes an output', async () => {
    const result = await runAction(ws, {
      endpoint: local.url,
      inputs: {
        'project-name': 'app',
        source: 'project',
        buildspec: [
          'version: 0.2',
          'env:',
          '  secrets-manager:',
          '    API_KEY: ci/api:key',
          '  exported-variables: [API_KEY]',
          'phases:',
          '  build:',
          '    commands:',
          '      - echo using the key',
        ].join('\n'),
      },
    });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.API_KEY).toBe(API_KEY);
    const mask = result.stdout.indexOf(`::add-mask::${API_KEY}`);
    expect(mask).toBeGreaterThan(0);
    // Registered with the runner, and written nowhere else.
    expect(result.stdout.split(API_KEY)).toHaveLength(2);
    expect(result.summary).toContain('*(secret, masked)*');
    expect(result.summary).not.toContain(API_KEY);
  });

  it('with hide-logs, prints no log and still sees the end from the status', async () => {
    const result = await runAction(ws, {
      endpoint: local.url,
      inputs: {
        'project-name': 'app',
        source: 'project',
        buildspec: buildspec('echo hidden-line'),
        'hide-logs': 'true',
      },
    });
    expect(result.code).toBe(0);
    expect(result.outputs['build-status']).toBe('SUCCEEDED');
    expect(result.stdout).not.toContain('hidden-line');
    expect(result.stdout).not.toContain('::group::');
    expect(apiCalls(result.stdout).BatchGetBuilds).toBe(1);
  });

  it('refuses bad inputs before calling AWS, naming each input and the fix', async () => {
    const result = await runAction(ws, {
      endpoint: local.url,
      inputs: {
        'project-name': 'app',
        'timeout-minutes': '3',
        'forward-env': 'GITHUB_TOKEN',
        'env-vars': 'CODEBUILD_X=1',
      },
    });
    expect(result.code).toBe(1);
    const message = /^::error title=codebuild-run could not start the build::(.*)$/m.exec(
      result.stdout,
    )?.[1];
    expect(message).toContain('timeout-minutes');
    expect(message).toContain('forward-env: GITHUB_TOKEN');
    expect(message).toContain('env-vars line 1: CODEBUILD_X');
    expect(result.outputs['build-id']).toBeUndefined();
  });
});
