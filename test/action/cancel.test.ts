/**
 * The bundle under a cancelled job (SIGINT, as the runner sends it), a killed main step whose
 * post step must stop the build, and an API that throttles every second call.
 */
import { StopBuildCommand } from '@aws-sdk/client-codebuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isComplete,
  type LocalCodeBuildProcess,
  startLocalCodeBuild,
  waitForBuild,
} from '../support/local-codebuild.js';
import {
  apiCalls,
  requireBundle,
  runAction,
  startAction,
  type Workspace,
  workspace,
} from './harness.js';

requireBundle();

let local: LocalCodeBuildProcess;
let ws: Workspace;

beforeAll(async () => {
  local = await startLocalCodeBuild({ projects: { projects: [{ name: 'app' }] } });
  ws = workspace();
});
afterAll(async () => {
  ws?.close();
  await local?.close();
});

const longBuild =
  'version: 0.2\nphases:\n  build:\n    commands:\n      - echo working\n      - sleep 60\n';

describe('a cancelled job', () => {
  it('stops the build on SIGINT and exits within 10 s', async () => {
    const running = startAction(ws, {
      endpoint: local.url,
      inputs: { 'project-name': 'app', source: 'project', buildspec: longBuild },
    });
    const stdout = await running.waitForStdout(/^working$/m);
    const id = /^Build (app:\S+) started/m.exec(stdout)![1]!;
    const signalledAt = Date.now();
    running.child.kill('SIGINT');
    const result = await running.done;
    expect(result.code).toBe(1);
    expect(running.exitedAt()! - signalledAt).toBeLessThan(10_000);
    expect(result.stdout).toContain(`Stopped build ${id}.`);
    // The build's identity was an output from the start; its result never came.
    expect(result.outputs['build-id']).toBe(id);
    expect(result.outputs['build-url']).toContain(encodeURIComponent(id));
    expect(result.outputs['build-status']).toBeUndefined();
    // Stopped means the post step has nothing left to do.
    expect(result.state['run-id']).toBe('');
    const build = await waitForBuild(local.codebuild(), id, isComplete);
    expect(build.buildStatus).toBe('STOPPED');
  });

  it('leaves the build running on SIGINT with stop-on-cancel: false', async () => {
    const running = startAction(ws, {
      endpoint: local.url,
      inputs: {
        'project-name': 'app',
        source: 'project',
        buildspec: longBuild,
        'stop-on-cancel': 'false',
      },
    });
    const stdout = await running.waitForStdout(/^working$/m);
    const id = /^Build (app:\S+) started/m.exec(stdout)![1]!;
    running.child.kill('SIGINT');
    const result = await running.done;
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('stop-on-cancel: false');
    const build = await waitForBuild(local.codebuild(), id, () => true);
    expect(build.buildStatus).toBe('IN_PROGRESS');
    await local.codebuild().send(new StopBuildCommand({ id }));
  });

  it('has the post step stop a build the killed main step left running', async () => {
    const running = startAction(ws, {
      endpoint: local.url,
      inputs: { 'project-name': 'app', source: 'project', buildspec: longBuild },
    });
    const stdout = await running.waitForStdout(/^working$/m);
    const id = /^Build (app:\S+) started/m.exec(stdout)![1]!;
    running.child.kill('SIGKILL');
    const main = await running.done;
    expect(main.state['run-id']).toBe(id);
    // The runner hands the saved state to the post step as STATE_<name>.
    const post = await runAction(ws, {
      endpoint: local.url,
      entry: 'post',
      inputs: { 'project-name': 'app' },
      env: { 'STATE_run-id': main.state['run-id']!, 'STATE_run-kind': main.state['run-kind']! },
    });
    expect(post.code).toBe(0);
    expect(post.stdout).toContain(`Stopped build ${id}.`);
    const build = await waitForBuild(local.codebuild(), id, isComplete);
    expect(build.buildStatus).toBe('STOPPED');
  });

  it('has the post step do nothing after a main step that saw its build end', async () => {
    const post = await runAction(ws, {
      endpoint: local.url,
      entry: 'post',
      inputs: { 'project-name': 'app' },
      env: { 'STATE_run-id': '', 'STATE_run-kind': 'build' },
    });
    expect(post.code).toBe(0);
    expect(post.stdout).toBe('');
  });
});

describe('a throttling API', () => {
  it('still succeeds when every second call is throttled', async () => {
    await local.setFaults(['*=throttle-every:2']);
    try {
      const result = await runAction(ws, {
        endpoint: local.url,
        inputs: {
          'project-name': 'app',
          source: 'project',
          buildspec:
            'version: 0.2\nenv:\n  exported-variables: [DONE]\nphases:\n  build:\n    commands:\n      - echo throttled-but-fine\n      - export DONE=yes\n',
        },
      });
      expect(result.code, result.stdout).toBe(0);
      expect(result.outputs['build-status']).toBe('SUCCEEDED');
      expect(result.outputs.DONE).toBe('yes');
      expect(result.stdout).toMatch(/^throttled-but-fine$/m);
      expect(result.stdout).toMatch(/throttled/i);
      expect(result.stdout).not.toContain('::error');
      expect(apiCalls(result.stdout).StartBuild).toBeGreaterThanOrEqual(1);
    } finally {
      await local.setFaults([]);
    }
  });
});
