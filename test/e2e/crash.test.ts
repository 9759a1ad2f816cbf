/**
 * kill -9 at five points of the flow. The local CodeBuild runs as its own process (builds go on
 * while the server is dead); the server reaches it as AWS, through AWS_ENDPOINT_URL. After each
 * crash the server restarts on the same data directory, and every accepted delivery ends with
 * exactly one build and exactly one final status.
 */

import { join } from 'node:path';
import { BatchGetBuildsCommand, ListBuildsForProjectCommand } from '@aws-sdk/client-codebuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRASH_POINTS } from '../../server/crash.js';
import { openSqliteStore } from '../../src/store/index.js';
import { type GitRepo, type GitServer, startGitServer } from '../support/git-server.js';
import { type HttpRecorder, startHttpRecorder } from '../support/http-recorder.js';
import { type LocalCodeBuildProcess, startLocalCodeBuild } from '../support/local-codebuild.js';
import {
  deliver,
  deliveryFor,
  eventually,
  type ServeProcess,
  startServe,
  statusOf,
} from './serve.js';

const SECRET = 'e2e-crash-webhook-secret';

let git: GitServer;
let repo: GitRepo;
let codebuild: LocalCodeBuildProcess;
let host: HttpRecorder;
let serve: ServeProcess;

beforeAll(async () => {
  git = await startGitServer();
  repo = git.createRepo('acme/app.git');
  codebuild = await startLocalCodeBuild({ projects: { projects: [{ name: 'app-ci' }] } });
  host = await startHttpRecorder();
  serve = await startServe({
    config: `hosts:
  gh: { kind: github, apiUrl: "${host.url}", webhookSecret: { env: GH_SECRET }, apiToken: { env: GH_TOKEN } }
rules:
  - { repos: ["acme/app"], project: app-ci, branches: ["crash-*"] }
`,
    env: {
      GH_SECRET: SECRET,
      GH_TOKEN: 'e2e-token',
      AWS_ENDPOINT_URL: codebuild.url,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    },
  });
}, 60_000);

afterAll(async () => {
  await serve?.close();
  await host?.close();
  await codebuild?.close();
  await git?.close();
});

/** The builds CodeBuild has for `sha` (routing metadata rides on each build). */
async function buildsFor(sha: string): Promise<number> {
  const client = codebuild.codebuild();
  const { ids = [] } = await client.send(
    new ListBuildsForProjectCommand({ projectName: 'app-ci' }),
  );
  if (ids.length === 0) return 0;
  const { builds = [] } = await client.send(new BatchGetBuildsCommand({ ids }));
  return builds.filter((build) =>
    build.environment?.environmentVariables?.some(
      (v) => v.name === 'CBR_ROUTE_SHA' && v.value === sha,
    ),
  ).length;
}

/** The delivery's job has reached `done`, read from the server's store file. */
function jobDone(hostId: string, deliveryId: string): boolean {
  const store = openSqliteStore({ path: join(serve.dataDir, 'server.sqlite') });
  try {
    const planIds = store.getDelivery(hostId, deliveryId)?.planIds ?? [];
    return planIds.length > 0 && planIds.every((id) => store.getJob(id)?.step === 'done');
  } finally {
    store.close();
  }
}

const statusesFor = (sha: string) =>
  host.requests
    .filter((r) => r.path.endsWith(`/statuses/${sha}`))
    .map((r) => statusOf('github', r));

describe('kill -9 at each point of the flow, then restart', { timeout: 90_000 }, () => {
  it.each(CRASH_POINTS.map((point) => [point]))('%s', async (point) => {
    const branch = `crash-${point}`;
    const sha = repo.commit(branch, `Crash at ${point}`, {
      'buildspec.yml': `version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 2\n      - echo built ${point}\n`,
    });
    await serve.restart({ CODEBUILD_RUN_CRASH_AT: point });
    const delivery = deliveryFor(
      'github',
      { fullName: 'acme/app', cloneUrl: repo.url, branch, sha },
      SECRET,
    );

    let answered: number | null = null;
    try {
      answered = (await deliver(serve.url, 'gh', delivery)).status;
    } catch {
      // Killed before answering (after-accept): the host sees a dropped connection.
    }
    if (point === 'after-accept') expect(answered).toBeNull();
    else expect(answered).toBe(202);
    const died = await Promise.race([
      serve.exited(),
      new Promise((resolve) => setTimeout(() => resolve('still running'), 45_000)),
    ]);
    expect(died, serve.log().slice(-2000)).toBe('SIGKILL');

    // No shortened leases: the restarted server releases the dead one's claims at start.
    await serve.restart({});
    // The host sends it again (it saw no answer, or retries anyway): already accepted.
    const again = await deliver(serve.url, 'gh', delivery);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('duplicate');

    await eventually(
      () =>
        `statuses for ${point}: ${JSON.stringify(statusesFor(sha))}\n${serve.log().slice(-3000)}`,
      () => statusesFor(sha).some((s) => s.state !== 'pending'),
      60_000,
    );
    // Once the job is done, no other status can come for it: count now.
    await eventually(
      () => `job of ${point} not done`,
      () => jobDone('gh', delivery.headers['x-github-delivery']!),
      20_000,
    );
    const finals = statusesFor(sha).filter((s) => s.state !== 'pending');
    expect(finals.map((s) => s.state)).toEqual(['success']);
    expect(await buildsFor(sha)).toBe(1);
  });
});
