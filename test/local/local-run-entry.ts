/**
 * A process of its own for `local run`, for the tests of exit codes and Ctrl-C:
 * `node --import tsx test/local/local-run-entry.ts --buildspec FILE --src DIR`.
 */
import { runLocalRun } from '../../cli/local-run.js';

process.exitCode = await runLocalRun(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
