/**
 * `codebuild-run serve` as a process of its own, e.g. `node --import tsx server/serve-entry.ts
 * --config FILE --port 0` (the end-to-end tests start the real server this way).
 */
import { runServe } from './main.js';

process.exitCode = await runServe(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
