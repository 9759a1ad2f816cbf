/**
 * The whole path with real processes: the buildspec file is read from a real git server at the
 * pushed sha (RepoFileReader, with the API token), the local CodeBuild runs it as a child process,
 * the clone step fetches the commit with the token CodeBuild resolves from its Secrets Manager,
 * and the statuses land on the recording host API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildWatcher } from '../../src/codebuild/index.js';
import { parseConfig } from '../../src/config.js';
import { systemClock } from '../../src/deps.js';
import { RepoFileReader } from '../../src/git/read-file.js';
import { planBuilds } from '../../src/plan.js';
import { openSqliteStore, type Store } from '../../src/store/index.js';
import { Worker } from '../../src/trigger.js';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { type HttpRecorder, startHttpRecorder } from '../support/http-recorder.js';
import { type LocalCodeBuildProcess, startLocalCodeBuild } from '../support/local-codebuild.js';
import { FAST_TIMING, type LogEntry, pushEvent, recordingLogger, waitFor } from './harness.js';

const TOKEN = 'ghs_local-test-token-0123456789';
const PASSING = [
  'version: 0.2',
  'phases:',
  '  build:',
  '    commands:',
  '      - grep -q "hello from the repository" "$CODEBUILD_SRC_DIR/hello.txt"',
  '      - test "$CODEBUILD_RESOLVED_SOURCE_VERSION" = "$(git -C "$CODEBUILD_SRC_DIR" rev-parse HEAD)"',
  '      - test "$CODEBUILD_WEBHOOK_TRIGGER" = branch/main',
].join('\n');
const FAILING = [
  'version: 0.2',
  'phases:',
  '  build:',
  '    commands:',
  '      - grep -q "this text is not there" "$CODEBUILD_SRC_DIR/hello.txt"',
].join('\n');

let git: GitServer;
let local: LocalCodeBuildProcess;
let host: HttpRecorder;
let dir: string;
let store: Store;

beforeAll(async () => {
  [git, local, host] = await Promise.all([
    startGitServer({ auth: { scheme: 'basic', username: 'x-access-token', token: TOKEN } }),
    startLocalCodeBuild({
      projects: { projects: [{ name: 'demo' }], secrets: { 'ci/git': { token: TOKEN } } },
    }),
    startHttpRecorder(),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'pipeline-local-'));
  store = openSqliteStore({ path: join(dir, 'store.sqlite') });
}, 60_000);

afterAll(async () => {
  store?.close();
  await Promise.all([git?.close(), local?.close(), host?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('with the local CodeBuild and a real git server', () => {
  it('builds the pushed commit with its own buildspec and reports success and failure', async () => {
    const repo = git.createRepo('octo/app.git');
    const good = repo.commit('main', 'passing', {
      'buildspec.yml': PASSING,
      'hello.txt': 'hello from the repository\n',
    });
    const bad = repo.commit('feature', 'failing', {
      'buildspec.yml': FAILING,
      'hello.txt': 'hello from the repository\n',
    });
    const config = parseConfig(
      [
        'hosts:',
        '  gh:',
        '    kind: github',
        `    apiUrl: ${host.url}`,
        '    apiToken: { env: GH_API_TOKEN }',
        '    cloneToken: "ci/git:token"',
        'rules:',
        '  - { name: ci, repos: ["octo/*"], project: demo }',
      ].join('\n'),
      'local test config',
    );
    const logs: LogEntry[] = [];
    const logger = recordingLogger(logs);
    const codebuild = local.codebuild();
    const watcher = new BuildWatcher({
      client: codebuild,
      clock: systemClock,
      logger,
      policy: { floorMs: 50, fastMs: 100, slowMs: 500 },
    });
    for (const [sha, branch] of [
      [good, 'main'],
      [bad, 'feature'],
    ] as const) {
      const event = pushEvent(sha, branch);
      event.repo.cloneUrl = repo.url;
      const result = planBuilds(config, 'gh', event);
      if (!('builds' in result)) throw new Error(result.skipped);
      const [plan] = result.builds;
      store.acceptDelivery({
        hostId: 'gh',
        deliveryId: event.deliveryId,
        receivedAt: Date.now(),
        outcome: 'planned',
        reason: null,
        jobs: [
          {
            id: plan!.planId,
            repo: event.repo.fullName,
            ref: event.ref,
            sha,
            ruleName: plan!.ruleName,
            projectName: plan!.projectName,
            statusContext: plan!.statusContext,
            event,
            plan: plan!,
          },
        ],
      });
    }
    const worker = new Worker({
      config,
      store,
      codebuild,
      watcher,
      secrets: { resolve: async () => TOKEN, invalidate: () => {} },
      repoFiles: new RepoFileReader({ cacheDir: join(dir, 'repos'), logger }),
      fetch: globalThis.fetch,
      clock: systemClock,
      logger,
      buildUrl: (build) => `${local.url}/builds/${encodeURIComponent(build.id!)}`,
      timing: FAST_TIMING,
    });
    worker.start();
    try {
      await waitFor('both final statuses', () => store.stats().jobsByStep.done === 2, 45_000);
    } finally {
      await worker.stop();
      watcher.close();
    }

    const statuses = host.requests.map((r) => ({
      sha: r.path.split('/').at(-1),
      ...(JSON.parse(r.body) as { state: string; description: string; target_url: string }),
    }));
    const of = (sha: string) => statuses.filter((s) => s.sha === sha);
    const failures = logs.filter((l) => l.level === 'error');
    expect(failures, local.output()).toEqual([]);
    expect(of(good).map((s) => s.state)).toEqual(['pending', 'success']);
    expect(of(good)[1]!.description).toMatch(/^BUILD succeeded in \d+s$/);
    expect(of(good)[1]!.target_url).toMatch(new RegExp(`^${local.url}/builds/demo%3A`));
    expect(of(bad).map((s) => s.state)).toEqual(['pending', 'failure']);
    expect(of(bad)[1]!.description).toMatch(/^BUILD failed: grep .* exited 1 after \d+s$/);
    // The token went to git as a header, never into a request body, the store or a log line.
    expect(JSON.stringify(host.requests.map((r) => r.body))).not.toContain(TOKEN);
    expect(JSON.stringify(logs)).not.toContain(TOKEN);
    expect(git.requests.every((r) => r.authScheme === 'basic' || r.status === 401)).toBe(true);
  }, 60_000);
});
