import type { Build } from '@aws-sdk/client-codebuild';
import { describe, expect, it } from 'vitest';
import { batchSummary, buildSummary, cell } from '../../action/summary.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s));
const ARN =
  'arn:aws:codebuild:eu-west-1:123456789012:build/app:0b1c2d3e-0000-4000-8000-000000000001';

const failed: Build = {
  id: 'app:0b1c2d3e-0000-4000-8000-000000000001',
  arn: ARN,
  projectName: 'app',
  buildNumber: 42,
  buildStatus: 'FAILED',
  startTime: at(0),
  endTime: at(40),
  logs: { groupName: '/aws/codebuild/app', streamName: '0b1c2d3e-0000-4000-8000-000000000001' },
  phases: [
    { phaseType: 'SUBMITTED', phaseStatus: 'SUCCEEDED', durationInSeconds: 0 },
    { phaseType: 'INSTALL', phaseStatus: 'SUCCEEDED', durationInSeconds: 12 },
    {
      phaseType: 'BUILD',
      phaseStatus: 'FAILED',
      durationInSeconds: 25,
      contexts: [
        {
          statusCode: 'COMMAND_EXECUTION_ERROR',
          message: 'Error while executing command: make test. Reason: exit status 2',
        },
      ],
    },
    { phaseType: 'COMPLETED' },
  ],
  exportedEnvironmentVariables: [],
};

describe('buildSummary', () => {
  it('shows status, why, links, duration and each phase with its duration', () => {
    const markdown = buildSummary({
      build: failed,
      description: 'org/app at abc (the pull request head)',
      exported: {},
      secretNames: new Set(),
      runUrl: 'https://github.com/org/app/actions/runs/1',
    });
    expect(markdown).toContain('### ❌ CodeBuild <code>app</code> #42: FAILED');
    expect(markdown).toContain('**BUILD failed: make test exited 2 after 25s**');
    expect(markdown).toContain(
      '| Build | [app:0b1c2d3e-0000-4000-8000-000000000001](https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/123456789012/projects/app/build/app%3A0b1c2d3e-0000-4000-8000-000000000001/?region=eu-west-1) |',
    );
    expect(markdown).toMatch(
      /\| Log \| \[CloudWatch Logs\]\(https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=eu-west-1#logsV2:log-groups\/log-group\/\$252Faws\$252Fcodebuild\$252Fapp\/log-events\/0b1c2d3e/,
    );
    expect(markdown).toContain('| Duration | 40s |');
    expect(markdown).toContain('| Failed phase | <code>BUILD</code> |');
    expect(markdown).toContain('| INSTALL | ✅ SUCCEEDED | 12s |');
    expect(markdown).toContain(
      '| BUILD | ❌ FAILED Error while executing command: make test. Reason: exit status 2 | 25s |',
    );
    expect(markdown).not.toContain('COMPLETED');
    expect(markdown).toContain(
      '| Workflow run | [this run](https://github.com/org/app/actions/runs/1) |',
    );
  });

  it('lists exported variables, never showing a secret one', () => {
    const markdown = buildSummary({
      build: { ...failed, buildStatus: 'SUCCEEDED', phases: [] },
      description: 'x',
      exported: { TAG: 'v1|2', TOKEN_OUT: 's3cr3t' },
      secretNames: new Set(['TOKEN_OUT']),
    });
    expect(markdown).toContain('### ✅ CodeBuild');
    expect(markdown).toContain('| <code>TAG</code> | <code>v1&#124;2</code> |');
    expect(markdown).toContain('| <code>TOKEN_OUT</code> | *(secret, masked)* |');
    expect(markdown).not.toContain('s3cr3t');
  });
});

describe('batchSummary', () => {
  it('has a row per member with its status, duration, reason and links', () => {
    const markdown = batchSummary({
      batch: {
        id: 'app:batch-1',
        arn: 'arn:aws:codebuild:eu-west-1:123456789012:build-batch/app:batch-1',
        projectName: 'app',
        buildBatchNumber: 7,
        buildBatchStatus: 'FAILED',
        startTime: at(0),
        endTime: at(65),
      },
      members: [
        {
          identifier: 'linux',
          build: { ...failed, buildStatus: 'SUCCEEDED', phases: [] },
          status: 'SUCCEEDED',
        },
        { identifier: 'windows', build: failed, status: 'FAILED' },
        { identifier: 'mac', build: undefined, status: undefined },
      ],
      description: 'x',
      exported: { linux: { TAG: 'l' } },
      secretNames: new Set(),
    });
    expect(markdown).toContain('### ❌ CodeBuild <code>app</code> batch #7: FAILED');
    expect(markdown).toContain('/projects/app/batch/app%3Abatch-1/?region=eu-west-1');
    expect(markdown).toContain('| Duration | 1m05s |');
    expect(markdown).toMatch(/\| linux \| ✅ SUCCEEDED \| 40s \| {2}\| \[build\]/);
    expect(markdown).toMatch(
      /\| windows \| ❌ FAILED \| 40s \| BUILD failed: make test exited 2 after 25s \| \[build\]/,
    );
    expect(markdown).toContain('| mac | ❔ not started |  |  |  |');
    expect(markdown).toContain('#### Exported variables of <code>linux</code>');
  });
});

describe('cell', () => {
  it('keeps a value on one line, with no table break and no HTML', () => {
    expect(cell('a|b\n<script>&')).toBe('a&#124;b &lt;script&gt;&amp;');
  });
});
