/**
 * The Action's post step (dist/post.mjs, runs always): when the main step was killed before it
 * saw its build end (a hard cancel, a runner timeout), the build it saved in the step state is
 * stopped here, unless stop-on-cancel is false. A main step that ended normally cleared the state.
 */
import * as core from '@actions/core';
import { systemClock } from '../src/deps.js';
import { awsClients } from './aws-clients.js';
import { describeError, STATE } from './flow.js';
import { type BuildKind, currentStatus, stopRun } from './lifecycle.js';

async function post(): Promise<void> {
  const id = core.getState(STATE.id);
  if (!id) return;
  const kind: BuildKind = core.getState(STATE.kind) === 'batch' ? 'batch' : 'build';
  if (/^(false|False|FALSE)$/.test(core.getInput('stop-on-cancel'))) {
    core.info(
      `The main step did not see ${kind} ${id} end; it may still run (stop-on-cancel: false).`,
    );
    return;
  }
  const { codebuild } = awsClients(process.env);
  const status = await currentStatus(codebuild, kind, id);
  if (status !== 'IN_PROGRESS') return;
  core.info(`The main step ended before ${kind} ${id} did: stopping it.`);
  await stopRun(codebuild, kind, id, { clock: systemClock, deadlineMs: 20_000 });
  core.info(`Stopped ${kind} ${id}.`);
}

try {
  await post();
} catch (error) {
  core.warning(`Could not stop the build: ${describeError(error)}`);
}
process.exit(0);
