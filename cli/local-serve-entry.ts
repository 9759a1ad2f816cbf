/**
 * A process of its own for `local serve`, e.g. `node --import tsx cli/local-serve-entry.ts
 * --port 0 --data-dir DIR` (the end-to-end tests start it this way).
 */
import { runLocalServe } from './local-serve.js';

process.exitCode = await runLocalServe(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
