/**
 * The Action beside the official action's approach (aws-actions/aws-codebuild-run-build), on the
 * same local builds, measured (not quoted):
 *   - seconds from the build's end to the step's exit,
 *   - CodeBuild API calls (per build, and per minute of build), GetLogEvents calls per minute,
 *   - time from the process's start to its StartBuild.
 *
 *   npx tsx bench/action.ts      (run `npm run build` first: it runs the committed dist/main.mjs)
 *
 * The official approach is re-implemented below in a few lines: inputs through @actions/core as
 * it reads them, StartBuild, then every 30 s one BatchGetBuilds and one GetLogEvents page; after
 * the end every 15 s until two reads in a row come back empty. It is bundled with the same
 * esbuild, SDK and @actions/core as the Action (its @actions/github and Octokit are left out,
 * which flatters its start-up). Both run against one local CodeBuild (a child process) through a
 * counting proxy per run, and start the same builds: the project's own buildspec, which echoes a
 * line a second for BUILD_SECONDS (8, 25, 50 s), passed as a variable. (Given an inline buildspec,
 * the Action also validates it before the start, which the official action does not: ~50 ms.)
 * The real 30 s interval is used, not a scaled one: the longest official run takes ~95 s and all
 * six runs overlap, so the bench ends in about 100 s (hard limit 170 s).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchGetBuildsCommand } from '@aws-sdk/client-codebuild';
import { build as esbuild } from 'esbuild';
import { requireBundle, startAction, workspace } from '../test/action/harness.js';
import { repoRoot } from '../test/support/fixtures.js';
import { startLocalCodeBuild } from '../test/support/local-codebuild.js';

const BUILD_SECONDS = [8, 25, 50];
const RUN_DEADLINE_MS = 170_000;

/** The official action's loop (code-build.js, waitForBuildEndTime), in its own process. */
const OFFICIAL_APPROACH = `
import * as core from '@actions/core';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
const codeBuild = new CodeBuildClient({});
const logs = new CloudWatchLogsClient({});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const logName = (arn) => {
  const [group, stream] = (arn ?? '').split(':log-group:').pop().split(':log-stream:');
  return group && group !== 'null' && stream !== 'null' ? { group, stream } : {};
};
const wait = 30_000;
const start = await codeBuild.send(new StartBuildCommand({
  projectName: core.getInput('project-name', { required: true }),
  buildspecOverride: core.getInput('buildspec-override') || undefined,
  // env-vars-for-codebuild: the named runner variables, as PLAINTEXT.
  environmentVariablesOverride: core.getInput('env-vars-for-codebuild').split(',').map((n) => n.trim()).filter(Boolean)
    .map((name) => ({ name, value: process.env[name], type: 'PLAINTEXT' })),
}));
let build = start.build;
console.log('build-id=' + build.id); // for the bench, not in the original
let token;
let seqEmpty = 0;
let total = 0;
for (;;) {
  const { group, stream } = logName(build.logs?.cloudWatchLogsArn);
  const [batch, page = {}] = await Promise.all([
    codeBuild.send(new BatchGetBuildsCommand({ ids: [build.id] })),
    group && logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: true, nextToken: token })),
  ]);
  const current = batch.builds[0];
  const events = page.events ?? [];
  if (events.length === 0 && (total > 0 || current.endTime)) seqEmpty++; else seqEmpty = 0;
  total += events.length;
  for (const { message } of events) console.log(message.trimEnd());
  if (current.endTime && seqEmpty >= 2) { build = current; break; }
  await sleep(current.endTime ? wait / 2 : wait);
  token = page.nextForwardToken;
  build = current;
}
if (build.buildStatus !== 'SUCCEEDED') core.setFailed('Build failed');
process.exit(build.buildStatus === 'SUCCEEDED' ? 0 : 1);
`;

interface Call {
  op: string;
  at: number;
}

/** A proxy in front of the local CodeBuild that records each call's operation and time. */
async function countingProxy(
  target: string,
): Promise<{ url: string; calls: Call[]; server: Server }> {
  const calls: Call[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const target_ = String(req.headers['x-amz-target'] ?? '');
      calls.push({ op: target_.slice(target_.indexOf('.') + 1), at: Date.now() });
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers.set(k, v);
      }
      try {
        const answer = await fetch(`${target}${req.url ?? '/'}`, {
          method: req.method ?? 'POST',
          headers,
          body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
        });
        const body = Buffer.from(await answer.arrayBuffer());
        const out: Record<string, string> = {};
        answer.headers.forEach((v, k) => {
          if (k !== 'content-encoding' && k !== 'transfer-encoding') out[k] = v;
        });
        out['content-length'] = String(body.length);
        res.writeHead(answer.status, out).end(body);
      } catch (error) {
        res.writeHead(502).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server };
}

interface Measured {
  approach: 'codebuild-run' | 'official';
  seconds: number;
  spawnedAt: number;
  exitedAt: number;
  code: number | null;
  calls: Call[];
  buildId?: string;
}

/** The project's own buildspec (the usual case): it runs for BUILD_SECONDS, a variable. */
const PROJECT_BUILDSPEC = [
  'version: 0.2',
  'phases:',
  '  build:',
  '    commands:',
  `      - 'for i in $(seq 1 "$BUILD_SECONDS"); do echo "tick $i"; sleep 1; done'`,
].join('\n');

async function main(): Promise<void> {
  requireBundle();
  const deadline = setTimeout(() => {
    console.error(`bench/action.ts: not done after ${RUN_DEADLINE_MS / 1000} s; giving up`);
    process.exit(1);
  }, RUN_DEADLINE_MS);
  deadline.unref();

  const scratch = mkdtempSync(join(tmpdir(), 'bench-action-'));
  const official = join(scratch, 'official.mjs');
  await esbuild({
    stdin: { contents: OFFICIAL_APPROACH, resolveDir: repoRoot, loader: 'js' },
    outfile: official,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    mainFields: ['module', 'main'],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });

  const local = await startLocalCodeBuild({
    projects: {
      projects: [{ name: 'bench', source: { type: 'NO_SOURCE', buildspec: PROJECT_BUILDSPEC } }],
    },
  });
  const proxies: Awaited<ReturnType<typeof countingProxy>>[] = [];
  try {
    const runs: Promise<Measured>[] = [];
    for (const seconds of BUILD_SECONDS) {
      for (const approach of ['codebuild-run', 'official'] as const) {
        const proxy = await countingProxy(local.url);
        proxies.push(proxy);
        runs.push(
          approach === 'codebuild-run'
            ? runOurs(proxy, seconds)
            : runOfficial(official, proxy, seconds, scratch),
        );
        // Staggered, so start-up times are not measured on a machine busy starting the others.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
    const results = await Promise.all(runs);
    const codebuild = local.codebuild();
    const rows: string[][] = [];
    const ratios: Record<string, number[]> = { exit: [], calls: [], start: [] };
    for (const seconds of BUILD_SECONDS) {
      const pair = results.filter((r) => r.seconds === seconds);
      const figures = [];
      for (const run of pair) {
        const start = run.calls.find((c) => c.op === 'StartBuild');
        const ids = run.buildId ? [run.buildId] : [];
        const { builds } = ids.length
          ? await codebuild.send(new BatchGetBuildsCommand({ ids }))
          : { builds: [] };
        const build = builds?.[0];
        const startMs = build?.startTime?.getTime() ?? Number.NaN;
        const endMs = build?.endTime?.getTime() ?? Number.NaN;
        const buildMinutes = (endMs - startMs) / 60_000;
        const stepMinutes = (run.exitedAt - run.spawnedAt) / 60_000;
        const cb = run.calls.filter((c) => !c.op.startsWith('GetLogEvents')).length;
        const logs = run.calls.filter((c) => c.op === 'GetLogEvents').length;
        const fig = {
          startToStartBuild: ((start?.at ?? Number.NaN) - run.spawnedAt) / 1000,
          endToExit: (run.exitedAt - endMs) / 1000,
          codebuildCalls: cb,
          perBuildMinute: cb / buildMinutes,
          logsPerMinute: logs / stepMinutes,
        };
        figures.push(fig);
        rows.push([
          `${seconds} s`,
          run.approach,
          run.code === 0 ? 'ok' : `exit ${run.code}`,
          fig.startToStartBuild.toFixed(2),
          fig.endToExit.toFixed(1),
          String(cb),
          fig.perBuildMinute.toFixed(1),
          fig.logsPerMinute.toFixed(0),
        ]);
      }
      const [ours, theirs] = figures as [(typeof figures)[0], (typeof figures)[0]];
      ratios.exit!.push(theirs.endToExit / ours.endToExit);
      ratios.calls!.push(theirs.codebuildCalls / ours.codebuildCalls);
      ratios.start!.push(theirs.startToStartBuild / ours.startToStartBuild);
    }
    const header = [
      'build',
      'approach',
      'result',
      'start→StartBuild s',
      'end→exit s',
      'CodeBuild calls',
      'per build-min',
      'GetLogEvents/min',
    ];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const row of rows) console.log(line(row));
    const fmt = (values: number[]) => values.map((v) => `${v.toFixed(1)}x`).join(' / ');
    console.log('');
    console.log(`official ÷ codebuild-run, per build (${BUILD_SECONDS.join(' s / ')} s):`);
    console.log(`  end→exit          ${fmt(ratios.exit!)}`);
    console.log(`  CodeBuild calls   ${fmt(ratios.calls!)}`);
    console.log(`  start→StartBuild  ${fmt(ratios.start!)}`);
    console.log('\nAs Markdown (docs/action.md):\n');
    console.log(
      '| build | approach | start→StartBuild | build end→step exit | CodeBuild calls | per build-minute |',
    );
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const row of rows) {
      console.log(`| ${row[0]} | ${row[1]} | ${row[3]} s | ${row[4]} s | ${row[5]} | ${row[6]} |`);
    }
    console.log(
      '\nCodeBuild calls include StartBuild. Real intervals (30 s), no scaling. GetLogEvents is',
    );
    console.log(
      "CloudWatch Logs' quota, not CodeBuild's: codebuild-run reads the log every 2 s to show it live.",
    );
  } finally {
    for (const proxy of proxies) proxy.server.close();
    await local.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function runOurs(proxy: { url: string; calls: Call[] }, seconds: number): Promise<Measured> {
  // Each run needs its own output files: a workspace of its own.
  const own = workspace();
  const spawnedAt = Date.now();
  const running = startAction(own, {
    endpoint: proxy.url,
    inputs: { 'project-name': 'bench', source: 'project', 'env-vars': `BUILD_SECONDS=${seconds}` },
    timeoutMs: RUN_DEADLINE_MS,
  });
  const result = await running.done;
  own.close();
  return {
    approach: 'codebuild-run',
    seconds,
    spawnedAt,
    exitedAt: running.exitedAt() ?? Date.now(),
    code: result.code,
    calls: proxy.calls,
    buildId: result.outputs['build-id'],
  };
}

function runOfficial(
  script: string,
  proxy: { url: string; calls: Call[] },
  seconds: number,
  cwd: string,
): Promise<Measured> {
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [script], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: cwd,
      AWS_ENDPOINT_URL: proxy.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
      AWS_SECRET_ACCESS_KEY: 'local-test-secret',
      'INPUT_PROJECT-NAME': 'bench',
      'INPUT_ENV-VARS-FOR-CODEBUILD': 'BUILD_SECONDS',
      BUILD_SECONDS: String(seconds),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.resume();
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_DEADLINE_MS);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      const exitedAt = Date.now();
      resolve({
        approach: 'official',
        seconds,
        spawnedAt,
        exitedAt,
        code,
        calls: proxy.calls,
        buildId: /^build-id=(\S+)$/m.exec(stdout)?.[1],
      });
    });
  });
}

await main();
