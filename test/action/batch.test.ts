/**
 * A `batch:` buildspec through the bundle: StartBuildBatch, each member's status and log in the
 * job and its row in the summary, build-id = the batch id, a failing member failing the step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCodeBuildProcess, startLocalCodeBuild } from '../support/local-codebuild.js';
import { groupText, requireBundle, runAction, type Workspace, workspace } from './harness.js';

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

const batchBuildspec = (failOn: string) =>
  [
    'version: 0.2',
    'batch:',
    '  fast-fail: false',
    '  build-list:',
    '    - identifier: linux',
    '      env:',
    '        variables: { TARGET: linux }',
    '    - identifier: windows',
    '      env:',
    '        variables: { TARGET: windows }',
    'env:',
    '  exported-variables: [TARGET_BUILT]',
    'phases:',
    '  build:',
    '    commands:',
    '      - echo "building for $TARGET"',
    `      - '[ "$TARGET" != "${failOn}" ]'`,
    '      - export TARGET_BUILT="$TARGET"',
  ].join('\n');

describe('a batch buildspec', () => {
  it('runs as a batch build: member logs and rows, outputs keyed by member', async () => {
    const result = await runAction(ws, {
      endpoint: local.url,
      inputs: { 'project-name': 'app', source: 'project', buildspec: batchBuildspec('none') },
    });
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('Starting a batch build of CodeBuild project app');
    const id = result.outputs['build-id']!;
    expect(id).toMatch(/^app:[0-9a-f-]{36}$/);
    expect(result.outputs['build-arn']).toContain(`:build-batch/${id}`);
    expect(result.outputs['build-url']).toContain('/batch/app%3A');
    expect(result.outputs['build-status']).toBe('SUCCEEDED');
    expect(JSON.parse(result.outputs['exported-variables']!)).toEqual({
      linux: { TARGET_BUILT: 'linux' },
      windows: { TARGET_BUILT: 'windows' },
    });
    expect(result.stdout).toMatch(/^linux: SUCCEEDED$/m);
    expect(groupText(result.stdout, 'linux: SUCCEEDED')).toContain('building for linux');
    expect(groupText(result.stdout, 'windows: SUCCEEDED')).toContain('building for windows');
    expect(result.summary).toMatch(/\| linux \| ✅ SUCCEEDED \|/);
    expect(result.summary).toMatch(/\| windows \| ✅ SUCCEEDED \|/);
  });

  it('fails when a member fails, naming the member, its phase and why', async () => {
    const result = await runAction(ws, {
      endpoint: local.url,
      inputs: { 'project-name': 'app', source: 'project', buildspec: batchBuildspec('windows') },
    });
    expect(result.code).toBe(1);
    expect(result.outputs['build-status']).toBe('FAILED');
    expect(result.outputs['failed-phase']).toBe('BUILD');
    const annotation = /^::error title=([^:]*)::(.*)$/m.exec(result.stdout);
    expect(annotation?.[1]).toMatch(/^CodeBuild app batch #\d+ FAILED in BUILD$/);
    expect(annotation?.[2]).toContain('windows: BUILD failed');
    expect(result.summary).toMatch(/\| windows \| ❌ FAILED \|/);
    expect(result.summary).toMatch(/\| linux \| ✅ SUCCEEDED \|/);
  });
});
