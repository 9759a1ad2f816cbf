/** The process entry: `node --import tsx cli/entry.ts …` here, `bin/codebuild-run.js` installed. */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
