import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeTempDirs, runBuild, yaml } from './executor-harness.js';

afterEach(removeTempDirs);

/** Running and not a zombie (a reaped or zombie process no longer runs anything). */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat !== null && !/^\d+ \(.*\) Z /.test(stat);
}

async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    if (!(await isRunning(pid))) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !(await isRunning(pid));
}

describe('executeBuild: timeout and stop', () => {
  it('times out the running phase and the build, then finalizes', async () => {
    const started = Date.now();
    const run = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands: [sleep 30]',
        '    finally: [echo finally-ran]',
        '  post_build: { commands: [echo post-ran] }',
      ),
      { timeoutMs: 1500 },
    );
    expect(Date.now() - started).toBeLessThan(6000);
    expect(run.result.buildStatus).toBe('TIMED_OUT');
    expect(run.phaseTypes()).toEqual([
      'SUBMITTED',
      'QUEUED',
      'PROVISIONING',
      'DOWNLOAD_SOURCE',
      'INSTALL',
      'PRE_BUILD',
      'BUILD',
      'FINALIZING',
      'COMPLETED',
    ]);
    const build = run.phase('BUILD')!;
    expect(build).toMatchObject({
      phaseStatus: 'TIMED_OUT',
      contexts: [
        { statusCode: 'BUILD_TIMED_OUT', message: 'Build has timed out after 1.5 second(s)' },
      ],
    });
    const sinceStart = build.endTime! - run.phase('SUBMITTED')!.startTime;
    expect(sinceStart).toBeGreaterThanOrEqual(1500);
    expect(sinceStart).toBeLessThan(4000);
    expect(build.durationInSeconds).toBe(Math.floor((build.endTime! - build.startTime) / 1000));
    expect(run.messages).toContain('Phase complete: BUILD State: TIMED_OUT');
    expect(run.messages).not.toContain('post-ran');
    expect(run.result.exportedVariables).toEqual([]);
  });

  it('stops on the signal: the whole process group ends, background jobs included', async () => {
    const stop = new AbortController();
    const started = Date.now();
    const run = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands:',
        '      - sleep 30 & echo $! > background.pid',
        '      - sleep 30',
        '    finally: [echo finally-ran]',
      ),
      {
        signal: stop.signal,
        onLog: (line) => {
          // Not at once: the stop lands while the command is being handed to the shell.
          if (line.endsWith('Running command sleep 30')) setImmediate(() => stop.abort());
        },
      },
    );
    expect(Date.now() - started).toBeLessThan(6000);
    expect(run.result.buildStatus).toBe('STOPPED');
    expect(run.phase('BUILD')).toMatchObject({
      phaseStatus: 'STOPPED',
      contexts: [{ statusCode: 'BUILD_STOPPED', message: 'Build was stopped' }],
    });
    expect(run.phaseTypes().slice(-3)).toEqual(['BUILD', 'FINALIZING', 'COMPLETED']);
    const background = Number(await readFile(join(run.workRoot, 'src', 'background.pid'), 'utf8'));
    expect(background).toBeGreaterThan(1);
    expect(await waitUntilGone(background, 3000)).toBe(true);
  });

  it('kills a command that ignores SIGTERM after the grace period', async () => {
    const stop = new AbortController();
    const started = Date.now();
    const run = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  build:',
        `    commands: ["trap '' TERM; echo ready; sleep 30"]`,
      ),
      {
        signal: stop.signal,
        onLog: (line) => {
          if (line === 'ready') stop.abort();
        },
      },
    );
    expect(run.result.buildStatus).toBe('STOPPED');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(6000);
  });

  it('runs nothing when stopped before it starts', async () => {
    const stop = new AbortController();
    stop.abort();
    const run = await runBuild(
      yaml('version: 0.2', 'phases:', '  build: { commands: [echo ran] }'),
      {
        signal: stop.signal,
      },
    );
    expect(run.result.buildStatus).toBe('STOPPED');
    expect(run.messages).not.toContain('ran');
    expect(run.phase('PROVISIONING')?.phaseStatus).toBe('STOPPED');
  });
});
