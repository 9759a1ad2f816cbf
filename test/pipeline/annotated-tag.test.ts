/**
 * An annotated tag pushed to Bitbucket Data Center: the payload's `toHash` is the tag object, not
 * the commit. With a real git server, the local CodeBuild and a recording host API, the build must
 * check out the commit, and both statuses must land on the commit, where the host shows them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchGetBuildsCommand } from '@aws-sdk/client-codebuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BuildWatcher } from '../../src/codebuild/index.js';
import { parseConfig } from '../../src/config.js';
import { systemClock } from '../../src/deps.js';
import { bitbucketDcDriver } from '../../src/forge/bitbucket-dc/index.js';
import type { PushEvent } from '../../src/forge/types.js';
import { RepoFileReader } from '../../src/git/read-file.js';
import { planBuilds } from '../../src/plan.js';
import { openSqliteStore, type Store } from '../../src/store/index.js';
import { Worker } from '../../src/trigger.js';
import { ownFixtures } from '../support/fixtures.js';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { type HttpRecorder, startHttpRecorder } from '../support/http-recorder.js';
import { type LocalCodeBuildProcess, startLocalCodeBuild } from '../support/local-codebuild.js';
import { FAST_TIMING, type LogEntry, recordingLogger, waitFor } from './harness.js';

const TOKEN = 'bbdc-http-access-token-0123456789';
const BUILDSPEC = [
  'version: 0.2',
  'phases:',
  '  build:',
  '    commands:',
  '      - grep -q "the tagged release" "$CODEBUILD_SRC_DIR/hello.txt"',
  '      - test "$CODEBUILD_RESOLVED_SOURCE_VERSION" = "$(git -C "$CODEBUILD_SRC_DIR" rev-parse HEAD)"',
  '      - test "$CODEBUILD_WEBHOOK_TRIGGER" = tag/v3.0.0',
].join('\n');

let git: GitServer;
let local: LocalCodeBuildProcess;
let host: HttpRecorder;
let dir: string;
let store: Store;

beforeAll(async () => {
  [git, local, host] = await Promise.all([
    startGitServer({ auth: { scheme: 'bearer', token: TOKEN } }),
    startLocalCodeBuild({
      projects: { projects: [{ name: 'demo' }], secrets: { 'ci/git': { token: TOKEN } } },
    }),
    // Bitbucket DC answers a build status with 204.
    startHttpRecorder(() => ({ status: 204 })),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'pipeline-tag-'));
  store = openSqliteStore({ path: join(dir, 'store.sqlite') });
}, 60_000);

afterAll(async () => {
  store?.close();
  await Promise.all([git?.close(), local?.close(), host?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A DC `repo:refs_changed` delivery of tag v3.0.0 whose toHash is `toHash`, parsed by the driver. */
function tagPush(repoUrl: string, toHash: string, deliveryId: string): PushEvent {
  const payload = JSON.parse(
    readFileSync(join(ownFixtures, 'webhooks', 'bitbucket-dc', 'tag-push.json'), 'utf8'),
  );
  payload.changes[0].toHash = toHash;
  for (const link of payload.repository.links.clone) {
    if (link.name === 'http') link.href = repoUrl;
  }
  const parsed = bitbucketDcDriver.parse({
    headers: { 'x-event-key': 'repo:refs_changed', 'x-request-id': deliveryId },
    body: new TextEncoder().encode(JSON.stringify(payload)),
  });
  if (parsed.outcome !== 'push') throw new Error(parsed.reason);
  return parsed.events[0]!;
}

const config = () =>
  parseConfig(
    [
      'hosts:',
      '  dc:',
      '    kind: bitbucket-dc',
      `    apiUrl: ${host.url}`,
      '    apiToken: { env: DC_API_TOKEN }',
      '    cloneToken: "ci/git:token"',
      'rules:',
      '  - { name: release, repos: ["PAY/*"], project: demo, tags: ["v*"] }',
    ].join('\n'),
    'tag test config',
  );

/**
 * Plans and stores the push as the server does (the job's sha is what the host sent), runs a
 * worker until the job is done, and returns its id and the log.
 */
async function runUntilDone(event: PushEvent): Promise<{ jobId: string; logs: LogEntry[] }> {
  const result = planBuilds(config(), 'dc', event);
  if (!('builds' in result)) throw new Error(result.skipped);
  const [plan] = result.builds;
  store.acceptDelivery({
    hostId: 'dc',
    deliveryId: event.deliveryId,
    receivedAt: Date.now(),
    outcome: 'planned',
    reason: null,
    jobs: [
      {
        id: plan!.planId,
        repo: event.repo.fullName,
        ref: event.ref,
        sha: event.sha!,
        ruleName: plan!.ruleName,
        projectName: plan!.projectName,
        statusContext: plan!.statusContext,
        event,
        plan: plan!,
      },
    ],
  });
  const logs: LogEntry[] = [];
  const logger = recordingLogger(logs);
  const codebuild = local.codebuild();
  const watcher = new BuildWatcher({
    client: codebuild,
    clock: systemClock,
    logger,
    policy: { floorMs: 50, fastMs: 100, slowMs: 500 },
  });
  const worker = new Worker({
    config: config(),
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
    await waitFor('the final status', () => store.getJob(plan!.planId)?.step === 'done', 45_000);
  } finally {
    await worker.stop();
    watcher.close();
  }
  return { jobId: plan!.planId, logs };
}

function statuses() {
  return host.requests.map((r) => ({
    path: r.path,
    ...(JSON.parse(r.body) as { state: string; description: string }),
  }));
}

const statusPath = (sha: string) =>
  `/rest/api/latest/projects/PAY/repos/payments-api/commits/${sha}/builds`;

it('builds and reports on the commit of an annotated tag Bitbucket DC sent as the tag object', async () => {
  const repo = git.createRepo('scm/pay/payments-api.git');
  const tagged = repo.commit('main', 'release', {
    'buildspec.yml': BUILDSPEC,
    'hello.txt': 'the tagged release\n',
  });
  // The branch moves on: only the tag says which commit to build.
  repo.commit('main', 'after the release', { 'hello.txt': 'work in progress\n' });
  const tagObject = repo.tag('v3.0.0', tagged, 'Release 3.0.0');
  const event = tagPush(repo.url, tagObject, 'tag-delivery-1');
  expect(event.sha).toBe(tagObject);

  const { jobId, logs } = await runUntilDone(event);

  const failures = logs.filter((l) => l.level === 'error' || l.level === 'warn');
  expect(failures, local.output()).toEqual([]);
  expect(statuses().map((s) => [s.path, s.state])).toEqual([
    [statusPath(tagged), 'INPROGRESS'],
    [statusPath(tagged), 'SUCCESSFUL'],
  ]);
  // The build itself says which commit it is: its clone step and its routing name the commit.
  const { builds } = await local
    .codebuild()
    .send(new BatchGetBuildsCommand({ ids: [store.getJob(jobId)!.buildId!] }));
  const variables = new Map(
    (builds?.[0]?.environment?.environmentVariables ?? []).map((v) => [v.name, v.value]),
  );
  expect(variables.get('CBR_SHA')).toBe(tagged);
  expect(variables.get('CBR_ROUTE_SHA')).toBe(tagged);
}, 60_000);

it('reports a tag the repository no longer has on the pushed sha, saying why', async () => {
  host.requests.length = 0;
  const repo = git.createRepo('scm/pay/gone.git');
  repo.commit('main', 'release', { 'buildspec.yml': BUILDSPEC });
  const gone = 'd'.repeat(40);
  const { logs } = await runUntilDone(tagPush(repo.url, gone, 'tag-delivery-2'));

  const [status, ...more] = statuses();
  expect(more).toEqual([]);
  expect(status!.path).toBe(statusPath(gone));
  expect(status!.state).toBe('FAILED');
  expect(status!.description).toContain(`did not send ${gone}: the tag may have been moved`);
  expect(logs.some((l) => l.message.startsWith('cannot find the commit of the pushed tag'))).toBe(
    true,
  );
}, 60_000);
