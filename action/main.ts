/**
 * The Action's main step (dist/main.mjs): wires the runner, AWS and the clock into runAction.
 * On SIGINT/SIGTERM (a cancelled job) the run is aborted, which stops the build; a second signal,
 * or the deadline below, ends the process at once (the post step stops what is left).
 */
import * as core from '@actions/core';
import { systemClock } from '../src/deps.js';
import { awsClients } from './aws-clients.js';
import { describeError } from './flow.js';
import { coreIo, coreLogger } from './io.js';
import { runAction } from './run.js';

/** The runner sends SIGTERM 7.5 s after SIGINT and kills 2.5 s later. */
const EXIT_AFTER_SIGNAL_MS = 9_000;

const cancel = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (cancel.signal.aborted) process.exit(1);
    cancel.abort(new Error(`the job was cancelled (${signal})`));
    setTimeout(() => process.exit(1), EXIT_AFTER_SIGNAL_MS).unref();
  });
}

let code: number;
try {
  code = await runAction(
    {
      ...awsClients(process.env),
      clock: systemClock,
      logger: coreLogger(),
      io: coreIo,
      input: (name) => core.getInput(name),
      env: process.env,
    },
    cancel.signal,
  );
} catch (error) {
  core.error(describeError(error), { title: 'codebuild-run could not run' });
  code = 1;
}
// Open sockets of the SDK's agents must not hold the step open.
process.exit(code);
