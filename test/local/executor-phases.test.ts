import { afterEach, describe, expect, it } from 'vitest';
import { removeTempDirs, runBuild, yaml } from './executor-harness.js';

afterEach(removeTempDirs);

const ALL_PHASES = [
  'SUBMITTED',
  'QUEUED',
  'PROVISIONING',
  'DOWNLOAD_SOURCE',
  'INSTALL',
  'PRE_BUILD',
  'BUILD',
  'POST_BUILD',
  'UPLOAD_ARTIFACTS',
  'FINALIZING',
  'COMPLETED',
];

describe('executeBuild: phases and transitions', () => {
  it("reports every phase in CodeBuild's order, those the buildspec leaves out succeeding", async () => {
    const run = await runBuild(yaml('version: 0.2', 'phases:', '  build: { commands: [echo hi] }'));
    expect(run.result.buildStatus).toBe('SUCCEEDED');
    expect(run.phaseTypes()).toEqual(ALL_PHASES);
    for (const phase of run.result.phases.slice(0, -1)) {
      expect(phase).toMatchObject({ phaseStatus: 'SUCCEEDED', durationInSeconds: 0 });
      expect(phase.endTime).toBeGreaterThanOrEqual(phase.startTime);
    }
    expect(run.phase('COMPLETED')).toEqual({
      phaseType: 'COMPLETED',
      startTime: expect.any(Number),
    });
    expect(run.phase('PRE_BUILD')?.contexts).toEqual([{ statusCode: '', message: '' }]);
    // Callers see each phase start, in order, the running one without a status.
    expect(run.transitions).toEqual(ALL_PHASES);
    const atBuild = run.snapshots[run.transitions.indexOf('BUILD')]!;
    expect(atBuild.at(-1)).toEqual({ phaseType: 'BUILD', startTime: expect.any(Number) });
    expect(atBuild.at(-2)?.phaseStatus).toBe('SUCCEEDED');
  });

  it("writes CodeBuild's agent lines", async () => {
    const { logs, messages } = await runBuild(
      yaml('version: 0.2', 'phases:', '  build:', '    commands: ["echo made; exit 2"]'),
    );
    expect(logs).toContainEqual(
      expect.stringMatching(
        /^\[Container\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} Entering phase BUILD$/,
      ),
    );
    const from = messages.indexOf('Entering phase BUILD');
    expect(messages.slice(from, from + 6)).toEqual([
      'Entering phase BUILD',
      'Running command echo made; exit 2',
      'made',
      'Command did not exit successfully echo made; exit 2 exit status 2',
      'Phase complete: BUILD State: FAILED',
      'Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: echo made; exit 2. Reason: exit status 2',
    ]);
  });

  it('ends commands at the first failure, still runs finally, and fails the phase', async () => {
    const { result, phase, messages } = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands: [echo one, make-believe-tool --flag, echo skipped]',
        '    finally: [echo cleanup-1, echo cleanup-2]',
      ),
    );
    expect(messages).toContain('one');
    expect(messages).not.toContain('skipped');
    expect(messages).toEqual(expect.arrayContaining(['cleanup-1', 'cleanup-2']));
    expect(result.buildStatus).toBe('FAILED');
    expect(phase('BUILD')).toMatchObject({
      phaseStatus: 'FAILED',
      contexts: [
        {
          statusCode: 'COMMAND_EXECUTION_ERROR',
          message:
            'Error while executing command: make-believe-tool --flag. Reason: exit status 127',
        },
      ],
    });
  });

  it('fails the phase when only a finally command fails', async () => {
    const { result, phase } = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands: [true]',
        '    finally: [false, true]',
      ),
    );
    expect(result.buildStatus).toBe('FAILED');
    expect(phase('BUILD')?.contexts?.[0]?.message).toBe(
      'Error while executing command: false. Reason: exit status 1',
    );
  });

  it.each([
    ['install', 'INSTALL'],
    ['pre_build', 'PRE_BUILD'],
  ])('skips to FINALIZING when %s fails', async (name, type) => {
    const run = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        `  ${name}: { commands: [false] }`,
        '  build: { commands: [echo build-ran] }',
        '  post_build: { commands: [echo post-ran] }',
        'artifacts: { files: ["**/*"] }',
      ),
    );
    expect(run.result.buildStatus).toBe('FAILED');
    const upTo = ALL_PHASES.slice(0, ALL_PHASES.indexOf(type) + 1);
    expect(run.phaseTypes()).toEqual([...upTo, 'FINALIZING', 'COMPLETED']);
    expect(run.phase(type)?.phaseStatus).toBe('FAILED');
    expect(run.phase('FINALIZING')?.phaseStatus).toBe('SUCCEEDED');
    expect(run.messages).not.toContain('build-ran');
    expect(run.result.artifactsDir).toBeNull();
  });

  it('still runs POST_BUILD and UPLOAD_ARTIFACTS when BUILD fails; CODEBUILD_BUILD_SUCCEEDING turns 0', async () => {
    const run = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  install: { commands: [echo "install succeeding=$CODEBUILD_BUILD_SUCCEEDING"] }',
        '  build: { commands: [echo out > out.txt, false] }',
        '  post_build: { commands: [echo "post succeeding=$CODEBUILD_BUILD_SUCCEEDING"] }',
        'artifacts: { files: [out.txt] }',
      ),
    );
    expect(run.phaseTypes()).toEqual(ALL_PHASES);
    expect(run.phase('BUILD')?.phaseStatus).toBe('FAILED');
    expect(run.phase('POST_BUILD')?.phaseStatus).toBe('SUCCEEDED');
    expect(run.phase('UPLOAD_ARTIFACTS')?.phaseStatus).toBe('SUCCEEDED');
    expect(run.messages).toEqual(
      expect.arrayContaining(['install succeeding=1', 'post succeeding=0']),
    );
    expect(run.result.buildStatus).toBe('FAILED');
    expect(run.result.artifactsDir).not.toBeNull();
  });

  it('on-failure ABORT skips every remaining phase', async () => {
    const run = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  build: { on-failure: ABORT, commands: [false] }',
        '  post_build: { commands: [echo post-ran] }',
        'artifacts: { files: ["**/*"] }',
      ),
    );
    expect(run.phaseTypes()).toEqual([...ALL_PHASES.slice(0, 7), 'FINALIZING', 'COMPLETED']);
    expect(run.messages).not.toContain('post-ran');
    expect(run.result.buildStatus).toBe('FAILED');
  });

  it('on-failure CONTINUE goes on to the next phase, and the build still fails', async () => {
    const run = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  install: { on-failure: CONTINUE, commands: [false] }',
        '  build: { commands: [echo "build-ran succeeding=$CODEBUILD_BUILD_SUCCEEDING"] }',
      ),
    );
    expect(run.phaseTypes()).toEqual(ALL_PHASES);
    expect(run.phase('INSTALL')?.phaseStatus).toBe('FAILED');
    expect(run.phase('BUILD')?.phaseStatus).toBe('SUCCEEDED');
    expect(run.messages).toContain('build-ran succeeding=0');
    expect(run.result.buildStatus).toBe('FAILED');
  });

  it('on-failure RETRY-<n> runs the phase again, finally included, until it succeeds', async () => {
    const run = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  build:',
        '    on-failure: RETRY-3',
        '    commands:',
        '      - echo try >> tries.txt',
        '      - test "$(wc -l < tries.txt)" -ge 3',
        '    finally: [echo finally-ran]',
      ),
    );
    expect(run.result.buildStatus).toBe('SUCCEEDED');
    expect(run.messages.filter((m) => m === 'finally-ran')).toHaveLength(3);
    expect(run.messages.filter((m) => m.startsWith('Phase BUILD failed, retrying'))).toEqual([
      'Phase BUILD failed, retrying it (retry 1 of 3)',
      'Phase BUILD failed, retrying it (retry 2 of 3)',
    ]);
    expect(run.phase('BUILD')?.phaseStatus).toBe('SUCCEEDED');
  });

  it('on-failure RETRY gives up after its retries and RETRY-<n>-<regex> only retries matching errors', async () => {
    const exhausted = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  build: { on-failure: RETRY-2, commands: [echo attempt, false] }',
      ),
    );
    expect(exhausted.messages.filter((m) => m === 'attempt')).toHaveLength(3);
    expect(exhausted.phase('BUILD')?.phaseStatus).toBe('FAILED');
    expect(exhausted.phaseTypes()).toEqual(ALL_PHASES);

    const unmatched = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  build: { on-failure: "RETRY-5-exit status 7", commands: [echo attempt, "(exit 2)"] }',
      ),
    );
    expect(unmatched.messages.filter((m) => m === 'attempt')).toHaveLength(1);
    expect(unmatched.result.buildStatus).toBe('FAILED');
  });

  it('fails DOWNLOAD_SOURCE with YAML_FILE_ERROR when the buildspec cannot be read', async () => {
    const run = await runBuild(
      'version: 0.2\nphases:\n  build:\n    commands: [make]\n    finaly: [echo done]\n',
    );
    expect(run.result.buildStatus).toBe('FAILED');
    expect(run.phaseTypes()).toEqual([...ALL_PHASES.slice(0, 4), 'FINALIZING', 'COMPLETED']);
    expect(run.phase('DOWNLOAD_SOURCE')).toMatchObject({
      phaseStatus: 'FAILED',
      contexts: [
        { statusCode: 'YAML_FILE_ERROR', message: expect.stringContaining('unknown key "finaly"') },
      ],
    });
    expect(run.messages).toContain('Phase complete: DOWNLOAD_SOURCE State: FAILED');
    expect(
      run.messages.some((m) => m.startsWith('Phase context status code: YAML_FILE_ERROR')),
    ).toBe(true);
  });

  it('accepts runtime-versions and run-as with a notice', async () => {
    const run = await runBuild(
      yaml(
        'version: 0.2',
        'run-as: builder',
        'phases:',
        '  install:',
        '    runtime-versions: { nodejs: 20, python: 3.12 }',
        '    commands: [true]',
      ),
    );
    expect(run.result.buildStatus).toBe('SUCCEEDED');
    expect(run.messages).toContain(
      "runtime-versions accepted, not installed locally (the host's tools are used): nodejs 20, python 3.12",
    );
    expect(run.messages).toContain(
      'run-as builder is not applied locally: commands run as the current user',
    );
  });
});
