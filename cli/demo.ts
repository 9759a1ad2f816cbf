/**
 * `codebuild-run demo`: the whole flow on this machine, with no AWS account and no git host. A
 * temporary repository with a buildspec is served over git's smart HTTP on 127.0.0.1, a
 * stand-in GitHub status API prints the statuses it receives, and `serve` runs in this process
 * with the local CodeBuild. A commit is pushed and a signed GitHub push webhook sent; the
 * timeline shows the delivery's answer, the build, its log and the statuses. Exit 0 when the
 * build succeeded and its statuses arrived, 1 otherwise (or after --timeout), 2 for bad usage.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { noCrash } from '../server/crash.js';
import { createLogger } from '../server/logger.js';
import { type StartedServer, startServer } from '../server/main.js';
import { parseServeOptions } from '../server/serve-options.js';
import {
  BuildFollower,
  type DeliveryAnswer,
  sendPush,
  Timeline,
  untilStopped,
} from './demo/flow.js';
import { startGitHttpServer } from './demo/git-http.js';
import { createDemoRepo, DEMO_BRANCH, DEMO_REPO, demoGitEnv } from './demo/repo.js';
import { type ReceivedStatus, startStatusApi } from './demo/status-api.js';

export interface DemoIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborting it ends a --keep demo as Ctrl-C does (for callers that embed it). */
  signal?: AbortSignal;
}

export const DEMO_USAGE = `Usage: codebuild-run demo [--keep] [--timeout SECONDS]

Runs the whole flow on this machine, with no AWS account and no git host: a temporary git
repository with a buildspec.yml, served over HTTP on 127.0.0.1; a stand-in GitHub status API;
the webhook server with the local CodeBuild in this process. It pushes a commit, sends the
signed GitHub push webhook, and prints what happens: the delivery accepted, the build started,
its log, and the commit statuses (pending, then success with a link to the build's log).

Options:
  --keep             leave everything running afterwards and print the URLs: each further push
                     to the demo repository is delivered like a git host would (Ctrl-C stops)
  --timeout SECONDS  give up after this long (default 60)
  --help             this text
`;

const CONTEXT = 'codebuild-run/demo';

export async function runDemo(argv: string[], io: DemoIo): Promise<number> {
  let keep: boolean;
  let timeoutMs: number;
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        keep: { type: 'boolean', default: false },
        timeout: { type: 'string', default: '60' },
        help: { type: 'boolean', default: false },
      },
    });
    if (values.help) {
      io.stdout.write(DEMO_USAGE);
      return 0;
    }
    keep = values.keep;
    timeoutMs = Number(values.timeout) * 1000;
    if (!(timeoutMs >= 5000 && timeoutMs <= 3_600_000)) {
      throw new Error(`--timeout ${values.timeout}: choose from 5 to 3600 seconds`);
    }
  } catch (error) {
    io.stderr.write(`codebuild-run demo: ${(error as Error).message}\nSee --help.\n`);
    return 2;
  }

  const dir = mkdtempSync(join(tmpdir(), 'codebuild-run-demo-'));
  const timeline = new Timeline(io.stdout);
  const closers: Array<() => Promise<void> | void> = [];
  let succeeded = false;
  try {
    io.stdout.write(
      'codebuild-run demo: a push, its build and its statuses, all on this machine.\n\n',
    );
    const gitEnv = demoGitEnv(io.env, dir);
    const repo = createDemoRepo({
      root: join(dir, 'git'),
      workDir: join(dir, 'work'),
      env: gitEnv,
    });
    const git = await startGitHttpServer({ root: join(dir, 'git'), env: gitEnv });
    closers.push(() => git.close());
    const cloneUrl = `${git.url}/${DEMO_REPO}.git`;
    const first = repo.pushedSha()!;
    timeline.line(
      'repository',
      `${DEMO_REPO}: commit ${first.slice(0, 7)} "${repo.git(['log', '-1', '--format=%s'])}" on ${DEMO_BRANCH}, served at ${cloneUrl}`,
    );

    const token = randomBytes(16).toString('hex');
    const secret = randomBytes(16).toString('hex');
    const statuses: ReceivedStatus[] = [];
    const following = new Set<BuildFollower>();
    const api = await startStatusApi({
      token,
      onStatus: (status) => {
        statuses.push(status);
        // A status names a build: say it started before what its status says.
        for (const follower of following) follower.announce();
        timeline.status(status);
      },
    });
    closers.push(() => api.close());
    timeline.line('status API', `a stand-in for api.github.com at ${api.url}`);

    const configPath = join(dir, 'codebuild-run.yml');
    writeFileSync(configPath, demoConfig(api.url));
    const env = {
      ...io.env,
      ...gitEnv,
      CODEBUILD_RUN_DEMO_WEBHOOK_SECRET: secret,
      CODEBUILD_RUN_DEMO_API_TOKEN: token,
    };
    const logPath = join(dir, 'server.log');
    const options = parseServeOptions(
      ['--config', configPath, '--port', '0', '--data-dir', join(dir, 'data'), '--local'],
      env,
      io.cwd,
    );
    const logger = createLogger({ destination: pino.destination({ dest: logPath, sync: true }) });
    const server: StartedServer = await startServer(options, env, logger, { crash: noCrash });
    closers.push(() => server.close());
    timeline.line(
      'server',
      `codebuild-run serve at ${server.url}, local CodeBuild at ${server.localCodeBuildUrl} (log: ${logPath})`,
    );

    const push = async (before: string | null, after: string, deadline: AbortSignal) => {
      const answer: DeliveryAnswer = await sendPush({
        serverUrl: server.url,
        hostId: 'github',
        secret,
        payload: { repo, cloneUrl, before, after },
        timeline,
      });
      const followers = answer.builds.map((b) => new BuildFollower(server, b.id, timeline));
      for (const follower of followers) following.add(follower);
      try {
        const finals = await Promise.all(followers.map((f) => f.follow(deadline)));
        return finals.length > 0 && finals.every((state) => state === 'success');
      } finally {
        for (const follower of followers) following.delete(follower);
      }
    };

    const deadline = AbortSignal.timeout(timeoutMs);
    succeeded = await push(null, first, deadline);
    const finals = statuses.filter((s) => s.state !== 'pending');
    io.stdout.write(
      succeeded
        ? `\nDone in ${timeline.elapsed()}: the push was verified, planned and built from its commit, and ${finals.length === 1 ? 'its status reported' : 'its statuses reported'} back (pending, then ${finals.map((s) => s.state).join(', ')}).\n`
        : `\nThe build did not succeed: see its log above, and the server's log in ${logPath}.\n`,
    );
    if (!keep) {
      if (succeeded)
        io.stdout.write(
          'Run `codebuild-run demo --keep` to leave it running and try it yourself.\n',
        );
      return succeeded ? 0 : 1;
    }

    io.stdout.write(`
The demo keeps running; Ctrl-C stops it.
  webhook server   ${server.url}  (POST /webhooks/github; GET /metrics, /readyz)
  git repository   ${cloneUrl}
  work tree        ${repo.workDir}
  status API       ${api.url}  (stand-in for api.github.com)
  local CodeBuild  ${server.localCodeBuildUrl}
  config           ${configPath}
Commit and push in the work tree, and the push is delivered as a signed GitHub webhook:
  git -C ${repo.workDir} commit --allow-empty -m "try again" && git -C ${repo.workDir} push
`);
    let last = first;
    await untilStopped(
      io.signal,
      async (stopped) => {
        const now = repo.pushedSha();
        if (now === null || now === last) return;
        const before = last;
        last = now;
        await push(before, now, AbortSignal.any([stopped, AbortSignal.timeout(timeoutMs)]));
      },
      (message) => io.stderr.write(`codebuild-run demo: ${message}\n`),
    );
    return succeeded ? 0 : 1;
  } catch (error) {
    io.stderr.write(`codebuild-run demo: ${(error as Error).message}\n`);
    io.stderr.write(`The demo's files, with the server's log, are kept in ${dir}\n`);
    return 1;
  } finally {
    for (const close of closers.reverse()) await close();
    if (succeeded) rmSync(dir, { recursive: true, force: true });
  }
}

function demoConfig(apiUrl: string): string {
  return `# Written by codebuild-run demo: one GitHub connection (its API is the stand-in) and one rule.
hosts:
  github:
    kind: github
    apiUrl: ${JSON.stringify(apiUrl)}
    webhookSecret: { env: CODEBUILD_RUN_DEMO_WEBHOOK_SECRET }
    apiToken: { env: CODEBUILD_RUN_DEMO_API_TOKEN }
rules:
  - repos: [${DEMO_REPO}]
    branches: [${DEMO_BRANCH}]
    project: demo
    context: ${CONTEXT}
`;
}
