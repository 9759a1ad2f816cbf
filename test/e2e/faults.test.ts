/**
 * Faults on both sides at once: the host's status API answers 5xx or 429 to every other request,
 * and the local CodeBuild (its own process) throttles every third call. Every push still ends
 * with its final status on the host, and one build each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitServer, startGitServer } from '../support/git-server.js';
import {
  type HttpRecorder,
  type RecordedRequest,
  startHttpRecorder,
} from '../support/http-recorder.js';
import { type LocalCodeBuildProcess, startLocalCodeBuild } from '../support/local-codebuild.js';
import {
  deliver,
  deliveryFor,
  eventually,
  type ServeProcess,
  startServe,
  statusOf,
} from './serve.js';

const SECRET = 'e2e-faults-webhook-secret';
const PUSHES = 4;

let git: GitServer;
let codebuild: LocalCodeBuildProcess;
let host: HttpRecorder;
let serve: ServeProcess;
/** The statuses the host took (answered 201), in order. */
const accepted: RecordedRequest[] = [];
let refused = 0;

beforeAll(async () => {
  git = await startGitServer();
  codebuild = await startLocalCodeBuild({
    projects: { projects: [{ name: 'app-ci' }] },
    faults: ['*=throttle-every:3'],
  });
  let calls = 0;
  host = await startHttpRecorder((request) => {
    calls++;
    if (calls % 2 === 1) {
      refused++;
      // Alternately overloaded and rate-limited, as hosts are.
      return calls % 4 === 1
        ? { status: 503, body: { message: 'Service Unavailable' } }
        : { status: 429, headers: { 'retry-after': '1' }, body: { message: 'rate limited' } };
    }
    accepted.push(request);
    return { status: 201, body: {} };
  });
  serve = await startServe({
    config: `hosts:
  gh: { kind: github, apiUrl: "${host.url}", webhookSecret: { env: GH_SECRET }, apiToken: { env: GH_TOKEN } }
rules:
  - { repos: ["acme/app"], project: app-ci, branches: ["push-*"] }
`,
    env: {
      GH_SECRET: SECRET,
      GH_TOKEN: 'e2e-token',
      AWS_ENDPOINT_URL: codebuild.url,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
      CODEBUILD_RUN_TEST_TIMING: JSON.stringify({ retryBaseMs: 300, retryMaxMs: 2000 }),
    },
  });
}, 60_000);

afterAll(async () => {
  await serve?.close();
  await host?.close();
  await codebuild?.close();
  await git?.close();
});

describe('a flaky host API and a throttling CodeBuild', () => {
  it('every push still gets its final status', { timeout: 120_000 }, async () => {
    const repo = git.createRepo('acme/app.git');
    const shas: string[] = [];
    for (let i = 0; i < PUSHES; i++) {
      const branch = `push-${i}`;
      const sha = repo.commit(branch, `Push ${i}`, {
        'buildspec.yml': `version: 0.2\nphases:\n  build:\n    commands:\n      - echo push ${i}\n`,
      });
      shas.push(sha);
      const answer = await deliver(
        serve.url,
        'gh',
        deliveryFor('github', { fullName: 'acme/app', cloneUrl: repo.url, branch, sha }, SECRET),
      );
      expect(answer.status).toBe(202);
    }
    const finalsFor = (sha: string) =>
      accepted
        .filter((r) => r.path.endsWith(`/statuses/${sha}`))
        .map((r) => statusOf('github', r).state)
        .filter((state) => state !== 'pending');
    await eventually(
      () =>
        `final statuses ${JSON.stringify(shas.map(finalsFor))}, ${refused} refused\n${serve.log().slice(-3000)}`,
      () => shas.every((sha) => finalsFor(sha).length > 0),
      100_000,
    );
    for (const sha of shas) expect(finalsFor(sha)).toEqual(['success']);
    // The faults did happen: the host refused about half, CodeBuild throttled.
    expect(refused).toBeGreaterThanOrEqual(PUSHES);
    const metrics = await (await fetch(`${serve.url}/metrics`)).text();
    expect(metrics).toContain(`codebuild_run_builds_started_total{project="app-ci"} ${PUSHES}`);
    expect(metrics).toContain(
      `codebuild_run_statuses_posted_total{host="gh",state="success"} ${PUSHES}`,
    );
    const faults = (await (await fetch(`${codebuild.url}/_local/faults`)).json()) as {
      faults: Array<{ kind: string; calls: number }>;
    };
    const throttled = Math.floor(faults.faults[0]!.calls / 3);
    expect(throttled).toBeGreaterThanOrEqual(3);
  });
});
