/** The process entry: `node --import tsx cli/entry.ts …` here, `bin/codebuild-run.js` installed. */
import { main } from './main.js';

// demo and local talk only to the local CodeBuild on this machine: the AWS SDK's notice that its
// 2027 releases need Node 22 says nothing about them, so it is kept out of their output.
if (process.argv[2] === 'demo' || process.argv[2] === 'local') {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
