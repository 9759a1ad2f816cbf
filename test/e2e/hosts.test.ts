/**
 * The real `serve` process with the local CodeBuild in it, a git server holding the repository,
 * and a recording HTTP server as each host's API: a push from GitHub, GitLab, Bitbucket Cloud and
 * Gitea each builds the pushed commit and the host receives pending, then success (or failure
 * for a failing buildspec), with a link to the build.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { type HttpRecorder, startHttpRecorder } from '../support/http-recorder.js';
import {
  deliver,
  deliveryFor,
  eventually,
  type HostKind,
  type ServeProcess,
  startServe,
  statusOf,
} from './serve.js';

const HOSTS: Array<{ id: string; kind: HostKind; apiPath: string; statusPath: RegExp }> = [
  {
    id: 'gh',
    kind: 'github',
    apiPath: '',
    statusPath: /^\/repos\/acme\/app\/statuses\/[0-9a-f]{40}$/,
  },
  {
    id: 'gl',
    kind: 'gitlab',
    apiPath: '/api/v4',
    statusPath: /^\/api\/v4\/projects\/\d+\/statuses\/[0-9a-f]{40}$/,
  },
  {
    id: 'bb',
    kind: 'bitbucket',
    apiPath: '',
    statusPath: /^\/2\.0\/repositories\/acme\/app\/commit\/[0-9a-f]{40}\/statuses\/build$/,
  },
  {
    id: 'gt',
    kind: 'gitea',
    apiPath: '/api/v1',
    statusPath: /^\/api\/v1\/repos\/acme\/app\/statuses\/[0-9a-f]{40}$/,
  },
];
const secretOf = (id: string) => `e2e-${id}-webhook-secret`;

let git: GitServer;
let serve: ServeProcess;
const recorders = new Map<string, HttpRecorder>();
let good: string;
let bad: string;
let cloneUrl: string;

beforeAll(async () => {
  git = await startGitServer();
  const repo = git.createRepo('acme/app.git');
  good = repo.commit('main', 'A passing build', {
    'buildspec.yml':
      'version: 0.2\nphases:\n  build:\n    commands:\n      - test "$(cat marker)" = main-commit\n',
    marker: 'main-commit\n',
  });
  bad = repo.commit('broken', 'A failing build', {
    'buildspec.yml': 'version: 0.2\nphases:\n  build:\n    commands:\n      - exit 3\n',
  });
  cloneUrl = repo.url;
  for (const host of HOSTS) recorders.set(host.id, await startHttpRecorder());
  const hosts = HOSTS.map(
    (h) =>
      `  ${h.id}: { kind: ${h.kind}, apiUrl: "${recorders.get(h.id)!.url}${h.apiPath}", webhookSecret: { env: SECRET_${h.id} }, apiToken: { env: TOKEN_${h.id} }${h.kind === 'gitea' ? ', account: ci-bot' : ''} }`,
  );
  serve = await startServe({
    config: `hosts:\n${hosts.join('\n')}\nrules:\n  - { repos: ["acme/app"], project: app-ci, branches: [main, broken] }\n`,
    env: Object.fromEntries(
      HOSTS.flatMap((h) => [
        [`SECRET_${h.id}`, secretOf(h.id)],
        [`TOKEN_${h.id}`, `token-${h.id}`],
      ]),
    ),
    args: ['--local', '--log-level', 'debug'],
  });
});

afterAll(async () => {
  await serve?.close();
  for (const recorder of recorders.values()) await recorder.close();
  await git?.close();
});

describe.each(HOSTS)(
  'a $kind push through the real server',
  { timeout: 60_000 },
  ({ id, kind, statusPath }) => {
    it('builds the pushed commit; the host gets pending, then success with the build link', async () => {
      const recorder = recorders.get(id)!;
      const before = recorder.requests.length;
      const answer = await deliver(
        serve.url,
        id,
        deliveryFor(
          kind,
          { fullName: 'acme/app', cloneUrl, branch: 'main', sha: good },
          secretOf(id),
        ),
      );
      expect(answer.status).toBe(202);
      const statuses = () => recorder.requests.slice(before).map((r) => statusOf(kind, r));
      await eventually(
        () => `${kind} statuses ${JSON.stringify(statuses())}\n${serve.log().slice(-3000)}`,
        () => statuses().some((s) => s.state !== 'pending'),
        40_000,
      );
      const seen = statuses();
      expect(seen.map((s) => s.state)).toEqual(['pending', 'success']);
      for (const request of recorder.requests.slice(before)) {
        expect(request.method).toBe('POST');
        expect(request.path).toMatch(statusPath);
        expect(request.path).toContain(good);
      }
      const link = seen[1]!.link!;
      expect(link).toMatch(
        /^http:\/\/127\.0\.0\.1:\d+\/_local\/builds\/app-ci%3A[0-9a-f-]{36}\/log$/,
      );
      // The link shows the build's log: it checked out the pushed commit and ran the buildspec.
      const log = await (await fetch(link)).text();
      expect(log).toContain(`checked out ${good}`);
      expect(log).toContain('Phase complete: BUILD State: SUCCEEDED');
    });

    it('reports failure, with the reason, for a failing buildspec', async () => {
      const recorder = recorders.get(id)!;
      const before = recorder.requests.length;
      const answer = await deliver(
        serve.url,
        id,
        deliveryFor(
          kind,
          { fullName: 'acme/app', cloneUrl, branch: 'broken', sha: bad },
          secretOf(id),
        ),
      );
      expect(answer.status).toBe(202);
      const statuses = () => recorder.requests.slice(before).map((r) => statusOf(kind, r));
      await eventually(
        () => `${kind} statuses ${JSON.stringify(statuses())}\n${serve.log().slice(-3000)}`,
        () => statuses().some((s) => s.state !== 'pending'),
        40_000,
      );
      const seen = statuses();
      expect(seen.map((s) => s.state)).toEqual(['pending', 'failure']);
      expect(seen[1]!.description).toMatch(/BUILD failed/);
      expect(seen[1]!.link).toMatch(/\/_local\/builds\/app-ci%3A/);
    });
  },
);

describe('the server process', () => {
  it('logs JSON lines without any secret, and stops on SIGTERM with exit 0', async () => {
    const log = serve.log();
    for (const host of HOSTS) {
      expect(log).not.toContain(secretOf(host.id));
      expect(log).not.toContain(`token-${host.id}`);
    }
    const first = log.split('\n').find((line) => line.startsWith('{'))!;
    expect(JSON.parse(first).msg).toMatch(/local CodeBuild in this process/);
    const metrics = await (await fetch(`${serve.url}/metrics`)).text();
    expect(metrics).toMatch(/codebuild_run_builds_started_total\{project="app-ci"\} 8/);
    expect(metrics).toMatch(/codebuild_run_statuses_posted_total\{host="gh",state="success"\} 1/);
    expect(await serve.stop()).toBe(0);
    expect(serve.log()).toContain('"msg":"stopped"');
  });
});
